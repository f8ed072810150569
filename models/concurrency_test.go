package models

import (
	"sync"
	"testing"
)

// TestConcurrentPrediction: every classifier is safe for concurrent
// prediction (run under -race, as CI does): goroutines scoring the same rows
// at once get exactly the sequential answers.
func TestConcurrentPrediction(t *testing.T) {
	d := forestData(600, 8)
	lr, err := FitLogistic(d, LogisticOptions{Lambda: 1})
	if err != nil {
		t.Fatal(err)
	}
	gb, err := FitGBM(t.Context(), d, GBMOptions{Trees: 30, MaxDepth: 3, Lambda: 1, MinChildWeight: 1})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := FitForest(t.Context(), d, ForestOptions{Trees: 15, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Classifier{lr, gb, fo} {
		score, bias := make([]float64, d.Rows), make([]float64, d.Rows)
		for i := range score {
			score[i], bias[i] = c.Score(d.Row(i)), c.Contributions(d.Row(i), make([]float64, d.Cols))
		}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dst := make([]float64, d.Cols)
				for i := range score {
					if s, b := c.Score(d.Row(i)), c.Contributions(d.Row(i), dst); s != score[i] || b != bias[i] {
						t.Errorf("%s, row %d: score %v and bias %v, sequentially %v and %v", c.Algo(), i+1, s, b, score[i], bias[i])
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
