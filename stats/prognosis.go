package stats

import (
	"errors"
	"fmt"
	"math"
)

// MinSurvivalGroup is the fewest patients each side of the threshold needs
// for the survival comparison.
const MinSurvivalGroup = 10

// ErrSurvival is wrapped by the errors of SurvivalByPrediction.
var ErrSurvival = errors.New("no survival comparison")

// SurvivalSplit is how the patients a model gives a probability at or above
// its threshold (predicted to respond) fared against the others on a
// survival endpoint: what Chowell et al. showed of their response model
// (Nat Biotechnol 2022), a check that it ranks patients by more than the
// label it learnt. Computed on out-of-fold probabilities, it is free of the
// optimism of the model's own training rows.
type SurvivalSplit struct {
	Endpoint  string        `json:"endpoint"`
	Threshold float64       `json:"threshold"`
	Patients  int           `json:"patients"`
	Missing   int           `json:"missing"` // left out: follow-up or event status null
	High      SurvivalGroup `json:"predicted_high"`
	Low       SurvivalGroup `json:"predicted_low"`
	// LogRankChi2 and LogRankP test the two groups' survival functions.
	LogRankChi2 float64 `json:"logrank_chi2"`
	LogRankP    float64 `json:"logrank_p"`
	// HazardRatio is the high group's against the low group's (Cox).
	HazardRatio HazardRatio `json:"hazard_ratio"`
	// CIndex is Harrell's C of the probability itself: the share of
	// comparable pairs in which the patient with the event first had the
	// lower probability.
	CIndex float64 `json:"c_index"`

	// Curves are the two groups' Kaplan-Meier curves, high then low, for
	// a plot.
	Curves [2]KaplanMeier `json:"-"`
}

// SurvivalGroup is one side of a SurvivalSplit: its patients, events and
// median survival with its 95% interval (nil when not reached; High nil
// when the interval has no upper end).
type SurvivalGroup struct {
	N          int      `json:"n"`
	Events     int      `json:"events"`
	Median     *float64 `json:"median_months"`
	MedianLow  *float64 `json:"median_low"`
	MedianHigh *float64 `json:"median_high"`
}

// MedianText writes the group's median survival with its interval, in
// months: "12.9 (11.4-14.5)", "19.4 (8.6-not reached)", "not reached".
func (g SurvivalGroup) MedianText() string {
	if g.Median == nil {
		return "not reached"
	}
	s := fmt.Sprintf("%.1f", *g.Median)
	switch {
	case g.MedianLow == nil:
	case g.MedianHigh == nil:
		s += fmt.Sprintf(" (%.1f-not reached)", *g.MedianLow)
	default:
		s += fmt.Sprintf(" (%.1f-%.1f)", *g.MedianLow, *g.MedianHigh)
	}
	return s
}

// SurvivalByPrediction compares the survival of the patients whose
// probability p[i] is at least threshold with the others'; only the
// patients with ok[i] count. Each side needs MinSurvivalGroup patients.
func SurvivalByPrediction(endpoint string, p, time []float64, event, ok []bool, threshold float64) (*SurvivalSplit, error) {
	s := &SurvivalSplit{Endpoint: endpoint, Threshold: threshold}
	var tt, pp []float64
	var ee, high []bool
	for i := range p {
		if !ok[i] {
			s.Missing++
			continue
		}
		tt, ee, pp, high = append(tt, time[i]), append(ee, event[i]), append(pp, p[i]), append(high, p[i] >= threshold)
	}
	s.Patients = len(tt)
	var groups [2]struct {
		t []float64
		e []bool
	}
	for i := range tt {
		g := 1
		if high[i] {
			g = 0
		}
		groups[g].t, groups[g].e = append(groups[g].t, tt[i]), append(groups[g].e, ee[i])
	}
	for g, name := range []string{"at or above", "below"} {
		if n := len(groups[g].t); n < MinSurvivalGroup {
			return nil, fmt.Errorf("%w for %s: %d patients with a probability %s %.2f, fewer than %d (another --threshold may split them)",
				ErrSurvival, endpoint, n, name, threshold, MinSurvivalGroup)
		}
	}
	for g, dst := range []*SurvivalGroup{&s.High, &s.Low} {
		km := KaplanMeierOf(groups[g].t, groups[g].e)
		s.Curves[g] = km
		dst.N = len(groups[g].t)
		for _, e := range groups[g].e {
			if e {
				dst.Events++
			}
		}
		if m, ok := km.Quantile(0.5); ok {
			dst.Median = &m
		}
		if lo, hi, ok := km.QuantileCI(0.5); ok {
			dst.MedianLow = &lo
			if !math.IsInf(hi, 1) {
				dst.MedianHigh = &hi
			}
		}
	}
	s.LogRankChi2, s.LogRankP = LogRank(tt, ee, high)
	hr, err := CoxBinary(tt, ee, high)
	if err != nil {
		return nil, fmt.Errorf("%w for %s: %w", ErrSurvival, endpoint, err)
	}
	s.HazardRatio = hr
	if s.CIndex = ConcordanceIndex(tt, ee, pp); math.IsNaN(s.CIndex) {
		return nil, fmt.Errorf("%w for %s: no pair of patients in which the one with the shorter follow-up had the event", ErrSurvival, endpoint)
	}
	return s, nil
}

// Describe is one line of the training summary: "HR 0.55 (0.45-0.68),
// log-rank p < 0.001, C 0.61".
func (s *SurvivalSplit) Describe() string {
	return fmt.Sprintf("HR %.2f (%.2f-%.2f) for p >= %.2f, log-rank p %s, C %.3f", s.HazardRatio.HR, s.HazardRatio.Low, s.HazardRatio.High,
		s.Threshold, FormatP(s.LogRankP), s.CIndex)
}

// FormatP writes a p-value as journals do: "< 0.001" below it.
func FormatP(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3f", p)
}
