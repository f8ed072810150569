package train

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
)

// TestSummarizeInstability checks the measures on two rows and four
// bootstrap models, worked by hand:
//
//	row 1: model 0.2; bootstrap 0.1 0.3 0.2 0.4: MAPE (0.1+0.1+0+0.2)/4 = 0.1,
//	       none at 0.5 or above (CII 0), central 95% of four values 0.1-0.4
//	row 2: model 0.6; bootstrap 0.7 0.4 0.6 0.9: MAPE (0.1+0.2+0+0.3)/4 = 0.15,
//	       0.4 on the other side of 0.5 (CII 1/4), range 0.4-0.9
//
// so MAPE 0.125, its 95th percentile and largest 0.15, mean width
// (0.3+0.5)/2 = 0.4, mean CII 0.125, and one row of two above 1 in 5.
// interval95's percentiles of four values are the least and the largest.
func TestSummarizeInstability(t *testing.T) {
	p := []float64{0.2, 0.6}
	pb := [][]float64{{0.1, 0.7}, {0.3, 0.4}, {0.2, 0.6}, {0.4, 0.9}}
	got := summarizeInstability(p, pb, 0.5)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if got.Bootstraps != 4 || got.Threshold != 0.5 || !near(got.MAPE, 0.125) || !near(got.MAPEP95, 0.15) || !near(got.MAPEMax, 0.15) ||
		!near(got.Width95, 0.4) || !near(got.CII, 0.125) || !near(got.Unstable, 0.5) {
		t.Errorf("summary %+v", got)
	}
	if len(got.ByDecile) != 2 {
		t.Fatalf("%d bins of two rows, want 2", len(got.ByDecile))
	}
	for i, want := range []InstabilityBin{{N: 1, Predicted: 0.2, MAPE: 0.1, Width95: 0.3}, {N: 1, Predicted: 0.6, MAPE: 0.15, Width95: 0.5, CII: 0.25}} {
		b := got.ByDecile[i]
		if b.N != want.N || !near(b.Predicted, want.Predicted) || !near(b.MAPE, want.MAPE) || !near(b.Width95, want.Width95) || !near(b.CII, want.CII) {
			t.Errorf("bin %d: %+v, want %+v", i+1, b, want)
		}
	}
	if want := []rowRange{{0.2, 0.1, 0.4}, {0.6, 0.4, 0.9}}; !reflect.DeepEqual(got.rows, want) {
		t.Errorf("ranges %v, want %v", got.rows, want)
	}
	// Bootstrap models that agree with the model: no instability.
	same := summarizeInstability(p, [][]float64{p, p, p}, 0.5)
	if same.MAPE != 0 || same.Width95 != 0 || same.CII != 0 || same.Unstable != 0 {
		t.Errorf("identical models: %+v", same)
	}
}

// TestGroupedStratifiedFolds: copies of a row (a group) share a fold, the
// folds are stratified over the groups, and without groups they are
// StratifiedFolds'.
func TestGroupedStratifiedFolds(t *testing.T) {
	n := 1000
	y, groups := make([]float64, n), make([]int32, n)
	for i := range n {
		groups[i] = int32((i * 7919) % 400) // 400 patients, 2 or 3 copies each
		if groups[i]%4 == 0 {
			y[i] = 1
		}
	}
	fold := groupedStratifiedFolds(y, groups, 5, 11)
	of := map[int32]int{}
	var pos, size [5]int
	for i, g := range groups {
		if f, ok := of[g]; ok && f != fold[i] {
			t.Fatalf("group %d in folds %d and %d", g, f, fold[i])
		}
		of[g] = fold[i]
	}
	for g, f := range of {
		size[f]++
		if g%4 == 0 {
			pos[f]++
		}
	}
	for f := range 5 {
		if size[f] != 80 || pos[f] != 20 { // 400 patients, 100 positive, in 5 folds
			t.Errorf("fold %d: %d patients, %d positive; want 80 and 20", f, size[f], pos[f])
		}
	}
	if !reflect.DeepEqual(groupedStratifiedFolds(y, nil, 5, 11), StratifiedFolds(y, 5, 11)) {
		t.Error("without groups, not StratifiedFolds")
	}
}

// TestIntervalsKeepTheAnalysis: the bootstrap models kept for intervals,
// written to bootstrap.json and read back, give each training row the very
// range the stability analysis drew for it: the interval a patient gets at
// scoring is the analysis's.
func TestIntervalsKeepTheAnalysis(t *testing.T) {
	ps := synth.Generate(300, 17)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	for _, algo := range []string{"logistic", "gbm"} {
		res, err := Run(context.Background(), features.BuiltinSpec("objective_response"), recs,
			Options{Algo: algo, Folds: 3, Seed: 3, Bootstrap: 10, Instability: 12, Intervals: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Bootstrap) != 12 || !res.Instability.Kept {
			t.Fatalf("%s: %d bootstrap models kept (%v)", algo, len(res.Bootstrap), res.Instability.Kept)
		}
		b, err := models.EncodeBootstrap(res.Bootstrap)
		if err != nil {
			t.Fatal(err)
		}
		members, err := models.DecodeBootstrap(b, algo)
		if err != nil {
			t.Fatal(err)
		}
		m := &models.Model{Bootstrap: members}
		var s models.Scratch
		for i, r := range recs {
			lo, hi, ok := m.Interval(r, &s)
			if want := res.Instability.rows[i]; !ok || lo != want.lo || hi != want.hi {
				t.Fatalf("%s: row %d: interval [%v, %v], the analysis's [%v, %v]", algo, i+1, lo, hi, want.lo, want.hi)
			}
		}
		if _, err := models.DecodeBootstrap(b, "forest"); !errors.Is(err, models.ErrBundle) {
			t.Errorf("%s: read as a forest's: err = %v", algo, err)
		}
	}
	// Intervals need the analysis, and a model small enough to keep.
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{Algo: "logistic", Intervals: true}, "ask for some (--instability 200)"},
		{Options{Algo: "forest", Intervals: true, Instability: 5}, "too large to keep"},
	} {
		if _, err := Run(context.Background(), features.BuiltinSpec("objective_response"), recs, tt.opts); !errors.Is(err, ErrTrain) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}
