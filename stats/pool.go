package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Group is the metrics of the rows that share one value of a subgroup
// column (a centre, an RT site).
type Group struct {
	Value     string `json:"value"` // "null" for the rows where the column is null
	N         int    `json:"n"`
	Positives int    `json:"positives"`
	// Metrics is nil when the group holds one outcome only: it has no AUC
	// and no calibration line.
	Metrics *Metrics `json:"metrics,omitempty"`
}

// PooledAUC summarizes the AUCs of groups (the centres of a validation by
// centre) by a random-effects meta-analysis: the mean AUC across groups,
// how much it varies between them, and the range in which a new group's
// AUC is expected to fall.
type PooledAUC struct {
	Groups int `json:"groups"` // groups pooled
	// LeftOut counts the groups that cannot be: one outcome only, or an AUC
	// of exactly 0 or 1 (whose logit and standard error are not finite).
	LeftOut int     `json:"left_out"`
	AUC     float64 `json:"auc"`
	Low     float64 `json:"auc_ci_low"` // 95% confidence interval of the mean (Hartung-Knapp)
	High    float64 `json:"auc_ci_high"`
	// PredLow and PredHigh bound the 95% prediction interval of the AUC in
	// a new group (Higgins, Thompson and Spiegelhalter 2009); zero with
	// fewer than three groups, which leave no degree of freedom for it.
	PredLow  float64 `json:"auc_prediction_low,omitempty"`
	PredHigh float64 `json:"auc_prediction_high,omitempty"`
	Tau2     float64 `json:"tau2"` // between-group variance of logit AUC
	I2       float64 `json:"i2"`   // share of the variation due to heterogeneity, in [0, 1]
	// Method is the estimator of Tau2.
	Method Tau2Method `json:"tau2_method"`
}

// Tau2Method names an estimator of the between-group variance.
type Tau2Method string

// The estimators PoolAUC offers; Veroniki et al. (Res Synth Methods 2016)
// recommend both, and they agree closely in their simulations.
const (
	// PauleMandel is the default: the variance at which the random-effects
	// weights' Q is its degrees of freedom (Paule and Mandel 1982).
	PauleMandel Tau2Method = "paule-mandel"
	// REML maximizes the restricted likelihood (metafor's default).
	REML Tau2Method = "reml"
)

// ParseTau2Method reads a method's name; "" is PauleMandel.
func ParseTau2Method(s string) (Tau2Method, error) {
	switch m := Tau2Method(s); m {
	case "":
		return PauleMandel, nil
	case PauleMandel, REML:
		return m, nil
	}
	return "", fmt.Errorf("unknown estimator of tau² %q (allowed: %s, %s)", s, PauleMandel, REML)
}

// ErrPool is wrapped by PoolAUC's error when fewer than two groups can be
// pooled.
var ErrPool = errors.New("cannot pool the AUCs")

// PoolAUC pools the AUCs of groups as Debray et al. recommend for the
// validation of a prediction model across centres (BMJ 2017;356:i6460): on
// the logit scale, each with the Hanley-McNeil standard error (Radiology
// 1982) carried by the delta method, by random effects with Paule and
// Mandel's estimate of the between-group variance (1982; preferred to
// DerSimonian and Laird's moments, which understate it with few groups:
// Veroniki et al. 2016), or by REML when method says so. The interval of the
// mean is Hartung and Knapp's (2001), with its scale floored at 1, as the
// normal one is too narrow with the few groups a validation by centre has
// (IntHout et al. 2014; Röver et al. 2015).
func PoolAUC(groups []Group, method Tau2Method) (*PooledAUC, error) {
	method, err := ParseTau2Method(string(method))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPool, err)
	}
	var y, v []float64 // logit AUC and its variance
	out := &PooledAUC{Method: method}
	for _, g := range groups {
		if g.Metrics == nil || g.Metrics.AUC <= 0 || g.Metrics.AUC >= 1 {
			out.LeftOut++
			continue
		}
		a := g.Metrics.AUC
		n1, n0 := float64(g.Positives), float64(g.N-g.Positives)
		q1, q2 := a/(2-a), 2*a*a/(1+a)
		varAUC := (a*(1-a) + (n1-1)*(q1-a*a) + (n0-1)*(q2-a*a)) / (n1 * n0)
		d := a * (1 - a) // d logit(a) / da = 1 / d
		y, v = append(y, math.Log(a/(1-a))), append(v, varAUC/(d*d))
	}
	k := len(y)
	out.Groups = k
	if k < 2 {
		return out, ErrPool
	}
	// Cochran's Q about the fixed-effect mean gives I².
	df := float64(k - 1)
	if q := generalizedQ(y, v, 0); q > 0 {
		out.I2 = math.Max(0, (q-df)/q)
	}
	if method == REML {
		out.Tau2 = reml(y, v)
	} else {
		out.Tau2 = pauleMandel(y, v)
	}
	// Random-effects weights.
	var rw, rwy float64
	for i := range y {
		w := 1 / (v[i] + out.Tau2)
		rw, rwy = rw+w, rwy+w*y[i]
	}
	mu, se := rwy/rw, math.Sqrt(1/rw)
	scale := 0.0 // the weighted residual variance about mu
	for i := range y {
		scale += (y[i] - mu) * (y[i] - mu) / (v[i] + out.Tau2)
	}
	scale /= df
	hk := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(0.975) * se * math.Sqrt(math.Max(1, scale))
	out.AUC, out.Low, out.High = Sigmoid(mu), Sigmoid(mu-hk), Sigmoid(mu+hk)
	if k >= 3 {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(k - 2)}.Quantile(0.975)
		half := t * math.Sqrt(out.Tau2+se*se)
		out.PredLow, out.PredHigh = Sigmoid(mu-half), Sigmoid(mu+half)
	}
	return out, nil
}

