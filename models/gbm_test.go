package models

import (
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"testing"
)

// TestGBMLeafValuesByHand: one tree of depth 1 on four rows, x = 0 0 1 1 and
// y = 0 0 1 1. The base score is logit(1/2) = 0, so every p is 1/2:
// gradients p - y = 1/2 1/2 -1/2 -1/2, hessians p(1-p) = 1/4. The split
// x <= 0 leaves G = 1, H = 1/2 on the left and G = -1, H = 1/2 on the right,
// and a leaf is worth -G / (H + lambda) times the learning rate (Chen and
// Guestrin 2016, eq. 5).
func TestGBMLeafValuesByHand(t *testing.T) {
	d := &Data{Rows: 4, Cols: 1, X: []float64{0, 0, 1, 1}, Y: []float64{0, 0, 1, 1}}
	tests := []struct {
		name                 string
		lambda, minChild, lr float64
		left, right          float64
	}{
		{"no penalty", 0, 0, 1, -2, 2},
		{"lambda 1", 1, 0, 1, -1 / 1.5, 1 / 1.5},
		{"lambda 1, learning rate 0.3", 1, 0, 0.3, -0.3 / 1.5, 0.3 / 1.5},
		{"a child needs hessian 0.6: no split", 0, 0.6, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := FitGBM(t.Context(), d, GBMOptions{Trees: 1, MaxDepth: 1, LearningRate: tt.lr, Lambda: tt.lambda, MinChildWeight: tt.minChild})
			if err != nil {
				t.Fatal(err)
			}
			if m.Base != 0 {
				t.Fatalf("base score %v, want 0", m.Base)
			}
			if l, r := m.Score([]float64{0}), m.Score([]float64{1}); math.Abs(l-tt.left) > 1e-12 || math.Abs(r-tt.right) > 1e-12 {
				t.Errorf("scores %v and %v, want %v and %v", l, r, tt.left, tt.right)
			}
			// 0 is used as given, and the recorded options fit the same model again.
			if m.Opts.Lambda != tt.lambda || m.Opts.MinChildWeight != tt.minChild {
				t.Errorf("recorded lambda %v, min child weight %v", m.Opts.Lambda, m.Opts.MinChildWeight)
			}
			again, err := FitGBM(t.Context(), d, m.Opts)
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Errorf("refit from the recorded options differs (%v)", err)
			}
		})
	}
}

