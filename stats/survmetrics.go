package stats

import (
	"math"
	"sort"
)

// The measures of a survival model's predictions at a time, weighted by
// the inverse probability of censoring as riskRegression's Score computes
// them (Gerds and Schumacher, Biom J 2006; Blanche et al., Stat Med 2013),
// and checked against it in survmetrics_test.go.

// Censoring is the Kaplan-Meier estimate of the censoring distribution,
// G(t) = P(C > t) (the "reverse" Kaplan-Meier: a censoring is its event),
// from which a patient seen until t weighs 1/G(t).
type Censoring struct {
	times []float64 // censoring times, ascending
	surv  []float64 // G just after each
}

// CensoringOf estimates the censoring distribution of patients followed
// for time[i], event[i] telling whether follow-up ended with the event. An
// event at a time comes before a censoring at the same time (the patient
// with the event is no longer at risk of being censored then), as
// riskRegression's and prodlim's reverse Kaplan-Meier have it.
func CensoringOf(time []float64, event []bool) Censoring {
	idx := make([]int, len(time))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return time[idx[a]] < time[idx[b]] })
	var c Censoring
	g, atRisk := 1.0, len(time)
	for k := 0; k < len(idx); {
		t := time[idx[k]]
		events, censored := 0, 0
		for ; k < len(idx) && time[idx[k]] == t; k++ {
			if event[idx[k]] {
				events++
			} else {
				censored++
			}
		}
		atRisk -= events // gone before the censorings at t
		if censored > 0 {
			g *= 1 - float64(censored)/float64(atRisk)
			c.times = append(c.times, t)
			c.surv = append(c.surv, g)
		}
		atRisk -= censored
	}
	return c
}

// At is G(t): the probability of being still uncensored just after t.
func (c Censoring) At(t float64) float64 {
	k := sort.Search(len(c.times), func(i int) bool { return c.times[i] > t })
	if k == 0 {
		return 1
	}
	return c.surv[k-1]
}

// Before is G(t-): the probability of being uncensored just before t.
func (c Censoring) Before(t float64) float64 {
	k := sort.SearchFloat64s(c.times, t) // the first censoring at or after t
	if k == 0 {
		return 1
	}
	return c.surv[k-1]
}

// BrierAt is the Brier score at time t of the predicted probabilities
// surv[i] of being event-free at t: the mean squared difference from each
// patient's status at t, a patient who had the event by t weighing
// 1/G(T-), one still followed after t 1/G(t), and one censored before t
// nothing. Lower is better; a model that gives everyone the Kaplan-Meier
// estimate is the null model to beat.
func BrierAt(time []float64, event []bool, surv []float64, t float64, g Censoring) float64 {
	gt := g.At(t)
	sum := 0.0
	for i := range time {
		switch {
		case time[i] <= t && event[i]:
			sum += surv[i] * surv[i] / g.Before(time[i])
		case time[i] > t:
			sum += (1 - surv[i]) * (1 - surv[i]) / gt
		}
	}
	return sum / float64(len(time))
}

// TimeAUC is the cumulative/dynamic area under the ROC curve at time t of
// a risk score (higher: the event sooner): the chance that a patient who
// had the event by t has a higher risk than one still event-free after t,
// ties counting a half, each case weighted 1/G(T-). NaN without a case or
// a control.
func TimeAUC(time []float64, event []bool, risk []float64, t float64, g Censoring) float64 {
	type cs struct{ r, w float64 }
	var cases []cs
	var controls []float64
	for i := range time {
		switch {
		case time[i] <= t && event[i]:
			cases = append(cases, cs{risk[i], 1 / g.Before(time[i])})
		case time[i] > t:
			controls = append(controls, risk[i])
		}
	}
	if len(cases) == 0 || len(controls) == 0 {
		return math.NaN()
	}
	sort.Float64s(controls)
	var num, den float64
	for _, c := range cases {
		below := sort.SearchFloat64s(controls, c.r)                                               // controls with a lower risk
		tied := sort.Search(len(controls), func(j int) bool { return controls[j] > c.r }) - below // with the same
		num += c.w * (float64(below) + 0.5*float64(tied))
		den += c.w * float64(len(controls))
	}
	return num / den
}

// IntegratedBrier integrates Brier scores at ascending times as
// riskRegression's Score does (summary "ibs"): each score holds until the
// next time, and the sum is divided by the last time, so that a grid from
// near 0 gives the mean Brier score over the follow-up.
func IntegratedBrier(times, brier []float64) float64 {
	n := len(times)
	if n < 2 || times[n-1] <= 0 {
		return math.NaN()
	}
	sum := 0.0
	for k := 0; k+1 < n; k++ {
		sum += brier[k] * (times[k+1] - times[k])
	}
	return sum / times[n-1]
}
