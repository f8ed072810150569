package train

import (
	"math"
	"testing"
)

// TestPauleMandelRoot: the estimate solves its estimating equation, Q at
// tau² equal to k-1, to far better than statsmodels' stopping rule; and it
// is 0 when Q at 0 is below k-1 already.
func TestPauleMandelRoot(t *testing.T) {
	y := []float64{1.046, 0.754, 1.450, 0.490, 1.208}
	v := []float64{0.0654, 0.0891, 0.0605, 0.1364, 0.0904}
	tau2 := pauleMandel(y, v)
	if q := generalizedQ(y, v, tau2); !(tau2 > 0) || math.Abs(q-4) > 1e-10 {
		t.Errorf("tau² %v gives Q %v, want 4", tau2, q)
	}
	same := []float64{1, 1.01, 0.99}
	if tau2 := pauleMandel(same, []float64{0.1, 0.1, 0.1}); tau2 != 0 {
		t.Errorf("close values: tau² %v, want 0", tau2)
	}
}
