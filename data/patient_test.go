package data

import "testing"

func TestUndefined(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		outcome   string
		dose      *float64
		undefined bool
	}{
		{"abscopal_response", nil, true},
		{"abscopal_response", f(0), true},
		{"abscopal_response", f(24), false},
		{"objective_response", nil, false},
		{"objective_response", f(24), false},
	}
	for _, tt := range tests {
		p := Patient{RTDoseGy: tt.dose}
		if got := p.Undefined(tt.outcome); (got != "") != tt.undefined {
			t.Errorf("%s, rt_dose_gy %v: %q", tt.outcome, tt.dose, got)
		}
	}
}
