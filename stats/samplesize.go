package stats

import (
	"errors"
	"fmt"
	"math"
)

// Riley et al.'s targets: an expected shrinkage of the coefficients of at
// least 0.9, at most 0.05 between the apparent and adjusted Nagelkerke R², and
// the overall risk within ±0.05 (a 95% interval).
const (
	targetShrinkage = 0.9
	targetOptimism  = 0.05
	riskMargin      = 0.05
)

// SampleSize sets the rows a training run had beside the minimum sample size
// for developing a prediction model of a binary outcome by Riley et al.'s
// three criteria (Stat Med 2019;38:1276-96; BMJ 2020;368:m441): the rows for
// (1) an expected shrinkage of at least 0.9, (2) an optimism of at most 0.05
// in Nagelkerke's R² and (3) the overall risk within ±0.05; the largest is
// the minimum. TRIPOD+AI asks for it (item 8).
//
// The criteria need the model's anticipated Cox-Snell R². A run supplies its
// own: that of its calibrated out-of-fold probabilities, an out-of-sample
// figure as the criteria want (Riley et al. take it from earlier studies).
// They are derived for regression; tree ensembles need more rows for the same
// inputs (van der Ploeg et al., BMC Med Res Methodol 2014;14:137), and
// criterion 1 understates the rows needed when the C-statistic exceeds 0.8
// (Pavlou et al., BMC Med Res Methodol 2024;24:146).
type SampleSize struct {
	Rows       int     `json:"rows"`
	Events     int     `json:"events"`
	Parameters int     `json:"parameters"` // candidate predictor parameters: the design's degrees of freedom (features.Pipeline.Parameters)
	Prevalence float64 `json:"prevalence"`
	// R2 is the anticipated Cox-Snell R², MaxR2 its largest possible value
	// at this prevalence.
	R2    float64 `json:"cox_snell_r2"`
	MaxR2 float64 `json:"max_cox_snell_r2"`
	// ForShrinkage, ForOptimism and ForRisk are the rows each criterion
	// needs; Minimum is the largest.
	ForShrinkage int `json:"for_shrinkage"`
	ForOptimism  int `json:"for_optimism"`
	ForRisk      int `json:"for_overall_risk"`
	Minimum      int `json:"minimum"`
	// ExpectedShrinkage is criterion 1 solved for the shrinkage at Rows: what
	// a regression's coefficients on these rows would need.
	ExpectedShrinkage float64 `json:"expected_shrinkage"`
}

// ErrNoR2 is returned by MinimumSampleSize when the anticipated R² is not in
// (0, 0.9) or above what the prevalence allows: a model that does no better
// than the base rate out of fold gives the overfitting criteria nothing to
// work from. The SampleSize returned with it has ForRisk but no Minimum.
var ErrNoR2 = errors.New("no sample size criteria for this R²")

