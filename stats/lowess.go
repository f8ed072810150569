package stats

import (
	"cmp"
	"math"
	"slices"
)

// Lowess returns the LOWESS smooth of y on x at each x, in input order:
// locally weighted linear regression with tricube weights over the nearest
// frac of the points (Cleveland, JASA 1979), without the robustness
// iterations, which an outcome of 0s and 1s has no use for. Points within
// delta of the last one fitted are interpolated linearly, not fitted.
//
// It is Cleveland's clowess as R's lowess(x, y, f, iter = 0, delta) runs it,
// rms::val.prob's smoother of a calibration curve. It is checked against
// statsmodels' lowess (train/testdata/lowess), which differs from clowess
// in one respect: clowess gives a weight of 0 to the points between 0.999
// and 1 of the window's half-width and of 1 to those within 0.001 of it,
// statsmodels the tricube's. Without those cutoffs the two agree to 1e-12;
// with them, to 1e-9. Written here: gonum has no local regression.
func Lowess(x, y []float64, frac, delta float64) []float64 {
	fit, _ := lowess(x, y, frac, delta, true)
	return fit
}

// lowess is Lowess, with clowess's weight cutoffs or, for the test against
// statsmodels, without; it returns the order of x too (indices of x in
// increasing order, ties in input order), which a plot of the curve needs.
func lowess(x, y []float64, frac, delta float64, cutoffs bool) (fitted []float64, order []int) {
	n := len(x)
	out := make([]float64, n)
	if n == 0 {
		return out, nil
	}
	order = make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Ties in input order: a total order, which an unstable sort keeps as
	// a stable one would, faster.
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(x[a], x[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	xs, ys := make([]float64, n), make([]float64, n)
	for k, i := range order {
		xs[k], ys[k] = x[i], y[i]
	}
	fit := make([]float64, n)
	if n == 1 {
		fit[0] = ys[0]
	} else {
		clowess(xs, ys, frac, delta, cutoffs, fit)
	}
	for k, i := range order {
		out[i] = fit[k]
	}
	return out, order
}

// clowess fits sorted x (and y) into fit: the routine of R's
// src/library/stats/src/lowess.c with iter = 0.
func clowess(x, y []float64, frac, delta float64, cutoffs bool, fit []float64) {
	n := len(x)
	ns := max(2, min(n, int(frac*float64(n)+1e-7)))
	w := make([]float64, n)
	nleft, nright, last, i := 0, ns-1, -1, 0
	for {
		// Move the window of ns nearest neighbours of x[i] right while
		// that brings it closer.
		for nright < n-1 {
			if x[i]-x[nleft] <= x[nright+1]-x[i] {
				break
			}
			nleft++
			nright++
		}
		var ok bool
		fit[i], ok = lowest(x, y, x[i], nleft, nright, cutoffs, w)
		if !ok {
			fit[i] = y[i]
		}
		if last < i-1 {
			// Interpolate the points skipped within delta.
			denom := x[i] - x[last]
			for j := last + 1; j < i; j++ {
				alpha := (x[j] - x[last]) / denom
				fit[j] = alpha*fit[i] + (1-alpha)*fit[last]
			}
		}
		last = i
		cut := x[last] + delta
		for i = last + 1; i < n; i++ {
			if x[i] > cut {
				break
			}
			if x[i] == x[last] {
				fit[i] = fit[last]
				last = i
			}
		}
		i = max(last+1, i-1)
		if last >= n-1 {
			return
		}
	}
}

// lowest fits the value at xs of the weighted line through the points
// nleft..nright (and any further right at the same distance), using w for
// the weights; ok is false when every weight is 0.
func lowest(x, y []float64, xs float64, nleft, nright int, cutoffs bool, w []float64) (ys float64, ok bool) {
	n := len(x)
	span := x[n-1] - x[0]
	h := math.Max(xs-x[nleft], x[nright]-xs)
	h9, h1 := 0.999*h, 0.001*h
	if !cutoffs {
		h9, h1 = math.Nextafter(h, 0), -1
	}
	a := 0.0
	j := nleft
	for ; j < n; j++ {
		w[j] = 0
		r := math.Abs(x[j] - xs)
		if r <= h9 {
			if r <= h1 {
				w[j] = 1
			} else {
				q := r / h
				q = 1 - q*q*q
				w[j] = q * q * q
			}
			a += w[j]
		} else if x[j] > xs {
			break
		}
	}
	nrt := j - 1
	if a <= 0 {
		return 0, false
	}
	for j := nleft; j <= nrt; j++ {
		w[j] /= a
	}
	if h > 0 {
		a = 0
		for j := nleft; j <= nrt; j++ {
			a += w[j] * x[j]
		}
		b := xs - a
		c := 0.0
		for j := nleft; j <= nrt; j++ {
			c += w[j] * (x[j] - a) * (x[j] - a)
		}
		if math.Sqrt(c) > 0.001*span {
			b /= c
			for j := nleft; j <= nrt; j++ {
				w[j] *= b*(x[j]-a) + 1
			}
		}
	}
	for j := nleft; j <= nrt; j++ {
		ys += w[j] * y[j]
	}
	return ys, true
}