// generalizedQ is the weighted sum of squares of y about its weighted
// mean, with weights 1/(v + tau2).
func generalizedQ(y, v []float64, tau2 float64) float64 {
	var sw, swy float64
	for i := range y {
		w := 1 / (v[i] + tau2)
		sw, swy = sw+w, swy+w*y[i]
	}
	mu, q := swy/sw, 0.0
	for i := range y {
		q += (y[i] - mu) * (y[i] - mu) / (v[i] + tau2)
	}
	return q
}

// pauleMandel returns the tau² ≥ 0 at which generalizedQ equals k-1 (0 when
// it is below that already at 0), by the iteration of DerSimonian and
// Kacker (2007, appendix 8) that statsmodels uses, to a tighter tolerance.
// Q falls as tau² grows, and the iteration climbs to the root from below.
func pauleMandel(y, v []float64) float64 {
	df := float64(len(y) - 1)
	tau2 := 0.0
	for range 200 {
		var sw, swy float64
		for i := range y {
			w := 1 / (v[i] + tau2)
			sw, swy = sw+w, swy+w*y[i]
		}
		mu := swy / sw
		var q, slope float64
		for i := range y {
			w, r2 := 1/(v[i]+tau2), (y[i]-mu)*(y[i]-mu)
			q, slope = q+w*r2, slope+w*w*r2
		}
		ee := q - df
		if ee <= 0 || slope == 0 {
			break // at 0, no heterogeneity to estimate; later, the root reached from below
		}
		step := ee / slope
		tau2 += step
		if step <= 1e-14*math.Max(tau2, 1) {
			break
		}
	}
	return tau2
}

// reml returns the tau² ≥ 0 that maximizes the restricted log-likelihood
//
//	-1/2 sum log(v_i + tau²) - 1/2 log sum w_i - 1/2 sum w_i (y_i - mu)²,
//
// w_i = 1/(v_i + tau²) and mu their weighted mean: 0 if it falls from 0,
// else the root of its derivative. Fisher scoring (Viechtbauer, J Educ Behav
// Stat 2005) alone can swing between two values with many centres, so each
// of its steps is kept inside a bracket of the root, and the bracket halved
// where a step would leave it.
func reml(y, v []float64) float64 {
	// score returns twice the derivative and tr(P²), twice the expected
	// information.
	score := func(tau2 float64) (s, info float64) {
		var sw, sw2, sw3, swy float64
		for i := range y {
			w := 1 / (v[i] + tau2)
			sw, sw2, sw3, swy = sw+w, sw2+w*w, sw3+w*w*w, swy+w*y[i]
		}
		mu := swy / sw
		var sr float64 // sum w² (y - mu)²
		for i := range y {
			w := 1 / (v[i] + tau2)
			sr += w * w * (y[i] - mu) * (y[i] - mu)
		}
		return sr - (sw - sw2/sw), sw2 - 2*sw3/sw + (sw2/sw)*(sw2/sw)
	}
	s, info := score(0)
	if s <= 0 {
		return 0
	}
	lo, hi := 0.0, s/info
	for range 200 { // the score falls below 0 for a large enough tau²
		if sh, _ := score(hi); sh < 0 {
			break
		}
		lo, hi = hi, 2*hi
	}
	tau2 := (lo + hi) / 2
	for range 200 {
		s, info := score(tau2)
		if s > 0 {
			lo = tau2
		} else {
			hi = tau2
		}
		next := tau2 + s/info
		if !(next > lo && next < hi) {
			next = (lo + hi) / 2
		}
		if math.Abs(next-tau2) <= 1e-15*math.Max(tau2, 1) || hi-lo <= 1e-15*math.Max(hi, 1) {
			return next
		}
		tau2 = next
	}
	return tau2
}

// Describe says p in a sentence, for reports: the AUC across the values of
// the column by, its interval, a new value's prediction interval and the
// heterogeneity.
func (p *PooledAUC) Describe(by string) string {
	est := "Paule-Mandel"
	if p.Method == REML {
		est = "REML"
	}
	s := fmt.Sprintf("across the values of %s (random effects on the logit AUC, %s, Hartung-Knapp interval, %d pooled", by, est, p.Groups)
	if p.LeftOut > 0 {
		s += fmt.Sprintf(", %d without both outcomes left out", p.LeftOut)
	}
	s += fmt.Sprintf("): AUC %.3f (95%% CI %.3f-%.3f)", p.AUC, p.Low, p.High)
	if p.PredHigh > 0 {
		s += fmt.Sprintf("; in a new %s, the AUC is expected within %.3f-%.3f (95%% prediction interval)", by, p.PredLow, p.PredHigh)
	}
	return s + fmt.Sprintf("; between-%s heterogeneity tau² %.4f, I² %.0f%%.", by, p.Tau2, 100*p.I2)
}