// MinimumSampleSize returns Riley et al.'s minimum sample size for a model of
// parameters candidate parameters of a binary outcome of the given
// prevalence, with anticipated Cox-Snell R² r2, and the expected shrinkage
// at rows rows (0: none computed).
func MinimumSampleSize(rows, parameters int, prevalence, r2 float64) (SampleSize, error) {
	s := SampleSize{Rows: rows, Events: int(math.Round(float64(rows) * prevalence)), Parameters: parameters, Prevalence: prevalence, R2: r2}
	if parameters < 1 || !(prevalence > 0 && prevalence < 1) {
		return s, fmt.Errorf("sample size: %d parameters at prevalence %g: need at least one parameter and a prevalence in (0, 1)", parameters, prevalence)
	}
	// The largest Cox-Snell R² is that of a perfect model, 1 - L_null^(2/n)
	// (Riley et al. 2019, equation 23).
	lnNull := prevalence*math.Log(prevalence) + (1-prevalence)*math.Log(1-prevalence)
	s.MaxR2 = 1 - math.Exp(2*lnNull)
	z := 1.96 // as Riley et al. and their pmsampsize round it
	s.ForRisk = int(math.Ceil(z * z / (riskMargin * riskMargin) * prevalence * (1 - prevalence)))
	if !(r2 > 0 && r2 < targetShrinkage && r2 < s.MaxR2) {
		return s, fmt.Errorf("%w: %.4g (allowed: (0, %.3g))", ErrNoR2, r2, math.Min(targetShrinkage, s.MaxR2))
	}
	p := float64(parameters)
	rowsFor := func(shrinkage float64) int {
		return int(math.Ceil(p / ((shrinkage - 1) * math.Log(1-r2/shrinkage))))
	}
	s.ForShrinkage = rowsFor(targetShrinkage)
	// Criterion 2 is criterion 1 at the shrinkage that keeps the optimism in
	// Nagelkerke's R² to 0.05 (equation 25).
	s.ForOptimism = rowsFor(r2 / (r2 + targetOptimism*s.MaxR2))
	s.Minimum = max(s.ForShrinkage, s.ForOptimism, s.ForRisk)
	if rows > 0 {
		s.ExpectedShrinkage = expectedShrinkage(float64(rows), p, r2)
	}
	return s, nil
}

// expectedShrinkage solves criterion 1, n (S-1) ln(1 - R²/S) = p, for S in
// (R², 1): the left side falls from +Inf to 0 across it, so bisection finds
// the one root; 200 halvings reach the float64 spacing of the interval.
// (gonum has no scalar root finder.)
func expectedShrinkage(n, p, r2 float64) float64 {
	lo, hi := r2, 1.0
	for range 200 {
		mid := (lo + hi) / 2
		if mid == lo || mid == hi {
			break
		}
		if n*(mid-1)*math.Log(1-r2/mid) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// CoxSnellR2 returns the Cox-Snell R² of probabilities whose mean log loss is
// logLoss on labels of the given prevalence: 1 - exp(-LR/n), LR being twice
// the log-likelihood gained over the base rate.
func CoxSnellR2(logLoss, prevalence float64) float64 {
	lnNull := prevalence*math.Log(prevalence) + (1-prevalence)*math.Log(1-prevalence)
	return 1 - math.Exp(2*(logLoss+lnNull))
}

// Met reports whether the rows reach the minimum (false when there is none).
func (s SampleSize) Met() bool { return s.Minimum > 0 && s.Rows >= s.Minimum }

// SampleSizeOf is the SampleSize of a run's out-of-fold metrics for a model
// of parameters inputs; nil when the metrics have one outcome only.
func SampleSizeOf(m Metrics, parameters int) *SampleSize {
	if m.N == 0 {
		return nil
	}
	prevalence := float64(m.Positives) / float64(m.N)
	s, err := MinimumSampleSize(m.N, parameters, prevalence, CoxSnellR2(m.LogLoss, prevalence))
	if err != nil && !errors.Is(err, ErrNoR2) {
		return nil
	}
	return &s
}

// ValidationEvents is the fewest events, and non-events, that an external
// validation should have for stable estimates of discrimination and
// calibration (Collins, Ogundimu and Altman, Stat Med 2016;35:214-26; Riley
// et al., Stat Med 2021;40:4230-51, give a calculation, which needs the
// anticipated performance).
const ValidationEvents = 100

// SmallValidation returns a warning when the labelled rows m was computed on
// have fewer than ValidationEvents events or non-events, and "" otherwise.
func SmallValidation(m Metrics) string {
	events, non := m.Positives, m.N-m.Positives
	if events >= ValidationEvents && non >= ValidationEvents {
		return ""
	}
	return fmt.Sprintf("few patients for a validation: %d with the outcome and %d without, where at least %d of each are recommended "+
		"for stable estimates (Collins et al., Stat Med 2016); the intervals say how little these figures tell", events, non, ValidationEvents)
}
