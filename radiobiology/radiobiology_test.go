package radiobiology

import (
	"math"
	"testing"
)

func TestDoseFormulas(t *testing.T) {
	// Values computed by hand: BED = D (1 + d/ab), EQD2 = D (d + ab) / (2 + ab).
	tests := []struct {
		name      string
		dose      float64
		n         int
		ab        float64
		d, bed, q float64
	}{
		{"8 Gy x 3", 24, 3, 10, 8, 43.2, 36.0},                             // 24*1.8; 24*18/12
		{"12.5 Gy x 4", 50, 4, 10, 12.5, 112.5, 93.75},                     // 50*2.25; 50*22.5/12
		{"3 Gy x 15", 45, 15, 10, 3, 58.5, 48.75},                          // 45*1.3; 45*13/12
		{"2 Gy x 30", 60, 30, 10, 2, 72, 60},                               // 60*1.2; 60*12/12
		{"20 Gy x 1", 20, 1, 10, 20, 60, 50},                               // 20*3; 20*30/12
		{"8 Gy x 3, alpha/beta 3", 24, 3, 3, 8, 88, 52.8},                  // 24*(1+8/3); 24*11/5
		{"no RT", 0, 0, 10, 0, 0, 0},                                       // defined, not NaN
		{"dose without fractions", 24, 0, 10, 0, 0, 0},                     // treated as no RT
		{"fractions without dose", 0, 5, 10, 0, 0, 0},                      // treated as no RT
		{"12.5 Gy x 4, alpha/beta 3", 50, 4, 3, 12.5, 258.3333333333, 155}, // 50*(1+12.5/3); 50*15.5/5
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DosePerFraction(tt.dose, tt.n); math.Abs(got-tt.d) > 1e-9 {
				t.Errorf("dose per fraction = %v, want %v", got, tt.d)
			}
			if got := BED(tt.dose, tt.n, tt.ab); math.Abs(got-tt.bed) > 1e-9 {
				t.Errorf("BED = %v, want %v", got, tt.bed)
			}
			if got := EQD2(tt.dose, tt.n, tt.ab); math.Abs(got-tt.q) > 1e-9 {
				t.Errorf("EQD2 = %v, want %v", got, tt.q)
			}
		})
	}
}

func TestEDIC(t *testing.T) {
	tests := []struct {
		mld, mhd, mbd float64
		n             int
		want          float64
	}{
		// 0.12*15 + 0.08*10 + (0.45 + 0.2975*sqrt(30/45))*5 = 2.6 + (0.45 + 0.2429077)*5 = 6.0645387
		{15, 10, 5, 30, 6.0645387},
		// n = 45: 0.12*10 + 0.08*5 + (0.45 + 0.2975)*4 = 1.6 + 2.99 = 4.59
		{10, 5, 4, 45, 4.59},
		{0, 0, 0, 3, 0},
	}
	for _, tt := range tests {
		if got := EDIC(tt.mld, tt.mhd, tt.mbd, tt.n); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("EDIC(%v, %v, %v, %d) = %.7f, want %.7f", tt.mld, tt.mhd, tt.mbd, tt.n, got, tt.want)
		}
	}
}