// TestGBMNoPenaltyStaysFinite: with no penalty and no minimum, a pure leaf's
// hessian shrinks towards 0 as its probabilities saturate; the scores must
// stay finite.
func TestGBMNoPenaltyStaysFinite(t *testing.T) {
	d := forestData(500, 3)
	m, err := FitGBM(t.Context(), d, GBMOptions{Trees: 200, MaxDepth: 6, LearningRate: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < d.Rows; i++ {
		if s := m.Score(d.Row(i)); math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("row %d: score %v", i+1, s)
		}
	}
}

// TestGBMDeterministic: the same data, seed and options give the same model,
// whatever the number of CPUs (histograms are summed in fixed row chunks);
// another seed draws other rows and columns.
//
// 40,000 rows, so that the rows are partitioned, the histograms built and
// the scores updated in chunks side by side: the same bits on one core.
func TestGBMDeterministic(t *testing.T) {
	d := forestData(40_000, 6)
	opts := GBMOptions{Trees: 8, MaxDepth: 4, Subsample: 0.7, ColSample: 0.6, Lambda: 1, MinChildWeight: 1, EarlyStopping: 5, Seed: 11}
	m, err := FitGBM(t.Context(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	// One core grows every subtree itself; four hand right subtrees to
	// three helpers (grower.helpers), whichever finishes first.
	for _, procs := range []int{1, 4} {
		was := runtime.GOMAXPROCS(procs)
		other, err := FitGBM(t.Context(), d, opts)
		runtime.GOMAXPROCS(was)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, other) {
			t.Errorf("the GBM on %d cores differs from the GBM on %d", procs, was)
		}
	}
	opts.Seed = 12
	other, _ := FitGBM(t.Context(), d, opts)
	if reflect.DeepEqual(m.Trees, other.Trees) {
		t.Error("another seed gave the same trees")
	}
}

// TestGBMRefitAll: with RefitAll, the kept model is grown on every row for
// the rounds early stopping chose, and its recorded options fit it again.
func TestGBMRefitAll(t *testing.T) {
	d := forestData(2000, 9)
	opts := GBMOptions{Trees: 300, MaxDepth: 3, Lambda: 1, MinChildWeight: 1, Subsample: 0.8, EarlyStopping: 10, RefitAll: true, Seed: 5}
	m, err := FitGBM(t.Context(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	es := opts
	es.RefitAll = false
	stopped, _ := FitGBM(t.Context(), d, es)
	if m.BestRound != stopped.BestRound || len(m.Trees) != m.BestRound || m.BestRound == 0 || m.BestRound == opts.Trees {
		t.Fatalf("best round %d (early stopping alone: %d), %d trees", m.BestRound, stopped.BestRound, len(m.Trees))
	}
	all := opts
	all.Trees, all.EarlyStopping, all.RefitAll = m.BestRound, 0, false
	want, _ := FitGBM(t.Context(), d, all)
	if !reflect.DeepEqual(m.Trees, want.Trees) || m.Base != want.Base {
		t.Error("the kept model is not the fit on every row for the best round")
	}
	// Early stopping alone leaves its validation rows out: another model.
	if reflect.DeepEqual(m.Trees, stopped.Trees) {
		t.Error("refitting on every row changed nothing")
	}
	if !m.Opts.RefitAll || m.Opts.EarlyStopping != 10 {
		t.Errorf("recorded options %+v", m.Opts)
	}
	again, _ := FitGBM(t.Context(), d, m.Opts)
	if !reflect.DeepEqual(again, m) {
		t.Error("the recorded options fit another model")
	}
}

// TestSplitValidationGroups: with groups (a bootstrap sample's copies of a
// patient), the early-stopping share holds whole groups, about the share of
// each class's rows; without, the split is what it always was.
func TestSplitValidationGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	n := 2000
	y, groups := make([]float64, n), make([]int32, n)
	for i := range n {
		groups[i] = int32(rng.IntN(n)) // a bootstrap draw
		if groups[i]%3 == 0 {
			y[i] = 1 // copies share their label
		}
	}
	train, valid := splitValidation(y, groups, 0.1, rand.New(rand.NewPCG(9, 9)))
	if len(train)+len(valid) != n {
		t.Fatalf("%d + %d rows, want %d", len(train), len(valid), n)
	}
	side := map[int32]bool{}
	for _, i := range valid {
		side[groups[i]] = true
	}
	for _, i := range train {
		if side[groups[i]] {
			t.Fatalf("group %d has rows on both sides", groups[i])
		}
	}
	for _, class := range []float64{0, 1} {
		var all, held float64
		for i := range n {
			if y[i] == class {
				all++
			}
		}
		for _, i := range valid {
			if y[i] == class {
				held++
			}
		}
		if share := held / all; share < 0.1-1/all || share > 0.1+8/all { // whole groups, until the share is reached
			t.Errorf("class %v: %.3f of its rows held out, want 0.1 and at most a group over", class, share)
		}
	}
	a, b := splitValidation(y, nil, 0.1, rand.New(rand.NewPCG(9, 9)))
	c, d := splitValidation(y, nil, 0.1, rand.New(rand.NewPCG(9, 9)))
	if !slices.Equal(a, c) || !slices.Equal(b, d) || len(b) != int(math.Round(0.1*float64(n-countOnes(y))))+int(math.Round(0.1*float64(countOnes(y)))) {
		t.Errorf("without groups: %d held out", len(b))
	}
}

func countOnes(y []float64) int {
	n := 0
	for _, v := range y {
		n += int(v)
	}
	return n
}
