package models

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkFitForest fits a forest of 21 trees on 10,000 x 30 rows with the
// defaults of "abscopal train" otherwise: the profile of forest training.
// bench/heldout.py times the forest against scikit-learn's.
func BenchmarkFitForest(b *testing.B) {
	const rows, cols = 10000, 30
	rng := rand.New(rand.NewPCG(42, 7))
	d := &Data{Rows: rows, Cols: cols, X: make([]float64, rows*cols), Y: make([]float64, rows)}
	for i := 0; i < rows; i++ {
		x := d.X[i*cols : (i+1)*cols]
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		z := -0.5 + 0.8*x[0] - 0.6*x[1] + 0.7*x[2]*x[3] + 0.3*math.Sin(3*x[6])
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Y[i] = 1
		}
	}
	for b.Loop() {
		if _, err := FitForest(context.Background(), d, ForestOptions{Trees: 21, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
