package models

import (
	"math"
	"testing"
)

// TestScoreRows: scoring rows in blocks, tree by tree over the flat
// layout, gives each row the bits its own Score from the trees' arrays
// gives, missing values included, for every algorithm and for row counts
// that do and do not fill a block.
func TestScoreRows(t *testing.T) {
	d := forestData(1200, 3)
	lr, err := FitLogistic(d, LogisticOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := FitGBM(t.Context(), d, GBMOptions{Trees: 40, MaxDepth: 4, Subsample: 0.8, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := FitForest(t.Context(), d, ForestOptions{Trees: 15, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	// The same models, unprepared: they score from their arrays.
	arrays := map[string]Classifier{
		"logistic": lr,
		"gbm":      &GBM{Base: gb.Base, Trees: gb.Trees},
		"forest":   &Forest{Trees: fo.Trees, Opts: fo.Opts},
	}
	test := forestData(2*batchRows+37, 8)
	for i := 0; i < test.Rows; i += 7 {
		test.X[i*test.Cols+i%test.Cols] = math.NaN()
	}
	for _, c := range []Classifier{lr, gb, fo} {
		for _, rows := range []int{0, 1, batchRows, test.Rows} {
			got := make([]float64, rows)
			ScoreRows(c, test.X[:rows*test.Cols], test.Cols, got)
			for i, g := range got {
				want := arrays[c.Algo()].Score(test.Row(i))
				if math.Float64bits(g) != math.Float64bits(want) || math.Float64bits(c.Score(test.Row(i))) != math.Float64bits(want) {
					t.Fatalf("%s, %d rows: row %d scored %v, one by one from the arrays %v", c.Algo(), rows, i, g, want)
				}
			}
		}
	}
}

// TestFlatTreeMissing: a missing value goes left where a GBM's split says
// so, and right in a forest (NaN <= threshold is false), as the arrays do.
func TestFlatTreeMissing(t *testing.T) {
	tree := func(nanLeft bool) GBMTree {
		return GBMTree{Feature: []int32{1, -1, -1}, Threshold: []float64{0.5, 0, 0}, DefaultLeft: []bool{nanLeft, false, false},
			Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Value: []float64{0, 1, 2}}
	}
	for _, tc := range []struct {
		name string
		c    Classifier
		x    []float64
		want float64
	}{
		{"gbm, below the threshold", &GBM{Base: 10, Trees: []GBMTree{tree(false)}}, []float64{9, 0.5}, 11},
		{"gbm, above", &GBM{Base: 10, Trees: []GBMTree{tree(true)}}, []float64{9, 0.6}, 12},
		{"gbm, missing, default left", &GBM{Base: 10, Trees: []GBMTree{tree(true)}}, []float64{9, math.NaN()}, 11},
		{"gbm, missing, default right", &GBM{Base: 10, Trees: []GBMTree{tree(false)}}, []float64{9, math.NaN()}, 12},
		{"forest, missing", &Forest{Trees: []ForestTree{{Feature: []int32{0, -1, -1}, Threshold: []float64{1, 0, 0},
			Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Share: []float64{0.5, 0.25, 0.75}}}}, []float64{math.NaN()}, math.Log(3)},
	} {
		readyToScore(tc.c.Algo(), tc.c)
		got := make([]float64, 1)
		ScoreRows(tc.c, tc.x, len(tc.x), got)
		if math.Abs(got[0]-tc.want) > 1e-15 || math.Abs(tc.c.Score(tc.x)-tc.want) > 1e-15 {
			t.Errorf("%s: ScoreRows %v, Score %v, want %v", tc.name, got[0], tc.c.Score(tc.x), tc.want)
		}
	}
}

// TestFlatTreeRowsAtLeaves: rows walked down side by side reach leaves at
// different depths; one at its leaf stays there while the others go on,
// whatever its first feature (the one a leaf's step reads) holds.
func TestFlatTreeRowsAtLeaves(t *testing.T) {
	// x[1] <= 0.5 (missing: left) is leaf 1; else x[2] <= 0 is leaf 2,
	// and leaf 3 above.
	g := &GBM{Base: 10, Trees: []GBMTree{{Feature: []int32{1, -1, 2, -1, -1}, Threshold: []float64{0.5, 0, 0, 0, 0},
		DefaultLeft: []bool{true, false, false, false, false}, Left: []int32{1, -1, 3, -1, -1}, Right: []int32{2, -1, 4, -1, -1},
		Value: []float64{0, 1, 0, 2, 3}}}}
	if err := readyToScore("gbm", g); err != nil {
		t.Fatal(err)
	}
	inf, nan := math.Inf(1), math.NaN()
	x := []float64{
		nan, 0, 5, // leaf 1 at depth 1
		inf, 0.2, 0, // leaf 1
		0, 1, -1, // leaf 2 at depth 2
		-inf, 1, 1, // leaf 3
		nan, nan, 0, // leaf 1, walked on its own
	}
	want := []float64{11, 11, 12, 13, 11}
	got := make([]float64, len(want))
	ScoreRows(g, x, 3, got)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d scored %v, want %v", i, got[i], want[i])
		}
	}
}

// TestScoreRowsShape: a matrix of the wrong size is a caller's bug.
func TestScoreRowsShape(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("ScoreRows of 5 values as 2 rows of 3 did not panic")
		}
	}()
	ScoreRows(&Logistic{Coef: []float64{1, 2, 3}}, make([]float64, 5), 3, make([]float64, 2))
}
