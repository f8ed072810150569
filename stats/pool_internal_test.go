package stats

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

// TestREMLMaximum: the estimate maximizes the restricted log-likelihood:
// its derivative, by central differences, is 0 there, and 0 is returned
// when the likelihood falls from 0 already.
func TestREMLMaximum(t *testing.T) {
	y := []float64{1.046, 0.754, 1.450, 0.490, 1.208}
	v := []float64{0.0654, 0.0891, 0.0605, 0.1364, 0.0904}
	loglik := func(tau2 float64) float64 {
		var sw, swy, sl float64
		for i := range y {
			w := 1 / (v[i] + tau2)
			sw, swy, sl = sw+w, swy+w*y[i], sl+math.Log(v[i]+tau2)
		}
		mu, q := swy/sw, 0.0
		for i := range y {
			q += (y[i] - mu) * (y[i] - mu) / (v[i] + tau2)
		}
		return -0.5 * (sl + math.Log(sw) + q)
	}
	tau2 := reml(y, v)
	const h = 1e-6
	if d := (loglik(tau2+h) - loglik(tau2-h)) / (2 * h); !(tau2 > 0) || math.Abs(d) > 1e-6 {
		t.Errorf("tau² %v: derivative %v, want 0", tau2, d)
	}
	if loglik(tau2) < loglik(tau2*0.9) || loglik(tau2) < loglik(tau2*1.1) {
		t.Errorf("tau² %v is not a maximum", tau2)
	}
	if tau2 := reml([]float64{1, 1.01, 0.99}, []float64{0.1, 0.1, 0.1}); tau2 != 0 {
		t.Errorf("close values: tau² %v, want 0", tau2)
	}
	// Fifteen centres on which plain Fisher scoring swings between 0 and
	// 0.069 for ever (the real cohort's cancer types, held out one at a
	// time, logistic model): the root of the derivative by scipy's brentq
	// is 0.02723771153689981.
	y = []float64{0.8907829723269425, 1.178654996341646, 0.5705448584676128, 0.412472845265569, 0.8329091229351043, 1.5063424034071262, 0.48008774831236156, 0.8602012652231117, 1.044337264394333, 0.3513978868378889, 0.4544365675504067, 0.6257058997644127, 0.8700778887190237, 0.9946225751440619, 0.4675968892151706}
	v = []float64{0.2739788722206808, 0.9060439560439557, 0.23474601887367136, 0.1285428215451876, 0.22906322223024692, 0.23566761848000317, 0.17662084578402198, 0.4340076590076593, 0.046730157197434695, 0.44896669727239313, 0.017152755635147187, 0.6540778581925147, 0.0966709303026856, 0.2562215465317916, 0.2082854872291085}
	if tau2 := reml(y, v); math.Abs(tau2-0.02723771153689981) > 1e-14 {
		t.Errorf("fifteen centres: tau² %.17g, scipy 0.02723771153689981", tau2)
	}
}
