package models

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Calibrator maps a classifier's score (log-odds) to a calibrated
// probability. It is fitted on out-of-fold scores, never on the rows the
// classifier was trained on.
type Calibrator struct {
	Method string `json:"method"` // "platt", "isotonic" or "none"
	// Platt: p = sigmoid(A*score + B).
	A float64 `json:"a,omitempty"`
	B float64 `json:"b,omitempty"`
	// Isotonic: a non-decreasing piecewise-linear map from score to
	// probability through (X[i], Y[i]), constant beyond the ends.
	X []float64 `json:"x,omitempty"`
	Y []float64 `json:"y,omitempty"`
}

// Calibration methods.
const (
	CalibrationNone     = "none"
	CalibrationPlatt    = "platt"
	CalibrationIsotonic = "isotonic"
	// CalibrationIntercept names the intercept shift of ShiftIntercept (a
	// recalibration method, not a calibrator's: the shifted map is Platt's).
	CalibrationIntercept = "intercept"
)

// FitCalibrator fits method on scores and 0/1 labels.
func FitCalibrator(method string, scores, y []float64) (*Calibrator, error) {
	if len(scores) != len(y) || len(scores) == 0 {
		return nil, fmt.Errorf("calibration: %d scores for %d labels", len(scores), len(y))
	}
	switch method {
	case CalibrationNone, "":
		return &Calibrator{Method: CalibrationNone}, nil
	case CalibrationPlatt:
		a, b, err := fitPlatt(scores, y)
		if err != nil {
			return nil, err
		}
		return &Calibrator{Method: method, A: a, B: b}, nil
	case CalibrationIsotonic:
		x, v := fitIsotonic(scores, y)
		return &Calibrator{Method: method, X: x, Y: v}, nil
	}
	return nil, fmt.Errorf("calibration: unknown method %q (platt, isotonic or none)", method)
}

// ShiftIntercept returns c moved by the shift d on the log-odds scale that
// makes its probabilities' log loss on scores and 0/1 labels y smallest,
// and d: p = sigmoid(logit(c(score)) + d), "recalibration in the large"
// (Steyerberg, Clinical Prediction Models, ch. 20). It keeps c's slope, so
// it asks little of a small sample; at the optimum the mean probability
// equals the observed rate. Only a Platt or an uncalibrated c can be
// shifted so and stay a Platt map; labels of one class have no finite
// shift.
func ShiftIntercept(c *Calibrator, scores, y []float64) (*Calibrator, float64, error) {
	a, b := c.A, c.B
	switch c.Method {
	case CalibrationPlatt:
	case CalibrationNone, "":
		a, b = 1, 0
	default:
		return nil, 0, fmt.Errorf("calibration: an intercept shift needs a Platt or no calibration, not %s", c.Method)
	}
	if len(scores) != len(y) || len(scores) == 0 {
		return nil, 0, fmt.Errorf("calibration: %d scores for %d labels", len(scores), len(y))
	}
	npos := 0.0
	for _, v := range y {
		npos += v
	}
	if npos == 0 || npos == float64(len(y)) {
		return nil, 0, errors.New("calibration: labels of one class have no finite intercept shift")
	}
	// Newton's method on a convex function of one variable: the gradient
	// of the log loss is sum(p - y), its curvature sum(p(1-p)).
	d := 0.0
	for range 100 {
		var g, h float64
		for i, s := range scores {
			p := sigmoid(a*s + b + d)
			g += p - y[i]
			h += p * (1 - p)
		}
		step := g / h
		d -= step
		if math.Abs(step) < 1e-12 {
			break
		}
	}
	return &Calibrator{Method: CalibrationPlatt, A: a, B: b + d}, d, nil
}

// Apply returns the calibrated probability for a score.
func (c *Calibrator) Apply(score float64) float64 {
	switch c.Method {
	case CalibrationPlatt:
		return sigmoid(c.A*score + c.B)
	case CalibrationIsotonic:
		return interpolate(c.X, c.Y, score)
	}
	return sigmoid(score)
}

