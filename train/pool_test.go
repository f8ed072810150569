package train_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/abscopal/abscopal/train"
)

// TestPoolAUC checks the random-effects pooling against statsmodels'
// combine_effects (DerSimonian-Laird) on five centres; the reference and
// the script that made it are in testdata/pool.
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
		train.PooledAUC
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	groups := []train.Group{{Value: "no AUC", N: 20, Positives: 0}} // one outcome only: left out
	for _, c := range ref.Centres {
		groups = append(groups, train.Group{N: c.Positives + c.Negatives, Positives: c.Positives, Metrics: &train.Metrics{AUC: c.AUC}})
	}
	got, err := train.PoolAUC(groups)
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
		if math.Abs(f.got-f.want) > 1e-9 {
			t.Errorf("%s = %.12f, statsmodels %.12f", f.name, f.got, f.want)
		}
	}
	if got.Groups != 5 || got.LeftOut != 1 {
		t.Errorf("pooled %d, left out %d; want 5 and 1", got.Groups, got.LeftOut)
	}

	// Two groups: a mean and its interval, no prediction interval; one:
	// nothing to pool.
	two, err := train.PoolAUC(groups[1:3])
	if err != nil || two.Groups != 2 || two.PredLow != 0 || !(two.Low < two.AUC && two.AUC < two.High) {
		t.Errorf("two groups: %+v, %v", two, err)
	}
	if _, err := train.PoolAUC(groups[:2]); !errors.Is(err, train.ErrPool) {
		t.Errorf("one group: %v", err)
	}
}
