// Package stats holds the statistics abscopal reports, each checked in its
// tests against a reference implementation (R, statsmodels, scikit-learn,
// metafor) named there: discrimination and calibration (AUC with bootstrap
// intervals, Brier score, log loss, calibration line and curves, the
// smoothed calibration curve and its ICI), decision curves, survival
// (Kaplan-Meier, log-rank, Cox with one binary covariate, Harrell's C),
// random-effects pooling of AUCs across centres, the corrected resampled t,
// prediction instability, and the minimum sample sizes of Riley et al. for
// developing and validating a model. It imports nothing of abscopal's.
package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Metrics are computed on out-of-fold predictions.
type Metrics struct {
	N         int     `json:"n"`
	Positives int     `json:"positives"`
	AUC       float64 `json:"auc"`
	AUCLow    float64 `json:"auc_ci_low"`  // bootstrap 95% CI (percentile)
	AUCHigh   float64 `json:"auc_ci_high"` //
	Brier     float64 `json:"brier"`
	LogLoss   float64 `json:"log_loss"`
	// CalIntercept is calibration-in-the-large: a in logit P(y) = a + logit(p).
	CalIntercept float64 `json:"calibration_intercept"`
	// CalSlope is b in logit P(y) = a + b logit(p); 1 is ideal.
	CalSlope    float64     `json:"calibration_slope"`
	Curve       []CurveBin  `json:"calibration_curve"` // deciles of p
	Threshold   float64     `json:"threshold"`
	Sensitivity float64     `json:"sensitivity"`
	Specificity float64     `json:"specificity"`
	Confusion   [2][2]int64 `json:"confusion"` // [actual][predicted]
	// DecisionCurve is the net benefit of acting on the model at the
	// thresholds of DecisionThresholds.
	DecisionCurve []NetBenefit `json:"decision_curve"`
	// ICI, E50, E90 and EMax summarize how far the probabilities lie from
	// the smoothed calibration curve (SmoothCalibration): the mean of
	// |curve(p) - p| over the rows (the integrated calibration index of
	// Austin and Steyerberg, Stat Med 2019; rms::val.prob's Eavg), its
	// median, 90th percentile and maximum. 0 is ideal.
	ICI  float64 `json:"ici"`
	E50  float64 `json:"e50"`
	E90  float64 `json:"e90"`
	EMax float64 `json:"emax"`
	// Smooth is the smoothed calibration curve at up to SmoothPoints
	// points, for a plot.
	Smooth []SmoothPoint `json:"calibration_smooth,omitempty"`
}

