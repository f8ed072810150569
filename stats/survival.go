package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// The survival statistics here are written out because no maintained Go
// library has them (gonum has no Kaplan-Meier, log-rank or Cox model); each
// is checked against statsmodels (duration.SurvfuncRight, survdiff, PHReg)
// in survival_test.go.

// KaplanMeier is the Kaplan-Meier estimate of a survival function: at each
// time at which an event occurred, in order, the survival probability just
// after it, with Greenwood's standard error (NaN after the last patient at
// risk has the event), the patients at risk just before it and the events;
// and End, the longest follow-up, where a plot of the curve stops.
type KaplanMeier struct {
	Times  []float64
	Surv   []float64
	SE     []float64
	AtRisk []int
	Events []int
	End    float64
}

// KaplanMeierOf estimates the survival function of patients followed for
// time[i], event[i] telling whether follow-up ended with the event (false:
// censored then).
func KaplanMeierOf(time []float64, event []bool) KaplanMeier {
	idx := make([]int, len(time))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return time[idx[a]] < time[idx[b]] })
	var km KaplanMeier
	s, greenwood := 1.0, 0.0
	atRisk := len(time)
	for i := 0; i < len(idx); {
		t := time[idx[i]]
		d, c := 0, 0
		for ; i < len(idx) && time[idx[i]] == t; i++ {
			if event[idx[i]] {
				d++
			} else {
				c++
			}
		}
		if d > 0 {
			s *= 1 - float64(d)/float64(atRisk)
			if atRisk > d {
				greenwood += float64(d) / float64(atRisk*(atRisk-d))
			} else {
				greenwood = math.NaN()
			}
			km.Times = append(km.Times, t)
			km.Surv = append(km.Surv, s)
			km.SE = append(km.SE, s*math.Sqrt(greenwood))
			km.AtRisk = append(km.AtRisk, atRisk)
			km.Events = append(km.Events, d)
		}
		atRisk -= d + c
		km.End = t
	}
	return km
}

// At is the estimated survival just after time t (1 before the first
// event).
func (k KaplanMeier) At(t float64) float64 {
	i := sort.Search(len(k.Times), func(i int) bool { return k.Times[i] > t })
	if i == 0 {
		return 1
	}
	return k.Surv[i-1]
}

// Quantile returns the time by which a share p of the patients had the
// event: the first event time at which the survival probability falls
// below 1-p (strictly, as SAS and statsmodels have it); ok is false when it
// never does (the median "not reached").
func (k KaplanMeier) Quantile(p float64) (t float64, ok bool) {
	for i, s := range k.Surv {
		if s < 1-p {
			return k.Times[i], true
		}
	}
	return 0, false
}

// QuantileCI returns the 95% interval of Quantile(p) by inverting tests of
// S(t) = 1-p on the complementary log-log scale (Brookmeyer and Crowley;
// SAS's LIFETEST, statsmodels' quantile_ci): the limits are event times,
// high is +Inf when the interval has no upper end, and ok is false when no
// time is in it.
func (k KaplanMeier) QuantileCI(p float64) (low, high float64, ok bool) {
	g := func(x float64) float64 { return math.Log(-math.Log(x)) }
	first, last := -1, -1
	for i, s := range k.Surv {
		gprime := -1 / (s * math.Log(s))
		r := (g(s) - g(1-p)) / (gprime * k.SE[i])
		if math.Abs(r) <= z95 { // NaN (no SE, or S of 0 or 1) is never in
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0, false
	}
	high = math.Inf(1)
	if last+1 < len(k.Times) {
		high = k.Times[last+1]
	}
	return k.Times[first], high, true
}

// riskSet is a time at which events occurred: the events there (all, and
// of the group) and the patients at risk just before it (all, and of the
// group). The log-rank test and the Cox model both work from these.
type riskSet struct{ d, d1, n, n1 float64 }

// riskSets returns the risk sets of patients followed for time[i] (event[i]:
// the follow-up ended with the event; in[i]: the patient is of the group),
// in order of time; tied times make one set.
func riskSets(time []float64, event, in []bool) []riskSet {
	idx := make([]int, len(time))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return time[idx[a]] < time[idx[b]] })
	var n1 float64
	for _, g := range in {
		if g {
			n1++
		}
	}
	n := float64(len(time))
	var sets []riskSet
	for i := 0; i < len(idx); {
		t := time[idx[i]]
		var d, d1, left, left1 float64
		for ; i < len(idx) && time[idx[i]] == t; i++ {
			j := idx[i]
			left++
			if in[j] {
				left1++
			}
			if event[j] {
				d++
				if in[j] {
					d1++
				}
			}
		}
		if d > 0 {
			sets = append(sets, riskSet{d: d, d1: d1, n: n, n1: n1})
		}
		n, n1 = n-left, n1-left1
	}
	return sets
}

// LogRank tests whether two groups (in[i] true: the first) have the same
// survival function, by the log-rank test: the chi-squared statistic on 1
// degree of freedom and its p-value.
func LogRank(time []float64, event, in []bool) (chi2, p float64) {
	var oMinusE, v float64
	for _, s := range riskSets(time, event, in) {
		if s.n > 1 {
			oMinusE += s.d1 - s.d*s.n1/s.n
			v += s.d * s.n1 / s.n * (1 - s.n1/s.n) * (s.n - s.d) / (s.n - 1)
		}
	}
	if v == 0 {
		return 0, 1
	}
	chi2 = oMinusE * oMinusE / v
	return chi2, distuv.ChiSquared{K: 1}.Survival(chi2)
}

// ErrCox is returned by CoxBinary when the hazard ratio cannot be
// estimated: a group without events, or one empty.
var ErrCox = errors.New("no hazard ratio")

