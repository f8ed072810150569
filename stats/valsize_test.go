package stats_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/stats"
	"gonum.org/v1/gonum/stat/distuv"
)

// TestMinimumValidationSize checks each criterion against a reference:
// pmvalsampsize's own tests (cran/pmvalsampsize tests/testthat/test_bin.R,
// prevalence 0.018, C 0.8, O/E interval width 1) for the O/E and
// C-statistic criteria, and for the slope a case worked by hand and the
// integral over the normal linear predictor of its test 4.1, computed with
// scipy.integrate.quad (4553.88; pmvalsampsize's 4501 there comes from 1,000
// simulated patients).
func TestMinimumValidationSize(t *testing.T) {
	logistic := func(lp ...float64) []float64 {
		p := make([]float64, len(lp))
		for i, x := range lp {
			p[i] = 1 / (1 + math.Exp(-x))
		}
		return p
	}
	// 20,000 quantiles of N(-5, 2.5): the integral by the midpoint rule.
	normal := distuv.Normal{Mu: -5, Sigma: 2.5}
	quantiles := make([]float64, 20000)
	for i := range quantiles {
		quantiles[i] = normal.Quantile((float64(i) + 0.5) / float64(len(quantiles)))
	}
	tests := []struct {
		name        string
		prevalence  float64
		cstat       float64
		probs       []float64
		widths      stats.ValidationWidths
		oe, slope   int
		c           int
		slopeWithin float64 // relative tolerance of the slope's criterion; 0: exact
	}{
		// (1-0.018)/(0.018 se^2), se = asinh(0.5)/1.96 = 0.245516: 905.06.
		// pmvalsampsize's search in steps of 0.0001 stops at se 0.2456 and
		// gives 905.
		{"pmvalsampsize test 4.1", 0.018, 0.8, logistic(quantiles...), stats.ValidationWidths{OE: 1}, 906, 4554, 4252, 0.002},
		// LP -1, 0, 1: I00 = 0.2144080, I01 = 0, I11 = 0.1310746;
		// I00 / ((0.2/3.92)^2 (I00 I11 - I01^2)) = 2930.85.
		{"by hand, symmetric", 0.3, 0.7, logistic(-1, 0, 1), stats.ValidationWidths{}, 0, 2931, 0, 0},
		// LP -2, -1, 0.5: I00 = 0.1788697, I01 = -0.0963657, I11 = 0.2251124: 2218.07.
		{"by hand", 0.3, 0.7, logistic(-2, -1, 0.5), stats.ValidationWidths{}, 0, 2219, 0, 0},
	}
	for _, tt := range tests {
		v, err := stats.MinimumValidationSize(tt.prevalence, tt.cstat, tt.probs, tt.widths)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.oe != 0 && v.ForOE != tt.oe {
			t.Errorf("%s: O/E criterion %d, want %d", tt.name, v.ForOE, tt.oe)
		}
		if tt.c != 0 && v.ForC != tt.c {
			t.Errorf("%s: C-statistic criterion %d, want %d", tt.name, v.ForC, tt.c)
		}
		if d := math.Abs(float64(v.ForSlope-tt.slope)) / float64(tt.slope); d > tt.slopeWithin || (tt.slopeWithin == 0 && v.ForSlope != tt.slope) {
			t.Errorf("%s: slope criterion %d, want %d", tt.name, v.ForSlope, tt.slope)
		}
		if v.Minimum != max(v.ForOE, v.ForSlope, v.ForC) || v.Events != int(math.Ceil(float64(v.Minimum)*tt.prevalence)) {
			t.Errorf("%s: minimum %d (%d events) of %+v", tt.name, v.Minimum, v.Events, v)
		}
	}

	// The defaults: O/E 0.2 wide needs (1-0.018)/(0.018 (asinh(0.1)/1.96)^2)
	// = 21027.8 patients.
	v, _ := stats.MinimumValidationSize(0.018, 0.8, logistic(-1, 0, 1), stats.ValidationWidths{})
	if v.ForOE != 21028 || v.Widths != (stats.ValidationWidths{OE: 0.2, Slope: 0.2, C: 0.1}) {
		t.Errorf("defaults: %+v", v)
	}
	// A narrower interval needs more patients, criterion by criterion.
	w, _ := stats.MinimumValidationSize(0.018, 0.8, logistic(-1, 0, 1), stats.ValidationWidths{OE: 0.1, Slope: 0.1, C: 0.05})
	if w.ForOE <= v.ForOE || w.ForSlope <= v.ForSlope || w.ForC <= v.ForC {
		t.Errorf("narrower intervals %+v need no more than %+v", w, v)
	}

	for _, tt := range []struct {
		name       string
		prevalence float64
		cstat      float64
		probs      []float64
		want       string
	}{
		{"no prevalence", 0, 0.7, logistic(0, 1), "prevalence 0 must be in (0, 1)"},
		{"chance", 0.2, 0.5, logistic(0, 1), "C-statistic 0.5 must be in (0.5, 1)"},
		{"no predictions", 0.2, 0.7, nil, "no predictions"},
		{"one prediction for all", 0.2, 0.7, logistic(0.3, 0.3, 0.3), "hardly vary"},
	} {
		_, err := stats.MinimumValidationSize(tt.prevalence, tt.cstat, tt.probs, stats.ValidationWidths{})
		if !errors.Is(err, stats.ErrValidationSize) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}