// SmoothPoint is a point of the smoothed calibration curve: the observed
// rate the curve gives at a predicted probability.
type SmoothPoint struct {
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// SmoothPoints is the most points Metrics.Smooth keeps.
const SmoothPoints = 101

// SmoothCalibration returns the smoothed calibration curve of p for labels
// y at each p, in input order: the Lowess of y on p with R's defaults for
// lowess (frac 2/3, delta 1% of p's range), as rms::val.prob draws it. It
// shows miscalibration the deciles' steps hide, and does without bins.
func SmoothCalibration(p, y []float64) []float64 {
	curve, _ := smoothCalibration(p, y)
	return curve
}

// smoothCalibration is SmoothCalibration, returning the order of p too.
func smoothCalibration(p, y []float64) (curve []float64, order []int) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range p {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return lowess(p, y, 2.0/3, 0.01*(hi-lo), true)
}

// calibrationErrors sets m's ICI, E50, E90, EMax and Smooth from p and y.
func (m *Metrics) calibrationErrors(p, y []float64) {
	if len(p) == 0 {
		return
	}
	curve, order := smoothCalibration(p, y)
	errs := make([]float64, len(p))
	for i := range p {
		errs[i] = math.Abs(curve[i] - p[i])
	}
	m.ICI = stat.Mean(errs, nil)
	slices.Sort(errs)
	m.E50, m.E90, m.EMax = quantile7(errs, 0.5), quantile7(errs, 0.9), errs[len(errs)-1]

	step := max(1, float64(len(p)-1)/float64(SmoothPoints-1))
	for k := 0.0; int(k) < len(p); k += step {
		i := order[int(k)]
		if n := len(m.Smooth); n > 0 && m.Smooth[n-1].Predicted == p[i] {
			continue
		}
		m.Smooth = append(m.Smooth, SmoothPoint{Predicted: p[i], Observed: curve[i]})
	}
	if last := order[len(p)-1]; m.Smooth[len(m.Smooth)-1].Predicted != p[last] {
		m.Smooth = append(m.Smooth, SmoothPoint{Predicted: p[last], Observed: curve[last]})
	}
}

// quantile7 returns the q-quantile of sorted xs by linear interpolation
// between order statistics (R's default, type 7; numpy's "linear").
// gonum's stat.Quantile offers R's types 1 and 4 only.
func quantile7(xs []float64, q float64) float64 {
	h := q * float64(len(xs)-1)
	lo := int(h)
	if lo+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

// NetBenefit is one point of a decision curve (Vickers and Elkin, Med Decis
// Making 2006): at a threshold probability pt, acting on every patient with
// p >= pt gains TP/n and costs FP/n x pt/(1-pt), the odds at which a
// clinician is indifferent between acting and not. Acting on no one has a
// net benefit of 0.
type NetBenefit struct {
	Threshold float64 `json:"threshold"`
	Model     float64 `json:"model"`
	TreatAll  float64 `json:"treat_all"` // acting on every patient
}

// DecisionThresholds returns the threshold probabilities of Evaluate's
// decision curve: 5% to 50% in steps of 5%, where a decision about adding or
// choosing a treatment plausibly lies; a threshold above 50% would mean a
// harm weighed above the benefit.
func DecisionThresholds() []float64 {
	return []float64{0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50}
}

// DecisionCurve returns the net benefit of the predictions p for labels y
// at each threshold, with that of acting on everyone.
func DecisionCurve(p, y []float64, thresholds []float64) []NetBenefit {
	n, prevalence := float64(len(p)), 0.0
	for _, v := range y {
		prevalence += v
	}
	prevalence /= n
	out := make([]NetBenefit, len(thresholds))
	for k, pt := range thresholds {
		var tp, fp float64
		for i := range p {
			if p[i] >= pt {
				tp += y[i]
				fp += 1 - y[i]
			}
		}
		odds := pt / (1 - pt)
		out[k] = NetBenefit{Threshold: pt, Model: tp/n - fp/n*odds, TreatAll: prevalence - (1-prevalence)*odds}
	}
	return out
}

// CurveBin is one bin of the calibration curve.
type CurveBin struct {
	N         int     `json:"n"`
	Predicted float64 `json:"mean_predicted"`
	Observed  float64 `json:"observed_rate"`
	// ObservedLow and ObservedHigh bound the observed rate: Wilson's 95%
	// score interval, which stays inside [0, 1] for small bins and rates
	// near 0 or 1.
	ObservedLow  float64 `json:"observed_ci_low"`
	ObservedHigh float64 `json:"observed_ci_high"`
}

// wilson returns Wilson's 95% score interval for k successes in n trials
// (Wilson 1927; Newcombe, Stat Med 1998, method 3).
func wilson(k, n float64) (lo, hi float64) {
	const z = 1.959963984540054 // the 97.5% normal quantile
	if n == 0 {
		return 0, 1
	}
	p, z2 := k/n, z*z
	centre := (p + z2/(2*n)) / (1 + z2/n)
	half := z / (1 + z2/n) * math.Sqrt(p*(1-p)/n+z2/(4*n*n))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// AUC returns the area under the ROC curve: the probability that a random
// positive scores above a random negative, ties counting half (the
// Mann-Whitney U statistic with average ranks).
func AUC(p, y []float64) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var rankSum, npos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += avg
				npos++
			}
		}
		i = j
	}
	nneg := float64(len(p)) - npos
	if npos == 0 || nneg == 0 {
		return math.NaN()
	}
	return (rankSum - npos*(npos+1)/2) / (npos * nneg)
}

// ranked holds predictions sorted once, so that the AUC of a bootstrap
// resample costs O(n) instead of a sort: a resample is the original rows
// taken w[i] times each, and the Mann-Whitney statistic of weighted rows
// needs only their order. Its U is a sum of half-integers, exact in a
// float64, so the result is bit for bit AUC of the materialized resample.
type ranked struct {
	order []int // rows by increasing prediction
	ends  []int // end (exclusive) in order of each group of tied predictions
	y     []float64
}