// HazardRatio is a Cox model's hazard ratio of one group against the other,
// with its Wald 95% interval and p-value.
type HazardRatio struct {
	HR   float64 `json:"hr"`
	Low  float64 `json:"low"`
	High float64 `json:"high"`
	P    float64 `json:"p"`
}

// CoxBinary fits the Cox proportional hazards model with one covariate, the
// group (in[i] true: the group whose hazard ratio is given), by Newton's
// method on the partial likelihood with Breslow's handling of tied times
// (statsmodels' PHReg's default, and R's coxph with ties = "breslow").
func CoxBinary(time []float64, event, in []bool) (HazardRatio, error) {
	sets := riskSets(time, event, in)
	var events1, events0 float64
	for _, s := range sets {
		events1, events0 = events1+s.d1, events0+s.d-s.d1
	}
	if events1 == 0 || events0 == 0 {
		return HazardRatio{}, fmt.Errorf("%w: %v events in one group and %v in the other; each needs some", ErrCox, events1, events0)
	}
	// The partial likelihood's score and information at beta.
	scoreInfo := func(beta float64) (score, info float64) {
		e := math.Exp(beta)
		for _, s := range sets {
			w := s.n1 * e / (s.n1*e + (s.n - s.n1)) // the group's share of the risk set's hazard
			score += s.d1 - s.d*w
			info += s.d * w * (1 - w)
		}
		return score, info
	}
	beta, step := 0.0, math.Inf(1)
	for iter := 0; iter < 50 && math.Abs(step) >= 1e-12; iter++ {
		score, info := scoreInfo(beta)
		if info <= 0 {
			return HazardRatio{}, fmt.Errorf("%w: no information in the partial likelihood", ErrCox)
		}
		step = score / info
		beta += step
	}
	if math.Abs(step) > 1e-8 {
		return HazardRatio{}, fmt.Errorf("%w: Newton's method did not converge (the groups' events barely overlap in time)", ErrCox)
	}
	_, info := scoreInfo(beta)
	se := 1 / math.Sqrt(info)
	if math.IsNaN(beta) || math.IsInf(beta, 0) || !(se > 0) || math.IsInf(se, 0) {
		return HazardRatio{}, fmt.Errorf("%w: the partial likelihood has no maximum (one group's events all precede the other's)", ErrCox)
	}
	z := beta / se
	return HazardRatio{HR: math.Exp(beta), Low: math.Exp(beta - z95*se), High: math.Exp(beta + z95*se),
		P: 2 * distuv.UnitNormal.Survival(math.Abs(z))}, nil
}

// ConcordanceIndex is Harrell's C of a score that should be higher the
// longer a patient lives without the event (a predicted probability of
// response): over the pairs of patients in which the one with the shorter
// time had the event (times tied are not compared), the share in which
// that patient had the lower score, ties in the score counting a half. 0.5
// is chance. It takes O(n log n) time.
func ConcordanceIndex(time []float64, event []bool, score []float64) float64 {
	return concordance(time, event, score, nil)
}

// UnoC is Uno's concordance index (Uno et al., Stat Med 2011) of a score
// that should be higher the longer a patient lives without the event:
// Harrell's pairs with the shorter time at or before tau, each weighted by
// 1/G(T)^2, G the censoring distribution and T the shorter time, so that
// the index does not depend on the censoring. It is what R's survival
// computes as concordance(..., timewt = "n/G2", ymax = tau) for distinct
// times.
func UnoC(time []float64, event []bool, score []float64, tau float64, g Censoring) float64 {
	return concordance(time, event, score, func(i int) float64 {
		if time[i] > tau {
			return 0
		}
		gi := g.Before(time[i])
		return 1 / (gi * gi)
	})
}

// concordance is Harrell's C with each patient who had the event weighing
// its pairs by weight(i) (nil: 1).
func concordance(time []float64, event []bool, score []float64, weight func(i int) float64) float64 {
	n := len(time)
	// Ranks of the scores, ties sharing one, for a Fenwick tree over them.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return score[order[a]] < score[order[b]] })
	rank := make([]int, n)
	r := 0
	for k, i := range order {
		if k > 0 && score[i] != score[order[k-1]] {
			r++
		}
		rank[i] = r + 1
	}
	tree := make([]int, r+2)
	add := func(i int) {
		for ; i < len(tree); i += i & -i {
			tree[i]++
		}
	}
	count := func(i int) int { // how many added have rank <= i
		s := 0
		for ; i > 0; i -= i & -i {
			s += tree[i]
		}
		return s
	}
	// From the longest time down: every patient added has a longer time
	// than those still to come, except those sharing a time, added after
	// the whole tie has been compared.
	byTime := make([]int, n)
	for i := range byTime {
		byTime[i] = i
	}
	sort.Slice(byTime, func(a, b int) bool { return time[byTime[a]] > time[byTime[b]] })
	var concordant, pairs float64
	added := 0
	for k := 0; k < n; {
		t := time[byTime[k]]
		end := k
		for end < n && time[byTime[end]] == t {
			end++
		}
		for _, i := range byTime[k:end] {
			if !event[i] {
				continue
			}
			lower := count(rank[i] - 1)    // longer-lived with a lower score: discordant
			tied := count(rank[i]) - lower // the same score
			higher := added - lower - tied // a higher score: concordant
			if weight == nil {
				concordant += float64(higher) + 0.5*float64(tied)
				pairs += float64(added)
				continue
			}
			w := weight(i)
			concordant += w * (float64(higher) + 0.5*float64(tied))
			pairs += w * float64(added)
		}
		for _, i := range byTime[k:end] {
			add(rank[i])
			added++
		}
		k = end
	}
	if pairs == 0 {
		return math.NaN()
	}
	return concordant / pairs
}
