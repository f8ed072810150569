package models

import (
	"math"
	"strings"
	"testing"
)

func TestIsotonicByHand(t *testing.T) {
	// Scores 1..6 with labels 0 1 0 1 1 0: PAV pools (1 0) -> keeps 0, then
	// (2:1, 3:0) -> 0.5 at [2, 3], then 4:1, 5:1, 6:0 violates -> pool
	// (4, 5, 6) = 2/3. On Platt's targets (3 positives, 3 negatives: 0 is
	// 1/5, 1 is 4/5) the blocks are the same and a block mean v becomes
	// 0.2 + 0.6 v: 0.2, 0.5 and 0.6.
	s := []float64{1, 2, 3, 4, 5, 6}
	y := []float64{0, 1, 0, 1, 1, 0}
	c, err := FitCalibrator(CalibrationIsotonic, s, y)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float64{1, 2, 3, 4, 6}
	wantY := []float64{0.2, 0.5, 0.5, 0.6, 0.6}
	if len(c.X) != len(wantX) {
		t.Fatalf("x %v y %v; want x %v y %v", c.X, c.Y, wantX, wantY)
	}
	for i := range wantX {
		if c.X[i] != wantX[i] || math.Abs(c.Y[i]-wantY[i]) > 1e-12 {
			t.Fatalf("x %v y %v; want x %v y %v", c.X, c.Y, wantX, wantY)
		}
	}
	for _, tt := range []struct{ s, want float64 }{{0, 0.2}, {1.5, 0.35}, {3.5, 0.55}, {10, 0.6}} {
		if got := c.Apply(tt.s); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Apply(%v) = %v, want %v", tt.s, got, tt.want)
		}
	}
	// Separable scores: never a probability of exactly 0 or 1, but 1/(N- + 2)
	// and (N+ + 1)/(N+ + 2).
	c, _ = FitCalibrator(CalibrationIsotonic, []float64{1, 2, 3, 4, 5}, []float64{0, 0, 0, 1, 1})
	if lo, hi := c.Apply(-100), c.Apply(100); math.Abs(lo-1.0/5) > 1e-12 || math.Abs(hi-3.0/4) > 1e-12 {
		t.Errorf("separable: %v and %v at the ends; want 1/5 and 3/4", lo, hi)
	}
}

func TestPlattRecoversAKnownSigmoid(t *testing.T) {
	// Labels drawn exactly in proportion: at score s, a share sigmoid(2s - 1)
	// of 1000 copies is positive; Platt must find A = 2, B = -1 closely.
	var s, y []float64
	for k := -20; k <= 20; k++ {
		sc := float64(k) / 5
		pos := int(math.Round(1000 * sigmoid(2*sc-1)))
		for i := 0; i < 1000; i++ {
			s = append(s, sc)
			y = append(y, b2f(i < pos))
		}
	}
	c, err := FitCalibrator(CalibrationPlatt, s, y)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(c.A-2) > 0.01 || math.Abs(c.B+1) > 0.01 {
		t.Errorf("A = %v, B = %v; want 2, -1", c.A, c.B)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestShiftIntercept checks the shift against values worked by hand.
func TestShiftIntercept(t *testing.T) {
	// Uncalibrated scores all 0 (p = 0.5) and 3 positives of 4: the best
	// constant log-odds is logit(3/4) = ln 3, so d = ln 3 and p = 3/4.
	c, d, err := ShiftIntercept(&Calibrator{Method: CalibrationNone}, []float64{0, 0, 0, 0}, []float64{1, 1, 1, 0})
	if err != nil || math.Abs(d-math.Log(3)) > 1e-12 || c.Method != CalibrationPlatt || c.A != 1 || math.Abs(c.Apply(0)-0.75) > 1e-12 {
		t.Errorf("d = %v, %+v, %v; want ln 3 = %v", d, c, err, math.Log(3))
	}
	// A Platt map keeps its slope and moves its intercept; at the optimum
	// the mean probability is the observed rate (the score equation).
	platt := &Calibrator{Method: CalibrationPlatt, A: 0.8, B: -0.3}
	s := []float64{-2, -1, -0.5, 0, 0.5, 1, 2, 3}
	y := []float64{0, 0, 1, 0, 1, 1, 1, 1}
	c, d, err = ShiftIntercept(platt, s, y)
	if err != nil || c.A != 0.8 || math.Abs(c.B-(-0.3+d)) > 1e-15 {
		t.Fatalf("%+v, %v, %v", c, d, err)
	}
	var sum float64
	for _, x := range s {
		sum += c.Apply(x)
	}
	if math.Abs(sum-5) > 1e-9 {
		t.Errorf("mean probability %v after the shift, want the observed 5/8", sum/8)
	}
	for _, tt := range []struct {
		c    *Calibrator
		y    []float64
		want string
	}{
		{&Calibrator{Method: CalibrationIsotonic, X: []float64{0, 1}, Y: []float64{0.2, 0.8}}, y, "needs a Platt or no calibration, not isotonic"},
		{platt, []float64{1, 1, 1, 1, 1, 1, 1, 1}, "labels of one class"},
	} {
		if _, _, err := ShiftIntercept(tt.c, s, tt.y); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
}
