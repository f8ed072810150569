package stats_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/stats"
)

// TestPoolAUC checks the random-effects pooling against statsmodels'
// combine_effects (Paule-Mandel, Hartung-Knapp interval) on five centres,
// with REML against scipy's maximization of the restricted likelihood, and
// the floor of the interval's scale by hand; the reference and the script
// that made it are in testdata/pool.
func TestPoolAUC(t *testing.T) {
	b, err := os.ReadFile("testdata/pool/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Centres []struct {
			AUC                  float64
			Positives, Negatives int
		}
		stats.PooledAUC
		REML stats.PooledAUC `json:"reml"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	groups := []stats.Group{{Value: "no AUC", N: 20, Positives: 0}} // one outcome only: left out
	for _, c := range ref.Centres {
		groups = append(groups, stats.Group{N: c.Positives + c.Negatives, Positives: c.Positives, Metrics: &stats.Metrics{AUC: c.AUC}})
	}
	got, err := stats.PoolAUC(groups, stats.PauleMandel)
	if err != nil {
		t.Fatal(err)
	}
	want := ref.PooledAUC
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"auc", got.AUC, want.AUC}, {"ci low", got.Low, want.Low}, {"ci high", got.High, want.High},
		{"prediction low", got.PredLow, want.PredLow}, {"prediction high", got.PredHigh, want.PredHigh},
		{"tau2", got.Tau2, want.Tau2}, {"i2", got.I2, want.I2}} {
		// statsmodels stops its Paule-Mandel iteration when the estimating
		// equation is within 1e-5 of 0; ours goes on to 1e-14, hence the
		// difference of about 1e-8 (TestPauleMandelRoot checks our root).
		if math.Abs(f.got-f.want) > 1e-7 {
			t.Errorf("%s = %.12f, statsmodels %.12f", f.name, f.got, f.want)
		}
	}
	if got.Groups != 5 || got.LeftOut != 1 || got.Method != stats.PauleMandel {
		t.Errorf("pooled %d, left out %d, by %q; want 5 and 1, Paule-Mandel", got.Groups, got.LeftOut, got.Method)
	}
	reml, err := stats.PoolAUC(groups, stats.REML)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{{"auc", reml.AUC, ref.REML.AUC}, {"ci low", reml.Low, ref.REML.Low}, {"ci high", reml.High, ref.REML.High},
		{"prediction low", reml.PredLow, ref.REML.PredLow}, {"prediction high", reml.PredHigh, ref.REML.PredHigh},
		{"tau2", reml.Tau2, ref.REML.Tau2}, {"i2", reml.I2, ref.REML.I2}} {
		// scipy's root of the likelihood's derivative is exact to the
		// last digits; ours stops at a step of 1e-14.
		if math.Abs(f.got-f.want) > 1e-12 {
			t.Errorf("REML %s = %.15f, scipy %.15f", f.name, f.got, f.want)
		}
	}
	if reml.Method != stats.REML || reml.Tau2 >= got.Tau2 {
		t.Errorf("REML: method %q, tau² %v (Paule-Mandel's %v: REML's is smaller on these centres)", reml.Method, reml.Tau2, got.Tau2)
	}
	if _, err := stats.PoolAUC(groups, "dl"); !errors.Is(err, stats.ErrPool) || !strings.Contains(err.Error(), `unknown estimator of tau² "dl"`) {
		t.Errorf("an unknown estimator: %v", err)
	}

	// Two groups: a mean and its interval, no prediction interval; one:
	// nothing to pool.
	two, err := stats.PoolAUC(groups[1:3], "")
	if err != nil || two.Groups != 2 || two.PredLow != 0 || !(two.Low < two.AUC && two.AUC < two.High) {
		t.Errorf("two groups: %+v, %v", two, err)
	}
	if _, err := stats.PoolAUC(groups[:2], ""); !errors.Is(err, stats.ErrPool) {
		t.Errorf("one group: %v", err)
	}

	// Three identical groups: no heterogeneity and a residual scale of 0,
	// floored at 1, so the interval is the t quantile on 2 degrees of
	// freedom (4.302653, tables) times the fixed-effect standard error, by
	// hand from the Hanley-McNeil variance.
	same := []stats.Group{}
	for range 3 {
		same = append(same, stats.Group{N: 100, Positives: 40, Metrics: &stats.Metrics{AUC: 0.75}})
	}
	p, err := stats.PoolAUC(same, "")
	if err != nil {
		t.Fatal(err)
	}
	a, n1, n0 := 0.75, 40.0, 60.0
	q1, q2 := a/(2-a), 2*a*a/(1+a)
	v := (a*(1-a) + (n1-1)*(q1-a*a) + (n0-1)*(q2-a*a)) / (n1 * n0) / (a * (1 - a) * a * (1 - a))
	half := 4.302653 * math.Sqrt(v/3)
	logit := math.Log(3)
	if math.Abs(p.AUC-0.75) > 1e-12 || p.Tau2 != 0 || p.I2 != 0 || math.Abs(p.Low-1/(1+math.Exp(-(logit-half)))) > 1e-6 || math.Abs(p.High-1/(1+math.Exp(-(logit+half)))) > 1e-6 {
		t.Errorf("three equal groups: %+v; want 0.75 within %.6f-%.6f", p, 1/(1+math.Exp(-(logit-half))), 1/(1+math.Exp(-(logit+half))))
	}
}
