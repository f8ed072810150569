package stats

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestMinimumSampleSize(t *testing.T) {
	tests := []struct {
		name                             string
		rows, params                     int
		prevalence, r2                   float64
		shrinkage, optimism, risk, least int
		maxR2                            float64
	}{
		// Riley et al., Stat Med 2019;38:1276-96, the diagnostic model for
		// Chagas disease: 24 parameters, prevalence 0.174, R² 0.288. The
		// paper gives an EPP of at least 4.8 (662 x 0.174 / 24); the three
		// counts and the largest R² are the paper's equations worked by hand
		// (python3: 24/(-0.1*log(1-0.288/0.9)) = 622.31, and so on).
		{"Chagas", 0, 24, 0.174, 0.288, 623, 662, 221, 662, 0.6032086677670352},
		// A balanced outcome: the largest R² is 1 - 0.5^2 = 0.75, criterion
		// 3 is 1.96²/0.05² x 0.25 = 384.16, criteria 1 and 2 849.02 and
		// 247.88 by the same equations.
		{"balanced", 1000, 10, 0.5, 0.1, 850, 248, 385, 850, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := MinimumSampleSize(tt.rows, tt.params, tt.prevalence, tt.r2)
			if err != nil {
				t.Fatal(err)
			}
			if s.ForShrinkage != tt.shrinkage || s.ForOptimism != tt.optimism || s.ForRisk != tt.risk || s.Minimum != tt.least {
				t.Errorf("rows for shrinkage, optimism, risk, minimum = %d, %d, %d, %d; want %d, %d, %d, %d",
					s.ForShrinkage, s.ForOptimism, s.ForRisk, s.Minimum, tt.shrinkage, tt.optimism, tt.risk, tt.least)
			}
			if math.Abs(s.MaxR2-tt.maxR2) > 1e-12 {
				t.Errorf("max R² %v, want %v", s.MaxR2, tt.maxR2)
			}
			if s.Met() != (tt.rows >= tt.least) {
				t.Errorf("Met() = %v with %d rows of %d", s.Met(), tt.rows, tt.least)
			}
		})
	}
	s, _ := MinimumSampleSize(0, 24, 0.174, 0.288)
	if epp := float64(s.Minimum) * 0.174 / 24; math.Round(epp*10)/10 != 4.8 {
		t.Errorf("events per parameter at the minimum %.3f, the paper's 4.8", epp)
	}
}

// TestExpectedShrinkage checks the root against criterion 1 itself: at the
// unrounded rows criterion 1 gives for 0.9, the expected shrinkage is 0.9;
// more rows shrink less.
func TestExpectedShrinkage(t *testing.T) {
	n := 24 / (-0.1 * math.Log(1-0.288/0.9))
	if got := expectedShrinkage(n, 24, 0.288); math.Abs(got-0.9) > 1e-12 {
		t.Errorf("expected shrinkage at %.4f rows = %.15f, want 0.9", n, got)
	}
	s, err := MinimumSampleSize(1184, 24, 0.174, 0.288)
	if err != nil {
		t.Fatal(err)
	}
	if !(s.ExpectedShrinkage > 0.9 && s.ExpectedShrinkage < 1) {
		t.Errorf("expected shrinkage at 1184 rows %v, want in (0.9, 1)", s.ExpectedShrinkage)
	}
	if s.Events != 206 {
		t.Errorf("events %d, want round(1184 x 0.174) = 206", s.Events)
	}
}

func TestMinimumSampleSizeRefused(t *testing.T) {
	for _, tt := range []struct {
		params     int
		prevalence float64
		r2         float64
		noR2       bool
	}{
		{24, 0.174, 0, true},     // no better than the base rate
		{24, 0.174, -0.01, true}, // worse
		{24, 0.174, 0.61, true},  // above the largest possible, 0.603
		{24, 0.5, 0.9, true},     // no shrinkage target below it
		{0, 0.174, 0.2, false},
		{24, 0, 0.2, false},
		{24, 1, 0.2, false},
	} {
		_, err := MinimumSampleSize(100, tt.params, tt.prevalence, tt.r2)
		if err == nil || errors.Is(err, ErrNoR2) != tt.noR2 {
			t.Errorf("%d parameters, prevalence %v, R² %v: %v", tt.params, tt.prevalence, tt.r2, err)
		}
	}
}

// TestCoxSnellR2 checks the R² against one worked by hand (python3): labels
// 1, 0, 0, 1 and probabilities 0.8, 0.3, 0.4, 0.6 have mean log loss
// 0.4003674356962309 and, against the base rate 0.5, R² 1 - exp(-2 (lnL -
// lnL0) / 4) = 0.44320574601578244.
func TestCoxSnellR2(t *testing.T) {
	p, y := []float64{0.8, 0.3, 0.4, 0.6}, []float64{1, 0, 0, 1}
	if ll := LogLoss(p, y); math.Abs(ll-0.4003674356962309) > 1e-15 {
		t.Fatalf("log loss %v", ll)
	}
	if got := CoxSnellR2(LogLoss(p, y), 0.5); math.Abs(got-0.44320574601578244) > 1e-14 {
		t.Errorf("R² %v", got)
	}
	if got := CoxSnellR2(-math.Log(0.5), 0.5); math.Abs(got) > 1e-15 {
		t.Errorf("the base rate's own R² %v, want 0", got)
	}
}

func TestSmallValidation(t *testing.T) {
	for _, tt := range []struct {
		n, positives int
		warn         bool
	}{
		{200, 100, false}, {199, 100, true}, {199, 99, true}, {1000, 99, true}, {1000, 900, false}, {1000, 901, true},
	} {
		w := SmallValidation(Metrics{N: tt.n, Positives: tt.positives})
		if (w != "") != tt.warn || tt.warn && !strings.Contains(w, fmt.Sprintf("%d with the outcome and %d without", tt.positives, tt.n-tt.positives)) {
			t.Errorf("%d of %d: %q", tt.positives, tt.n, w)
		}
	}
}
