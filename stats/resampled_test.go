package stats_test

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/abscopal/abscopal/stats"
)

// TestCorrectedResampledT checks the interval against scipy's t quantile and
// numpy's variance on four designs of repeats and folds (testdata/resampled: reference and the
// script that made it), and that it contains scipy's plain paired t
// interval, which ignores the overlap of the training sets.
func TestCorrectedResampledT(t *testing.T) {
	b, err := os.ReadFile("testdata/resampled/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, c := range raw {
		var folds int
		var diffs []float64
		var mean, low, high, plainLow, plainHigh float64
		for key, dst := range map[string]any{"folds": &folds, "diffs": &diffs, "mean": &mean, "low": &low, "high": &high, "plain_low": &plainLow, "plain_high": &plainHigh} {
			if err := json.Unmarshal(c[key], dst); err != nil {
				t.Fatalf("%s: %v", key, err)
			}
		}
		got, err := stats.CorrectedResampledT(diffs, folds)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []struct {
			name      string
			got, want float64
		}{{"mean", got.Mean, mean}, {"low", got.Low, low}, {"high", got.High, high}} {
			// gonum's t quantile is good to about 1e-9 (2.0095752371 on 49
			// degrees of freedom, scipy's 2.0095752345): bounds to 1e-10.
			if math.Abs(v.got-v.want) > 1e-10 {
				t.Errorf("%d folds x %d: %s %.15g, scipy %.15g", folds, len(diffs)/folds, v.name, v.got, v.want)
			}
		}
		if got.N != len(diffs) || !(got.Low < plainLow && got.High > plainHigh) {
			t.Errorf("%d folds x %d: n %d; interval %.4f to %.4f does not contain the plain t's %.4f to %.4f",
				folds, len(diffs)/folds, got.N, got.Low, got.High, plainLow, plainHigh)
		}
	}
	for _, bad := range []struct {
		d []float64
		k int
	}{{[]float64{0.1}, 1}, {[]float64{0.1, 0.2, 0.3}, 2}, {[]float64{0.1}, 5}} {
		if _, err := stats.CorrectedResampledT(bad.d, bad.k); err == nil {
			t.Errorf("%d differences for %d folds: no error", len(bad.d), bad.k)
		}
	}
}
