package models_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// logisticData draws n rows of cols standard normal features whose
// outcome follows a logistic model with an interaction, seeded.
func logisticData(n, cols int, seed uint64) *models.Data {
	rng := rand.New(rand.NewPCG(seed, 3))
	d := &models.Data{Rows: n, Cols: cols, X: make([]float64, n*cols), Y: make([]float64, n)}
	for i := range n {
		x := d.Row(i)
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		z := -0.5 + 0.9*x[0] - 0.6*x[1] + 0.8*x[0]*x[2]
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Y[i] = 1
		}
	}
	return d
}

// smallSettings are each algorithm's settings, small enough for a test.
func smallSettings() models.Settings {
	return models.Settings{
		Logistic: models.LogisticOptions{Lambda: 1},
		GBM:      models.GBMOptions{Trees: 40, MaxDepth: 2, LearningRate: 0.1, Lambda: 1, MinChildWeight: 1, Subsample: 0.8, ColSample: 1},
		Forest:   models.ForestOptions{Trees: 15, MinLeaf: 5},
	}
}

// TestAlgorithmTable: every entry of the table is whole and keeps its own
// promises: its classifier names it, decodes from what it encodes to the
// same scores, its contributions add up to its score, and the settings its
// bundle records fit the same model again, byte for byte.
func TestAlgorithmTable(t *testing.T) {
	d := logisticData(300, 4, 1)
	seen := map[string]bool{}
	for _, a := range models.Algorithms() {
		t.Run(a.Name, func(t *testing.T) {
			if seen[a.Name] || a.Summary == "" || a.New == nil || a.Fit == nil || a.Hyperparameters == nil || a.ReadHyperparameters == nil {
				t.Fatalf("an entry given twice, or not whole: %+v", a)
			}
			seen[a.Name] = true
			if got, err := models.LookupAlgorithm(a.Name); err != nil || got.Name != a.Name {
				t.Fatalf("LookupAlgorithm(%q): %v", a.Name, err)
			}
			c, err := a.Fit(context.Background(), d, smallSettings(), 7)
			if err != nil {
				t.Fatal(err)
			}
			if c.Algo() != a.Name || a.New().Algo() != a.Name {
				t.Errorf("classifier names itself %q, New's %q", c.Algo(), a.New().Algo())
			}
			raw, err := models.Encode(c)
			if err != nil {
				t.Fatal(err)
			}
			back, err := models.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			contrib := make([]float64, d.Cols)
			for i := range 20 {
				x := d.Row(i)
				if back.Score(x) != c.Score(x) {
					t.Fatalf("row %d: decoded score %v, fitted %v", i, back.Score(x), c.Score(x))
				}
				bias := c.Contributions(x, contrib)
				sum := bias
				for _, v := range contrib {
					sum += v
				}
				if math.Abs(sum-c.Score(x)) > 1e-9 {
					t.Fatalf("row %d: contributions add up to %v, the score is %v", i, sum, c.Score(x))
				}
			}
			// The recorded settings fit the same model again.
			hyper, err := json.Marshal(a.Hyperparameters(c, smallSettings()))
			if err != nil {
				t.Fatal(err)
			}
			var s models.Settings
			if err := a.ReadHyperparameters(hyper, &s); err != nil {
				t.Fatal(err)
			}
			again, err := a.Fit(context.Background(), d, s, 7)
			if err != nil {
				t.Fatal(err)
			}
			if raw2, _ := models.Encode(again); !bytes.Equal(raw, raw2) {
				t.Errorf("refitted from the recorded settings %s: a different model", hyper)
			}
		})
	}
	if _, err := models.LookupAlgorithm("xgboost"); !errors.Is(err, models.ErrAlgorithm) || err.Error() != `unknown algorithm "xgboost" (logistic, gbm, forest or stack)` {
		t.Errorf("an unknown name: %v", err)
	}
}

// TestStack: the stack's weights come from out-of-fold scores, so on new
// rows it ranks at least as well as its weakest base and close to its best
// (the truth here has an interaction, which the trees find and the
// logistic regression cannot); the same seed gives the same stack; a
// damaged stack is refused.
func TestStack(t *testing.T) {
	train, test := logisticData(800, 4, 2), logisticData(2000, 4, 3)
	aucOf := func(c models.Classifier) float64 {
		p := make([]float64, test.Rows)
		for i := range p {
			p[i] = c.Score(test.Row(i))
		}
		return stats.AUC(p, test.Y)
	}
	st, err := models.FitStack(context.Background(), train, smallSettings(), 11)
	if err != nil {
		t.Fatal(err)
	}
	stack := st.(*models.Stack)
	if len(stack.Weights) != 3 || len(stack.Bases) != 3 || stack.InnerFolds != 5 {
		t.Fatalf("stack %+v", stack)
	}
	worst, best := 1.0, 0.0
	for _, b := range stack.Bases {
		a := aucOf(b)
		worst, best = min(worst, a), max(best, a)
	}
	got := aucOf(stack)
	t.Logf("held-out AUC: stack %.4f, bases %.4f-%.4f, weights %.3f (intercept %.3f)", got, worst, best, stack.Weights, stack.Intercept)
	if got < worst || got < best-0.01 {
		t.Errorf("stack AUC %.4f; bases %.4f to %.4f", got, worst, best)
	}
	again, err := models.FitStack(context.Background(), train, smallSettings(), 11)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := models.Encode(st)
	b, _ := models.Encode(again)
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave another stack")
	}
	for _, bad := range []string{
		`{"algo": "stack", "model": {"intercept": 0, "weights": [1], "inner_folds": 5, "bases": []}}`,
		`{"algo": "stack", "model": {"intercept": 0, "weights": [1, 2], "inner_folds": 5, "bases": [{"algo": "logistic", "model": {"intercept": 0, "coef": [1], "lambda": 1}}]}}`,
	} {
		if _, err := models.Decode([]byte(bad)); err == nil {
			t.Errorf("decoded %s", bad)
		}
	}
}
