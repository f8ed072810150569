package models

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// forestData draws rows with a known logistic signal in features 0-2.
func forestData(n int, seed uint64) *Data {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &Data{Rows: n, Cols: 5}
	for i := 0; i < n; i++ {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), float64(rng.IntN(2)), rng.NormFloat64(), rng.NormFloat64()}
		z := 1.2*x[0] - 0.8*x[1] + 1.0*x[2] - 0.5
		d.X = append(d.X, x...)
		d.Y = append(d.Y, b2f(rng.Float64() < sigmoid(z)))
	}
	return d
}

// TestForestTreeMatchesGolearn: drawing every feature at every split, with
// no leaf minimum, a tree grown split by split, by either learner (the
// histogram's own Gini search, or golearn's CART one level deep), is the
// tree golearn's CART grows whole to the same depth: on the rows it was
// fitted on, it votes as golearn's own Predict does. golearn is the
// reference the histogram learner is checked against.
func TestForestTreeMatchesGolearn(t *testing.T) {
	for _, learner := range []string{ForestHistogram, ForestGolearn} {
		t.Run(learner, func(t *testing.T) {
			d := forestData(600, 3)
			bd := binData(d, 16)
			rows := make([]int, d.Rows)
			for i := range rows {
				rows[i] = i
			}
			const depth = 4
			g := treeGrower{d: d, bd: bd, rng: rand.New(rand.NewPCG(1, 2)), opts: &ForestOptions{MaxDepth: depth, SplitFeatures: d.Cols, MinLeaf: 1, Learner: learner}}
			if _, err := g.grow(rows, 0); err != nil {
				t.Fatal(err)
			}
			all := []int{0, 1, 2, 3, 4}
			cart, inst, err := golearnCART(d, bd, rows, all, depth)
			if err != nil {
				t.Fatal(err)
			}
			want := cart.Predict(inst)
			differ := 0
			for i := 0; i < d.Rows; i++ {
				// The leaf's majority, ties to 0 as golearn breaks them.
				vote := int64(0)
				if g.tree.Share[g.tree.leaf(d.Row(i))] > 0.5 {
					vote = 1
				}
				if vote != want[i] {
					differ++
				}
			}
			if differ != 0 {
				t.Errorf("the tree differs from golearn's on %d of %d rows", differ, d.Rows)
			}
			if len(g.tree.Share) < 15 {
				t.Errorf("a tree of %d nodes: it hardly split", len(g.tree.Share))
			}
		})
	}
}

