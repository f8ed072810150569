package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/card"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

func TestLambdaGrid(t *testing.T) {
	g := train.LambdaGrid()
	want := []float64{0.01, 0.0316, 0.1, 0.316, 1, 3.16, 10, 31.6, 100, 316, 1000}
	if len(g) != len(want) {
		t.Fatalf("grid %v", g)
	}
	for i := range g {
		if math.Abs(g[i]-want[i]) > 0.001*want[i] || (i > 0 && !(g[i] > g[i-1])) {
			t.Errorf("grid[%d] = %v, want about %v and increasing", i, g[i], want[i])
		}
	}
	if g[4] != 1 {
		t.Errorf("grid[4] = %v, want exactly 1", g[4])
	}
}

// TestTune: the tuned penalty follows the signal. With labels drawn
// independently of every input, the inner cross-validation prefers the
// largest penalty (the base rate is the best guess); with 800 synthetic
// patients and a real signal, a small one. Each outer fold records its
// own; the final model's is the one tuned on all rows.
func TestTune(t *testing.T) {
	spec := features.BuiltinSpec("objective_response")
	noise := synth.Generate(300, 21)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		v := r.Float64() < 0.3
		noise[i].ObjectiveResponse = &v
	}
	res, err := train.Run(context.Background(), spec, records(noise), train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10, Tune: true})
	if err != nil {
		t.Fatal(err)
	}
	grid := train.LambdaGrid()
	t.Logf("noise: %s", res.TunedLambda())
	if l := res.Model.(*models.Logistic).Lambda; l < grid[len(grid)-2] || len(res.FoldLambdas) != 3 {
		t.Errorf("noise: lambda %v, folds %v; want one of the two largest, 3 folds", l, res.FoldLambdas)
	}

	res, err = train.Run(context.Background(), spec, records(synth.Generate(800, 22)), train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10, Tune: true})
	if err != nil {
		t.Fatal(err)
	}
	l := res.Model.(*models.Logistic).Lambda
	t.Logf("signal: %s", res.TunedLambda())
	if l > 10 || len(res.FoldLambdas) != 3 {
		t.Errorf("signal: lambda %v, folds %v; want at most 10, 3 folds", l, res.FoldLambdas)
	}
	for _, f := range res.FoldLambdas {
		if !inGrid(f, grid) {
			t.Errorf("fold lambda %v is not in the grid", f)
		}
	}

	// Recorded, reproduced byte for byte, and described.
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := train.OptionsOf(b)
	if err != nil || !opts.Tune || opts.Logistic.Lambda != l {
		t.Fatalf("recorded options %+v (%v); want Tune and lambda %v", opts, err, l)
	}
	again, err := train.Run(context.Background(), spec, records(synth.Generate(800, 22)), opts)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := train.Bundle("m", again, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	j1, _ := json.Marshal(b)
	j2, _ := json.Marshal(b2)
	if !bytes.Equal(j1, j2) {
		t.Error("a tuned run retrained from its recorded options gives another bundle")
	}
	md := card.Markdown(b, res)
	if want := "The L2 penalty, " + res.TunedLambda() + ", was chosen among 11 values from 0.01 to 1000"; !strings.Contains(md, want) {
		t.Errorf("card lacks %q:\n%s", want, md)
	}
}

func inGrid(l float64, grid []float64) bool {
	for _, g := range grid {
		if g == l {
			return true
		}
	}
	return false
}
