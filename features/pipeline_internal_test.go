package features

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestMeanSDMatchesGonum checks the pipeline's scaling against gonum's
// population mean and standard deviation, and its median against a worked
// case: they agree to 1e-12 relative (not to the bit: see meanSD).
func TestMeanSDMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 200 {
		xs := make([]float64, 2+rng.IntN(3000))
		for i := range xs {
			xs[i] = 10 + 3*rng.NormFloat64()
		}
		m, sd := meanSD(xs)
		gm, gsd := stat.PopMeanStdDev(xs, nil)
		if math.Abs(m-gm) > 1e-12*math.Abs(gm) || math.Abs(sd-gsd) > 1e-12*gsd {
			t.Fatalf("case %d (%d values): mean %v sd %v, gonum %v %v", k, len(xs), m, sd, gm, gsd)
		}
	}
	if got := median([]float64{1, 2, 3, 10}); got != 2.5 {
		t.Errorf("median of 1 2 3 10 = %v, want 2.5", got)
	}
	if got := median([]float64{1, 2, 10}); got != 2 {
		t.Errorf("median of 1 2 10 = %v, want 2", got)
	}
}
