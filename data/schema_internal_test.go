package data

import "testing"

// TestFormatNumber: numbers in messages read as a person writes them, a
// whole one in plain digits (issue 17: 9.223372036854776e+18 was shown for
// an integer).
func TestFormatNumber(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want string
	}{
		{3, "3"}, {-2, "-2"}, {1e18, "1000000000000000000"}, {9223372036854775807, "9223372036854775808"},
		{3.9, "3.9"}, {0.1, "0.1"}, {1e-7, "1e-07"}, {1e25, "1e+25"}, {45.5, "45.5"},
	} {
		if got := formatNumber(tt.x); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.x, got, tt.want)
		}
	}
}
