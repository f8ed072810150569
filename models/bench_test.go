package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkFitGBM fits the GBM of bench/gbm on a fifth of its rows
// (20,000 x 30, 100 trees, depth 6): the profile of training without the
// seconds of the full run. bench/gbm/run.sh times the full run against
// xgboost.
func BenchmarkFitGBM(b *testing.B) {
	d := benchData(20000, 30, true)
	opts := GBMOptions{Trees: 100, MaxDepth: 6, LearningRate: 0.1, Lambda: 1, MinChildWeight: 1, Subsample: 1, ColSample: 1, MaxBins: 255, Seed: 1}
	for b.Loop() {
		if _, err := FitGBM(context.Background(), d, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFitForest fits a forest of 21 trees on 10,000 x 30 rows with the
// defaults of "abscopal train" otherwise: the profile of forest training.
// bench/heldout.py times the forest against scikit-learn's.
func BenchmarkFitForest(b *testing.B) {
	d := benchData(10000, 30, false)
	for b.Loop() {
		if _, err := FitForest(context.Background(), d, ForestOptions{Trees: 21, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchData draws the benchmarks' data set: rows x cols standard normal
// inputs and an outcome with main effects, an interaction and a sine; with
// missing, 5% of column 8 is NaN (for the GBM, which routes it; the forest
// takes no missing value).
func benchData(rows, cols int, missing bool) *Data {
	rng := rand.New(rand.NewPCG(42, 7))
	d := &Data{Rows: rows, Cols: cols, X: make([]float64, rows*cols), Y: make([]float64, rows)}
	for i := 0; i < rows; i++ {
		x := d.X[i*cols : (i+1)*cols]
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		z := -0.5 + 0.8*x[0] - 0.6*x[1] + 0.7*x[2]*x[3] + 0.3*math.Sin(3*x[6])
		if missing && rng.Float64() < 0.05 {
			x[8] = math.NaN()
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Y[i] = 1
		}
	}
	return d
}

// BenchmarkFitLogistic fits the logistic regression on 10,000 x 80 rows (the
// built-in spec has 79 inputs): tuning its penalty (train --tune) makes 55
// fits (5 inner folds, 11 penalties) on four fifths of a training set before
// each fit of it.
func BenchmarkFitLogistic(b *testing.B) {
	d := benchData(10000, 80, false)
	for b.Loop() {
		m, err := FitLogistic(d, LogisticOptions{Lambda: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.Iter), "iterations")
	}
}

// BenchmarkGBMContributions times a prediction's contributions, TreeSHAP's
// against the path attributions of bundles without covers, on GBMs of 300
// trees of depth 2 (train's default) and 6 (xgboost's).
func BenchmarkGBMContributions(b *testing.B) {
	d := benchData(5000, 30, true)
	for _, depth := range []int{2, 6} {
		m, err := FitGBM(context.Background(), d, GBMOptions{Trees: 300, MaxDepth: depth, Lambda: 1, MinChildWeight: 1, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float64, d.Cols)
		b.Run(fmt.Sprintf("depth%d/treeshap", depth), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				m.Contributions(d.Row(i%d.Rows), dst)
			}
		})
		b.Run(fmt.Sprintf("depth%d/path", depth), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				m.pathContributions(d.Row(i%d.Rows), dst)
			}
		})
		b.Run(fmt.Sprintf("depth%d/score", depth), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				m.Score(d.Row(i % d.Rows))
			}
		})
	}
}

// BenchmarkScoreForest scores 20,000 rows with a forest of 101 trees grown
// on 20,000 (leaves of 10, the defaults of "abscopal train"): one row at
// a time from the trees' arrays (Score, as a server scores a patient),
// and in blocks from the flat layout (ScoreRows, as batch scoring does).
func BenchmarkScoreForest(b *testing.B) {
	d := benchData(20000, 30, false)
	f, err := FitForest(context.Background(), d, ForestOptions{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	benchScoring(b, f, &Forest{Trees: f.Trees, Opts: f.Opts}, benchData(20000, 30, false))
}

// BenchmarkScoreGBM is BenchmarkScoreForest for a GBM of 300 trees of
// depth 4.
func BenchmarkScoreGBM(b *testing.B) {
	d := benchData(20000, 30, true)
	g, err := FitGBM(context.Background(), d, GBMOptions{Trees: 300, MaxDepth: 4, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	benchScoring(b, g, &GBM{Base: g.Base, Trees: g.Trees}, benchData(20000, 30, true))
}

func benchScoring(b *testing.B, c, arrays Classifier, test *Data) {
	dst := make([]float64, test.Rows)
	for _, bc := range []struct {
		name  string
		score func()
	}{
		{"arrays", func() { scoreEachRow(arrays, test.X, test.Cols, dst) }},
		{"rows", func() { ScoreRows(c, test.X, test.Cols, dst) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.score()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*test.Rows), "ns/row")
		})
	}
}
