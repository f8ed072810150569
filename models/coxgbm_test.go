package models

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestBoostedCoxMatchesXGBoost: on a fixed matrix whose features take few
// values (so that abscopal's bins and xgboost's exact splits search the
// same thresholds), 4 rounds of abscopal's boosted Cox give xgboost 1.7.4's
// survival:cox margins on the training rows, to its float32 precision
// (testdata/coxgbm: the script and its values).
func TestBoostedCoxMatchesXGBoost(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "coxgbm", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		X      [][]float64 `json:"x"`
		Time   []float64   `json:"time"`
		Event  []float64   `json:"event"`
		Margin []float64   `json:"margin"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	d := &Data{Rows: len(ref.X), Cols: 2, Y: ref.Event, Time: ref.Time}
	for _, r := range ref.X {
		d.X = append(d.X, r...)
	}
	m, err := FitGBM(context.Background(), d, GBMOptions{Trees: 4, MaxDepth: 2, LearningRate: 0.3, Lambda: 1, MinChildWeight: 0, Objective: ObjectiveCox, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range ref.X {
		worst = math.Max(worst, math.Abs(m.Score(d.Row(i))-ref.Margin[i]))
	}
	if worst > 1e-5 {
		t.Errorf("the largest difference from xgboost's margin is %g", worst)
	}
	t.Logf("largest difference from xgboost's margin: %.2g", worst)
}

// TestCoxGradientByHand: three patients, no ties, scores 0: the gradient
// and Hessian of the negative log partial likelihood worked by hand.
func TestCoxGradientByHand(t *testing.T) {
	// Times 1 (event), 2 (censored), 3 (event); exp(score) = 1 for all.
	// Risk sets: at 1 all three (S = 3), at 3 the last (S = 1).
	// Patient 1: g = 1/3 - 1, h = 1/3 - 1/9. Patient 2: g = 1/3, h = 1/3 - 1/9.
	// Patient 3: g = 1/3 + 1 - 1, h = (1/3 + 1) - (1/9 + 1).
	score, time, event := []float64{0, 0, 0}, []float64{1, 2, 3}, []float64{1, 0, 1}
	gh := make([]histBin, 3)
	coxGradient(score, time, event, []int32{0, 1, 2}, gh)
	wantG, wantH := []float64{1.0/3 - 1, 1.0 / 3, 1.0 / 3}, []float64{1.0/3 - 1.0/9, 1.0/3 - 1.0/9, 1.0/3 - 1.0/9}
	for i, p := range gh {
		if math.Abs(p.g-wantG[i]) > 1e-15 || math.Abs(p.h-wantH[i]) > 1e-15 {
			t.Errorf("patient %d: g %v h %v, by hand %v %v", i+1, p.g, p.h, wantG[i], wantH[i])
		}
	}
	// The loss: log 3 - 0 for the first event, log 1 - 0 for the last.
	if l := coxLoss(score, time, event, []int32{0, 1, 2}); math.Abs(l-math.Log(3)) > 1e-15 {
		t.Errorf("loss %v, by hand log 3", l)
	}
}