func newRanked(p, y []float64) *ranked {
	r := &ranked{order: make([]int, len(p)), y: y}
	for i := range r.order {
		r.order[i] = i
	}
	sort.Slice(r.order, func(a, b int) bool { return p[r.order[a]] < p[r.order[b]] })
	for i := 0; i < len(r.order); {
		j := i + 1
		for j < len(r.order) && p[r.order[j]] == p[r.order[i]] {
			j++
		}
		r.ends = append(r.ends, j)
		i = j
	}
	return r
}

// auc returns the AUC with row i counted w[i] times: NaN when the weighted
// rows hold one class only. U counts, for every positive, the negatives
// ranked below it and half of those tied with it.
func (r *ranked) auc(w []float64) float64 {
	var u, npos, negBelow float64
	start := 0
	for _, end := range r.ends {
		var pw, nw float64
		for _, i := range r.order[start:end] {
			if r.y[i] == 1 {
				pw += w[i]
			} else {
				nw += w[i]
			}
		}
		u += pw * (negBelow + nw/2)
		negBelow += nw
		npos += pw
		start = end
	}
	if npos == 0 || negBelow == 0 {
		return math.NaN()
	}
	return u / (npos * negBelow)
}

// Brier returns the mean squared error of the probabilities.
func Brier(p, y []float64) float64 {
	s := 0.0
	for i := range p {
		s += (p[i] - y[i]) * (p[i] - y[i])
	}
	return s / float64(len(p))
}

// LogLoss returns the mean negative log-likelihood, with p clipped to
// [1e-15, 1 - 1e-15] as scikit-learn does.
func LogLoss(p, y []float64) float64 {
	s := 0.0
	for i := range p {
		q := math.Min(math.Max(p[i], 1e-15), 1-1e-15)
		if y[i] == 1 {
			s -= math.Log(q)
		} else {
			s -= math.Log(1 - q)
		}
	}
	return s / float64(len(p))
}

// CalibrationLine returns the calibration intercept (with logit(p) as an
// offset) and slope (logit(p) as the only covariate) by Newton's method
// (Van Calster et al., J Clin Epidemiol 2016).
func CalibrationLine(p, y []float64) (intercept, slope float64) {
	lp := make([]float64, len(p))
	for i, q := range p {
		q = math.Min(math.Max(q, 1e-12), 1-1e-12)
		lp[i] = math.Log(q / (1 - q))
	}
	intercept, _ = fitLine(lp, y, true)
	_, slope = fitLine(lp, y, false)
	return intercept, slope
}

// fitLine fits logit P(y) = b0 + b1 lp by maximum likelihood, with b1 held
// at 1 when fixedSlope: Newton's method, each step halved until the
// likelihood does not fall. Plain Newton diverges from b1 = 1 when some lp
// are extreme (predictions of 0 or 1); the halving keeps it on the way to
// the maximum.
func fitLine(lp, y []float64, fixedSlope bool) (b0, b1 float64) {
	nll := func(b0, b1 float64) float64 {
		f := 0.0
		for i := range lp {
			z := b0 + b1*lp[i]
			f += math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z))) - y[i]*z // log(1 + e^z) - y z
		}
		return f
	}
	b1 = 1
	f := nll(b0, b1)
	for it := 0; it < 100; it++ {
		var g0, g1, h00, h01, h11 float64
		for i := range lp {
			pr := Sigmoid(b0 + b1*lp[i])
			r, w := pr-y[i], pr*(1-pr)
			g0 += r
			g1 += r * lp[i]
			h00 += w
			h01 += w * lp[i]
			h11 += w * lp[i] * lp[i]
		}
		var d0, d1 float64
		if fixedSlope {
			if h00 <= 0 {
				break
			}
			d0 = g0 / h00
		} else {
			det := h00*h11 - h01*h01
			if det <= 0 {
				break
			}
			d0, d1 = (h11*g0-h01*g1)/det, (h00*g1-h01*g0)/det
		}
		step, moved := 1.0, false
		for h := 0; h < 50; h++ {
			n0, n1 := b0-step*d0, b1-step*d1
			if nf := nll(n0, n1); nf <= f {
				b0, b1, f, moved = n0, n1, nf, true
				break
			}
			step /= 2
		}
		if !moved || step*(math.Abs(d0)+math.Abs(d1)) < 1e-12 {
			break
		}
	}
	return b0, b1
}

