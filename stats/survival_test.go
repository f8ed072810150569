package stats_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/abscopal/abscopal/stats"
)

// survivalReference is testdata/survival/reference.json, made by
// make_reference.py beside it with statsmodels.
type survivalReference struct {
	Time    []float64 `json:"time"`
	Event   []bool    `json:"event"`
	Group   []bool    `json:"group"`
	Score   []float64 `json:"score"`
	KMGroup kmRef     `json:"km_group"`
	KMOther kmRef     `json:"km_other"`
	KMAll   kmRef     `json:"km_all"`
	Chi2    float64   `json:"logrank_chi2"`
	P       float64   `json:"logrank_p"`
	HR      float64   `json:"hr"`
	HRLow   float64   `json:"hr_low"`
	HRHigh  float64   `json:"hr_high"`
	HRP     float64   `json:"hr_p"`
	C       float64   `json:"c_index"`
}

type kmRef struct {
	Times      []float64  `json:"times"`
	Surv       []float64  `json:"surv"`
	SE         []*float64 `json:"se"`
	Median     *float64   `json:"median"`
	MedianLow  *float64   `json:"median_low"`
	MedianHigh any        `json:"median_high"` // a number, "inf" or null
}

// TestSurvival checks the Kaplan-Meier estimate, its median and interval,
// the log-rank test, the Cox hazard ratio and Harrell's C against
// statsmodels on 60 patients with tied times and censoring.
func TestSurvival(t *testing.T) {
	b, err := os.ReadFile("testdata/survival/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref survivalReference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.12g, want %.12g", what, got, want)
		}
	}
	subset := func(keep func(i int) bool) ([]float64, []bool) {
		var tt []float64
		var ee []bool
		for i := range ref.Time {
			if keep(i) {
				tt, ee = append(tt, ref.Time[i]), append(ee, ref.Event[i])
			}
		}
		return tt, ee
	}
	for _, c := range []struct {
		name string
		keep func(i int) bool
		want kmRef
	}{
		{"group", func(i int) bool { return ref.Group[i] }, ref.KMGroup},
		{"other", func(i int) bool { return !ref.Group[i] }, ref.KMOther},
		{"all", func(int) bool { return true }, ref.KMAll},
	} {
		km := stats.KaplanMeierOf(subset(c.keep))
		if len(km.Times) != len(c.want.Times) {
			t.Fatalf("%s: %d event times, want %d", c.name, len(km.Times), len(c.want.Times))
		}
		for i := range km.Times {
			near(c.name+" time", km.Times[i], c.want.Times[i], 0)
			near(c.name+" survival", km.Surv[i], c.want.Surv[i], 1e-12)
			if c.want.SE[i] == nil {
				if !math.IsNaN(km.SE[i]) {
					t.Errorf("%s: SE at %v = %v, want none", c.name, km.Times[i], km.SE[i])
				}
			} else {
				near(c.name+" SE", km.SE[i], *c.want.SE[i], 1e-12)
			}
		}
		med, ok := km.Quantile(0.5)
		if ok != (c.want.Median != nil) || ok && med != *c.want.Median {
			t.Errorf("%s: median %v (%v), want %v", c.name, med, ok, c.want.Median)
		}
		lo, hi, ok := km.QuantileCI(0.5)
		switch want := c.want.MedianHigh.(type) {
		case string: // "inf"
			if !ok || !math.IsInf(hi, 1) || lo != *c.want.MedianLow {
				t.Errorf("%s: median interval %v-%v (%v), want %v-inf", c.name, lo, hi, ok, *c.want.MedianLow)
			}
		case float64:
			if !ok || hi != want || lo != *c.want.MedianLow {
				t.Errorf("%s: median interval %v-%v (%v), want %v-%v", c.name, lo, hi, ok, *c.want.MedianLow, want)
			}
		case nil:
			if ok {
				t.Errorf("%s: median interval %v-%v, want none", c.name, lo, hi)
			}
		}
	}

	chi2, p := stats.LogRank(ref.Time, ref.Event, ref.Group)
	near("log-rank chi2", chi2, ref.Chi2, 1e-10)
	near("log-rank p", p, ref.P, 1e-10)

	hr, err := stats.CoxBinary(ref.Time, ref.Event, ref.Group)
	if err != nil {
		t.Fatal(err)
	}
	near("HR", hr.HR, ref.HR, 1e-8)
	near("HR low", hr.Low, ref.HRLow, 1e-8)
	near("HR high", hr.High, ref.HRHigh, 1e-8)
	near("HR p", hr.P, ref.HRP, 1e-8)

	near("C-index", stats.ConcordanceIndex(ref.Time, ref.Event, ref.Score), ref.C, 1e-12)

	// A score that orders the times exactly: C is 1; its opposite, 0.
	order := append([]float64(nil), ref.Time...)
	near("C of the times", stats.ConcordanceIndex(ref.Time, ref.Event, order), 1, 1e-12)
	for i := range order {
		order[i] = -order[i]
	}
	near("C of minus the times", stats.ConcordanceIndex(ref.Time, ref.Event, order), 0, 1e-12)

	// A group without events has no hazard ratio.
	none := make([]bool, len(ref.Event))
	for i := range none {
		none[i] = ref.Event[i] && !ref.Group[i]
	}
	if _, err := stats.CoxBinary(ref.Time, none, ref.Group); !errors.Is(err, stats.ErrCox) {
		t.Errorf("no events in a group: err = %v", err)
	}
	// Every event of one group before any of the other's: the partial
	// likelihood grows without end, and there is no hazard ratio to give.
	var tt []float64
	var ee, gg []bool
	for i := range 20 {
		tt, ee, gg = append(tt, float64(i+1)), append(ee, true), append(gg, i < 10)
	}
	if hr, err := stats.CoxBinary(tt, ee, gg); !errors.Is(err, stats.ErrCox) {
		t.Errorf("separated groups: %+v, err = %v", hr, err)
	}
}
