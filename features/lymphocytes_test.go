package features

import "testing"

func TestLymphopeniaGrade(t *testing.T) {
	// CTCAE v5 "lymphocyte count decreased", both sides of every boundary.
	tests := []struct {
		alc  float64
		want int
	}{
		{3.0, 0}, {1.0, 0}, {0.999, 1}, {0.8, 1}, {0.799, 2}, {0.5, 2}, {0.499, 3}, {0.2, 3}, {0.199, 4}, {0, 4},
	}
	for _, tt := range tests {
		if got := LymphopeniaGrade(tt.alc); got != tt.want {
			t.Errorf("LymphopeniaGrade(%v) = %d, want %d", tt.alc, got, tt.want)
		}
	}
}