// TestForestMinLeaf: no leaf holds fewer bootstrap rows than MinLeaf, and
// a larger minimum gives smaller trees.
func TestForestMinLeaf(t *testing.T) {
	d := forestData(1500, 6)
	size := func(minLeaf int) int {
		f, err := FitForest(t.Context(), d, ForestOptions{Trees: 5, MinLeaf: minLeaf, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for ti, tr := range f.Trees {
			n += len(tr.Share)
			// Count the tree's bootstrap rows per leaf again.
			rng := rand.New(rand.NewPCG(1, 0xf0e57<<20|uint64(ti)))
			count := make([]int, len(tr.Share))
			for range d.Rows {
				count[tr.leaf(d.Row(rng.IntN(d.Rows)))]++
			}
			for l, c := range count {
				if tr.Left[l] < 0 && c < minLeaf {
					t.Fatalf("min leaf %d: tree %d, leaf %d holds %d rows", minLeaf, ti, l, c)
				}
			}
		}
		return n
	}
	if small, large := size(40), size(2); small >= large {
		t.Errorf("%d nodes with min leaf 40, %d with 2", small, large)
	}
}

func TestForest(t *testing.T) {
	d := forestData(1500, 4)
	f, err := FitForest(t.Context(), d, ForestOptions{Trees: 31, MaxDepth: 6, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	// Reproducible from the seed; another seed gives another forest.
	g, _ := FitForest(t.Context(), d, ForestOptions{Trees: 31, MaxDepth: 6, Seed: 9})
	h, _ := FitForest(t.Context(), d, ForestOptions{Trees: 31, MaxDepth: 6, Seed: 10})
	if !reflect.DeepEqual(f, g) || reflect.DeepEqual(f, h) {
		t.Error("forests are not determined by their seed")
	}
	// Trees are grown concurrently; one worker gives the same forest.
	procs := runtime.GOMAXPROCS(1)
	one, _ := FitForest(t.Context(), d, ForestOptions{Trees: 31, MaxDepth: 6, Seed: 9})
	runtime.GOMAXPROCS(procs)
	if !reflect.DeepEqual(f, one) {
		t.Error("the forest depends on the number of workers")
	}
	// It learned the signal: held-out rows rank well (AUC by pairs).
	test := forestData(1000, 5)
	var pos, neg []float64
	for i := 0; i < test.Rows; i++ {
		s := f.Score(test.Row(i))
		if test.Y[i] == 1 {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	var wins float64
	for _, p := range pos {
		for _, n := range neg {
			switch {
			case p > n:
				wins++
			case p == n:
				wins += 0.5
			}
		}
	}
	if auc := wins / float64(len(pos)*len(neg)); auc < 0.75 {
		t.Errorf("held-out AUC %.3f; the signal gives about 0.8", auc)
	}
	// Round trip through a bundle encoding.
	b, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if back.Score(test.Row(i)) != f.Score(test.Row(i)) {
			t.Fatal("a decoded forest scores differently")
		}
	}
	if s := f.Score(test.Row(0)); math.IsInf(s, 0) || math.IsNaN(s) {
		t.Errorf("score %v", s)
	}
	if _, err := FitForest(t.Context(), d, ForestOptions{Trees: 10}); err == nil || !strings.Contains(err.Error(), "must be odd") {
		t.Errorf("an even tree count: %v", err)
	}
	var env struct{ Model Forest }
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	even := env.Model
	even.Trees = even.Trees[:2]
	if err := even.validate(); err == nil {
		t.Error("a forest of 2 trees passed validation")
	}
}

// TestContributionsSumToScore: Model.Predict derives the score from the
// contributions, so they must add up exactly for every classifier.
func TestContributionsSumToScore(t *testing.T) {
	d := forestData(800, 11)
	lr, err := FitLogistic(d, LogisticOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := FitGBM(t.Context(), d, GBMOptions{Trees: 50, Subsample: 0.8, ColSample: 0.8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := FitForest(t.Context(), d, ForestOptions{Trees: 11, MaxDepth: 5})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float64, d.Cols)
	for _, c := range []Classifier{lr, gb, fo} {
		for i := 0; i < 100; i++ {
			x := d.Row(i)
			s := c.Contributions(x, dst)
			for _, v := range dst {
				s += v
			}
			if math.Abs(s-c.Score(x)) > 1e-9 {
				t.Fatalf("%s, row %d: bias + contributions = %v, score %v", c.Algo(), i, s, c.Score(x))
			}
		}
	}
}

// TestFitGivesUp: the long fits stop with the context's error.
func TestFitGivesUp(t *testing.T) {
	d := forestData(1000, 8)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := FitGBM(ctx, d, GBMOptions{Trees: 50}); !errors.Is(err, context.Canceled) {
		t.Errorf("gbm: %v, want context.Canceled", err)
	}
	if _, err := FitForest(ctx, d, ForestOptions{Trees: 31}); !errors.Is(err, context.Canceled) {
		t.Errorf("forest: %v, want context.Canceled", err)
	}
}

// TestForestContributions: the features that carry the signal get the
// credit, and a forest whose splits carry no share reports none.
func TestForestContributions(t *testing.T) {
	d := forestData(2000, 12)
	f, err := FitForest(t.Context(), d, ForestOptions{Trees: 31, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// forestData's signal: 1.2 x0 - 0.8 x1 + 1.0 x2; x3 and x4 are noise.
	mean := make([]float64, d.Cols)
	dst := make([]float64, d.Cols)
	for i := 0; i < 500; i++ {
		f.Contributions(d.Row(i), dst)
		for j, v := range dst {
			mean[j] += math.Abs(v) / 500
		}
	}
	for _, signal := range []int{0, 1, 2} {
		for _, noise := range []int{3, 4} {
			if mean[signal] <= 2*mean[noise] {
				t.Errorf("mean |contribution|: feature %d %.3f, noise feature %d %.3f", signal, mean[signal], noise, mean[noise])
			}
		}
	}
	// Raising x0 raises the probability, and x0's contribution with it.
	x := []float64{-1, 0, 1, 0, 0}
	f.Contributions(x, dst)
	low := dst[0]
	x[0] = 1
	f.Contributions(x, dst)
	if dst[0] <= low {
		t.Errorf("contribution of x0: %.3f at x0 = 1, %.3f at x0 = -1", dst[0], low)
	}

	old := &Forest{Trees: []ForestTree{{
		Feature: []int32{0, -1, -1}, Threshold: []float64{0, 0, 0}, Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1},
		Share: []float64{0, 0.2, 0.7},
	}}}
	if bias := old.Contributions([]float64{1, 0, 0, 0, 0}, dst); bias != old.Score([]float64{1, 0, 0, 0, 0}) || dst[0] != 0 {
		t.Errorf("a forest without split shares: bias %v, contributions %v", bias, dst)
	}
}

// TestForestLearnerRecorded: a forest's bundle records its learner, and
// one recorded before there was a choice reads as golearn's, so that
// reproducing it grows it as it was grown.
func TestForestLearnerRecorded(t *testing.T) {
	alg, _ := LookupAlgorithm("forest")
	for raw, want := range map[string]string{`{"trees": 101, "min_leaf": 10}`: ForestGolearn, `{"trees": 101, "learner": "histogram"}`: ForestHistogram} {
		var s Settings
		if err := alg.ReadHyperparameters(json.RawMessage(raw), &s); err != nil || s.Forest.Learner != want {
			t.Errorf("%s: learner %q, %v; want %q", raw, s.Forest.Learner, err, want)
		}
	}
	f, err := FitForest(context.Background(), forestData(200, 1), ForestOptions{Trees: 3, Seed: 1})
	if err != nil || f.Opts.Learner != ForestHistogram {
		t.Fatalf("a new forest's learner %q, %v", f.Opts.Learner, err)
	}
	if _, err := FitForest(context.Background(), forestData(200, 1), ForestOptions{Trees: 3, Learner: "xgboost"}); err == nil || !strings.Contains(err.Error(), `learner "xgboost"`) {
		t.Errorf("an unknown learner: %v", err)
	}
}
