package features

import (
	"fmt"
	"math"
)

// The numbers of knots a restricted cubic spline may have (Harrell,
// Regression Modeling Strategies, 2015, section 2.4.6: 3 to 5 usually do).
const (
	MinKnots = 3
	MaxKnots = 7
)

// knotQuantiles are Harrell's default places of k knots, as quantiles of
// the training values (rms::rcspline.eval, for 3 to 7 knots).
var knotQuantiles = map[int][]float64{
	3: {0.10, 0.5, 0.90},
	4: {0.05, 0.35, 0.65, 0.95},
	5: {0.05, 0.275, 0.5, 0.725, 0.95},
	6: {0.05, 0.23, 0.41, 0.59, 0.77, 0.95},
	7: {0.025, 0.1833, 0.3417, 0.5, 0.6583, 0.8167, 0.975},
}

// splineKnots places k knots at Harrell's quantiles of sorted, the training
// values: R's quantile type 7 (numpy's default), interpolating between
// order statistics. Knots that coincide, as a feature of few values gives,
// are an error.
func splineKnots(sorted []float64, k int) ([]float64, error) {
	qs := knotQuantiles[k]
	knots := make([]float64, len(qs))
	n := len(sorted)
	for i, q := range qs {
		h := q * float64(n-1)
		lo := int(math.Floor(h))
		hi := min(lo+1, n-1)
		knots[i] = sorted[lo] + (h-float64(lo))*(sorted[hi]-sorted[lo])
		if i > 0 && !(knots[i] > knots[i-1]) {
			return nil, fmt.Errorf("rcs with %d knots needs %d distinct quantiles; the training values give %v: fewer knots, or no spline for a feature of few values", k, k, knots[:i+1])
		}
	}
	return knots, nil
}

// splineTerm is the j-th nonlinear term (from 0, of len(knots)-2) of the
// restricted cubic spline with the given knots at x, scaled by the square
// of the outer knots' distance as rms does (norm 2), so that the terms are
// on the scale of x:
//
//	[(x-t_j)+^3 - (x-t_{k-1})+^3 (t_k-t_j)/(t_k-t_{k-1}) + (x-t_k)+^3 (t_{k-1}-t_j)/(t_k-t_{k-1})] / (t_k-t_1)^2
//
// (knots t_1..t_k, from 1). Beyond the outer knots it is linear in x.
func splineTerm(x float64, knots []float64, j int) float64 {
	k := len(knots)
	cube := func(d float64) float64 {
		if d <= 0 {
			return 0
		}
		return d * d * d
	}
	tj, tk1, tk := knots[j], knots[k-2], knots[k-1]
	v := cube(x-tj) - cube(x-tk1)*(tk-tj)/(tk-tk1) + cube(x-tk)*(tk1-tj)/(tk-tk1)
	d := tk - knots[0]
	return v / (d * d)
}

// checkSpline checks a decoded feature's spline: none, or MinKnots to
// MaxKnots increasing finite knots on a numeric feature, with a mean and a
// positive SD per term when it is standardized (and none when not).
func (f *Fitted) checkSpline() error {
	k := len(f.Knots)
	if k == 0 {
		if len(f.SplineMean) != 0 || len(f.SplineSD) != 0 {
			return fmt.Errorf("spline scales without knots")
		}
		return nil
	}
	if f.Kind != Numeric || k < MinKnots || k > MaxKnots {
		return fmt.Errorf("%d spline knots on a %s feature", k, f.Kind)
	}
	for i, t := range f.Knots {
		if math.IsNaN(t) || math.IsInf(t, 0) || i > 0 && !(t > f.Knots[i-1]) {
			return fmt.Errorf("spline knots %v are not increasing finite numbers", f.Knots)
		}
	}
	want := 0
	if f.Standardize {
		want = k - 2
	}
	if len(f.SplineMean) != want || len(f.SplineSD) != want {
		return fmt.Errorf("%d spline means and %d SDs for %d terms", len(f.SplineMean), len(f.SplineSD), want)
	}
	for _, sd := range f.SplineSD {
		if !(sd > 0) {
			return fmt.Errorf("spline term scale %v", sd)
		}
	}
	return nil
}