// Curve bins the predictions into (up to) bins groups of equal size by
// predicted probability, with a 95% interval for each bin's observed rate.
func Curve(p, y []float64, bins int) []CurveBin {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var out []CurveBin
	for b := 0; b < bins; b++ {
		lo, hi := b*len(idx)/bins, (b+1)*len(idx)/bins
		if hi <= lo {
			continue
		}
		var sp, sy float64
		for _, i := range idx[lo:hi] {
			sp += p[i]
			sy += y[i]
		}
		n := float64(hi - lo)
		low, high := wilson(sy, n)
		out = append(out, CurveBin{N: hi - lo, Predicted: sp / n, Observed: sy / n, ObservedLow: low, ObservedHigh: high})
	}
	return out
}

// CompareAUC returns AUC(a) - AUC(b) for two models' predictions of the
// same rows with labels y, and a 95% percentile interval from paired
// bootstrap resamples: each resample draws rows once and scores both
// models on them, so the interval allows for the correlation of two models
// judged on the same patients, which two separate intervals would not.
func CompareAUC(a, b, y []float64, resamples int, seed uint64) (diff, lo, hi float64) {
	diff = AUC(a, y) - AUC(b, y)
	if resamples <= 0 {
		return diff, diff, diff
	}
	rng := rand.New(rand.NewPCG(seed, 0xd1ff))
	n := len(y)
	ra, rb := newRanked(a, y), newRanked(b, y)
	w := make([]float64, n)
	diffs := make([]float64, 0, resamples)
	for r := 0; r < resamples; r++ {
		clear(w)
		for range n {
			w[rng.IntN(n)]++
		}
		if d := ra.auc(w) - rb.auc(w); !math.IsNaN(d) {
			diffs = append(diffs, d)
		}
	}
	if len(diffs) == 0 {
		return diff, math.NaN(), math.NaN()
	}
	lo, hi = interval95(diffs)
	return diff, lo, hi
}

// interval95 returns the 2.5th and 97.5th percentiles of xs (sorting it).
func interval95(xs []float64) (lo, hi float64) { return Central95(xs) }

// Central95 returns the 2.5th and 97.5th percentiles of xs (the order
// statistics at those ranks, as the stability analysis takes them); it
// sorts xs.
func Central95(xs []float64) (lo, hi float64) {
	slices.Sort(xs)
	return xs[int(0.025*float64(len(xs)))], xs[min(len(xs)-1, int(0.975*float64(len(xs))))]
}

// Evaluate computes every metric. The AUC interval comes from bootstrap
// resamples of the rows (percentile method), seeded for reproducibility.
func Evaluate(p, y []float64, threshold float64, bootstrap int, seed uint64) Metrics {
	m := Metrics{N: len(p), AUC: AUC(p, y), Brier: Brier(p, y), LogLoss: LogLoss(p, y), Threshold: threshold}
	for i := range p {
		actual, pred := int(y[i]), 0
		if p[i] >= threshold {
			pred = 1
		}
		m.Confusion[actual][pred]++
		m.Positives += actual
	}
	if tp, fn := m.Confusion[1][1], m.Confusion[1][0]; tp+fn > 0 {
		m.Sensitivity = float64(tp) / float64(tp+fn)
	}
	if tn, fp := m.Confusion[0][0], m.Confusion[0][1]; tn+fp > 0 {
		m.Specificity = float64(tn) / float64(tn+fp)
	}
	m.CalIntercept, m.CalSlope = CalibrationLine(p, y)
	m.Curve = Curve(p, y, 10)
	m.DecisionCurve = DecisionCurve(p, y, DecisionThresholds())
	m.calibrationErrors(p, y)
	if bootstrap > 0 {
		rng := rand.New(rand.NewPCG(seed, 0xb0075))
		aucs := make([]float64, 0, bootstrap)
		rp, w := newRanked(p, y), make([]float64, len(p))
		for b := 0; b < bootstrap; b++ {
			clear(w)
			for range len(p) {
				w[rng.IntN(len(p))]++
			}
			if a := rp.auc(w); !math.IsNaN(a) {
				aucs = append(aucs, a)
			}
		}
		if len(aucs) > 0 {
			m.AUCLow, m.AUCHigh = interval95(aucs)
		}
	}
	return m
}

// Sigmoid is the logistic function, 1/(1 + e^-z), the inverse of the
// logit: a probability from log-odds. For z far below 0, e^-z overflows to
// +Inf, and the quotient is 0, its limit.
func Sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
