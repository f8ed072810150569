package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// z95 is the normal quantile of a 95% interval, as Riley et al. and
// pmvalsampsize write it.
const z95 = 1.96

// ValidationWidths are the widths of the 95% intervals an external
// validation should estimate its figures to; the zero value takes Riley et
// al.'s defaults.
type ValidationWidths struct {
	OE    float64 `json:"observed_expected"` // of the observed/expected ratio, around 1; default 0.2 (0.90-1.10)
	Slope float64 `json:"calibration_slope"` // default 0.2 (0.9-1.1 around 1)
	C     float64 `json:"c_statistic"`       // default 0.1 (±0.05)
}

// DefaultValidationWidths returns Riley et al.'s widths: 0.2 for the
// observed/expected ratio and the calibration slope, 0.1 for the
// C-statistic.
func DefaultValidationWidths() ValidationWidths {
	return ValidationWidths{OE: 0.2, Slope: 0.2, C: 0.1}
}

func (w ValidationWidths) orDefaults() ValidationWidths {
	d := DefaultValidationWidths()
	if w.OE == 0 {
		w.OE = d.OE
	}
	if w.Slope == 0 {
		w.Slope = d.Slope
	}
	if w.C == 0 {
		w.C = d.C
	}
	return w
}

// ValidationSize is the minimum sample size for an external validation of a
// model of a binary outcome by Riley et al.'s criteria (Stat Med
// 2021;40:4230-51; the R package pmvalsampsize): the patients for a 95%
// interval of the given widths around (1) the observed/expected ratio,
// (2) the calibration slope and (3) the C-statistic; the largest is the
// minimum. Criterion 2 needs the distribution of the model's linear
// predictor in the new population, which its covariates alone give: the
// model's predictions for them, not their outcomes.
type ValidationSize struct {
	Prevalence float64          `json:"prevalence"`  // anticipated in the new population
	CStatistic float64          `json:"c_statistic"` // anticipated
	Patients   int              `json:"patients"`    // predictions the linear predictor's distribution came from
	Widths     ValidationWidths `json:"widths"`
	ForOE      int              `json:"for_observed_expected"`
	ForSlope   int              `json:"for_calibration_slope"`
	ForC       int              `json:"for_c_statistic"`
	Minimum    int              `json:"minimum"`
	Events     int              `json:"events"` // the minimum's expected events
}

// ErrValidationSize is returned by MinimumValidationSize for inputs the
// criteria cannot work from.
var ErrValidationSize = errors.New("no validation sample size")

// MinimumValidationSize returns Riley et al.'s minimum sample size for
// validating a model whose calibrated probabilities for the new population's
// patients are probs, anticipating the outcome's prevalence there and the
// model's C-statistic (its cross-validated AUC, say), and assuming the model
// calibrated there (O/E 1, slope 1), as pmvalsampsize does by default.
//
// It departs from pmvalsampsize in two ways, both on purpose: the
// observed/expected criterion solves for its standard error exactly, where
// pmvalsampsize searches in steps of 0.0001 (905 patients for its example
// of prevalence 0.018 and width 1, 906 here); and the linear predictor is
// the model's own, not a simulated normal or beta distribution.
func MinimumValidationSize(prevalence, cstat float64, probs []float64, widths ValidationWidths) (ValidationSize, error) {
	w := widths.orDefaults()
	v := ValidationSize{Prevalence: prevalence, CStatistic: cstat, Patients: len(probs), Widths: w}
	switch {
	case !(prevalence > 0 && prevalence < 1):
		return v, fmt.Errorf("%w: prevalence %v must be in (0, 1)", ErrValidationSize, prevalence)
	case !(cstat > 0.5 && cstat < 1):
		return v, fmt.Errorf("%w: C-statistic %v must be in (0.5, 1): a model no better than chance has no validation to plan", ErrValidationSize, cstat)
	case !(w.OE > 0 && w.Slope > 0 && w.C > 0 && w.C < 1):
		return v, fmt.Errorf("%w: interval widths %+v must be positive (and under 1 for the C-statistic)", ErrValidationSize, w)
	case len(probs) == 0:
		return v, fmt.Errorf("%w: no predictions to take the linear predictor's distribution from", ErrValidationSize)
	}

	// (1) ln(O/E) has standard error sqrt((1-phi)/(n phi)); an interval
	// exp(±1.96 se) around O/E = 1 has width 2 sinh(1.96 se).
	seOE := math.Asinh(w.OE/2) / z95
	v.ForOE = ceilInt((1 - prevalence) / (prevalence * seOE * seOE))

	// (2) The calibration model logit(p) = a + b LP at a = 0, b = 1: the
	// variance of b is I00 / (n (I00 I11 - I01^2)), with the Fisher
	// information's elements averaged over the linear predictor.
	var i00, i01, i11 float64
	for _, p := range probs {
		v := p * (1 - p)
		if !(v > 0) { // p of 0 or 1: LP infinite, its weight 0 in the limit
			continue
		}
		lp := math.Log(p / (1 - p))
		i00 += v
		i01 += lp * v
		i11 += lp * lp * v
	}
	n := float64(len(probs))
	i00, i01, i11 = i00/n, i01/n, i11/n
	det := i00*i11 - i01*i01
	if !(det > 1e-12*i00*i11) {
		return v, fmt.Errorf("%w: the model's predictions for these %d patients hardly vary, so no calibration slope can be estimated from them", ErrValidationSize, len(probs))
	}
	seSlope := w.Slope / (2 * z95)
	v.ForSlope = ceilInt(i00 / (seSlope * seSlope * det))

	// (3) The smallest n whose C-statistic interval is at most w.C wide,
	// by Newcombe's standard error (Stat Med 2006;25:543-57), as
	// pmvalsampsize; the width falls with n.
	v.ForC = sort.Search(1<<30, func(n int) bool {
		return n >= 2 && 2*z95*cStatisticSE(cstat, prevalence, float64(n)) <= w.C
	})

	v.Minimum = max(v.ForOE, v.ForSlope, v.ForC)
	v.Events = ceilInt(float64(v.Minimum) * prevalence)
	return v, nil
}

// cStatisticSE is Newcombe's standard error of a C-statistic c estimated on
// n patients of whom a share prevalence have the outcome.
func cStatisticSE(c, prevalence, n float64) float64 {
	m := n/2 - 1
	v := c * (1 - c) * (1 + m*(1-c)/(2-c) + m*c/(1+c)) / (n * n * prevalence * (1 - prevalence))
	return math.Sqrt(v)
}

// ceilInt rounds x up to a whole number of patients; a hair above a whole
// number from rounding error does not add one.
func ceilInt(x float64) int {
	return int(math.Ceil(x - 1e-9))
}

// Describe says what the sample size is and where it came from, for a
// terminal.
func (v ValidationSize) Describe() string {
	return fmt.Sprintf("minimum %d patients (%d with the outcome at a prevalence of %.3f) by Riley et al.'s criteria (Stat Med 2021):\n"+
		"  %d for the observed/expected ratio within a 95%% interval %.2f wide, %d for the calibration slope (%.2f wide),\n"+
		"  %d for the C-statistic (%.2f wide, anticipating %.3f); the slope's from the model's predictions for %d patients",
		v.Minimum, v.Events, v.Prevalence, v.ForOE, v.Widths.OE, v.ForSlope, v.Widths.Slope, v.ForC, v.Widths.C, v.CStatistic, v.Patients)
}