// fitPlatt fits sigmoid(A s + B) by Newton's method on the log loss, with
// Platt's smoothed targets (N+ + 1)/(N+ + 2) and 1/(N- + 2) that keep A and
// B finite on separable scores (Platt 1999; Lin, Lin and Weng 2007).
func fitPlatt(s, y []float64) (a, b float64, err error) {
	lo, hi, npos, nneg := plattTargets(y)
	t := make([]float64, len(y))
	for i, v := range y {
		t[i] = lo
		if v == 1 {
			t[i] = hi
		}
	}
	a, b = 1, math.Log((npos+1)/(nneg+1))
	loss := func(a, b float64) float64 {
		f := 0.0
		for i := range s {
			z := a*s[i] + b
			f += log1pexp(z) - t[i]*z
		}
		return f
	}
	f := loss(a, b)
	for it := 0; it < 100; it++ {
		var ga, gb, haa, hab, hbb float64
		for i := range s {
			p := sigmoid(a*s[i] + b)
			r, w := p-t[i], p*(1-p)
			ga += r * s[i]
			gb += r
			haa += w * s[i] * s[i]
			hab += w * s[i]
			hbb += w
		}
		haa += 1e-12
		hbb += 1e-12
		det := haa*hbb - hab*hab
		if det <= 0 {
			return 0, 0, errors.New("calibration: Platt scaling is singular (constant scores?)")
		}
		da, db := (hbb*ga-hab*gb)/det, (haa*gb-hab*ga)/det
		step := 1.0
		var na, nb, nf float64
		for h := 0; h < 40; h++ {
			na, nb = a-step*da, b-step*db
			if nf = loss(na, nb); nf <= f {
				break
			}
			step /= 2
		}
		done := math.Abs(na-a) < 1e-10 && math.Abs(nb-b) < 1e-10
		a, b, f = na, nb, nf
		if done {
			return a, b, nil
		}
	}
	return a, b, nil
}

// plattTargets returns Platt's smoothed targets for labels y: lo for a
// negative, hi for a positive, 1/(N- + 2) and (N+ + 1)/(N+ + 2), and the
// counts N+ and N-.
func plattTargets(y []float64) (lo, hi, npos, nneg float64) {
	for _, v := range y {
		if v == 1 {
			npos++
		} else {
			nneg++
		}
	}
	return 1 / (nneg + 2), (npos + 1) / (npos + 2), npos, nneg
}

// fitIsotonic runs pool-adjacent-violators on the targets ordered by score
// (ties pooled first), and keeps the first and last score of each block.
// The targets are Platt's smoothed labels, as fitPlatt's: on the labels
// themselves, a block of negatives at the low end (or of positives at the
// high end) maps to a probability of exactly 0 (or 1), which no patient
// should be given and which makes a log loss infinite. The blocks are the
// same either way (the targets are an increasing affine map of the labels);
// only their values move inwards, to [1/(N- + 2), (N+ + 1)/(N+ + 2)].
func fitIsotonic(s, y []float64) (xs, ys []float64) {
	lo, hi, _, _ := plattTargets(y)
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s[idx[a]] < s[idx[b]] })
	type block struct{ lo, hi, sum, n float64 }
	var bs []block
	for k := 0; k < len(idx); {
		j := k
		var sum float64
		for j < len(idx) && s[idx[j]] == s[idx[k]] {
			sum += lo + y[idx[j]]*(hi-lo)
			j++
		}
		bs = append(bs, block{s[idx[k]], s[idx[k]], sum, float64(j - k)})
		k = j
		for len(bs) > 1 && bs[len(bs)-2].sum/bs[len(bs)-2].n >= bs[len(bs)-1].sum/bs[len(bs)-1].n {
			last := bs[len(bs)-1]
			bs = bs[:len(bs)-1]
			p := &bs[len(bs)-1]
			p.hi, p.sum, p.n = last.hi, p.sum+last.sum, p.n+last.n
		}
	}
	for _, b := range bs {
		v := b.sum / b.n
		xs, ys = append(xs, b.lo), append(ys, v)
		if b.hi > b.lo {
			xs, ys = append(xs, b.hi), append(ys, v)
		}
	}
	return xs, ys
}

func interpolate(xs, ys []float64, x float64) float64 {
	n := len(xs)
	switch {
	case n == 0:
		return sigmoid(x)
	case x <= xs[0]:
		return ys[0]
	case x >= xs[n-1]:
		return ys[n-1]
	}
	j := sort.SearchFloat64s(xs, x) // xs[j-1] < x <= xs[j]
	x0, x1 := xs[j-1], xs[j]
	return ys[j-1] + (ys[j]-ys[j-1])*(x-x0)/(x1-x0)
}
