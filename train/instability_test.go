package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// TestInstability: the stability analysis is reproducible whatever the
// cores, and says what Riley and Collins show: a model developed on fewer
// patients gives each one a less stable probability.
func TestInstability(t *testing.T) {
	spec := features.BuiltinSpec("objective_response")
	run := func(n int, procs int) *train.Result {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var steps []string
		res, err := train.Run(context.Background(), spec, records(synth.Generate(n, 8)), train.Options{Algo: "logistic", Seed: 2, Bootstrap: 10, Instability: 30,
			Progress: func(done, total int, step string) { steps = append(steps, fmt.Sprintf("%d/%d %s", done, total, step)) }})
		if err != nil {
			t.Fatal(err)
		}
		if want := "16/16 bootstrap model 30 of 30"; steps[len(steps)-1] != want || len(steps) != 17 {
			t.Errorf("progress %q; want 17 steps, the last %q", steps, want)
		}
		return res
	}
	small, again := run(300, runtime.GOMAXPROCS(0)), run(300, 1)
	a, _ := json.Marshal(small.Instability)
	b, _ := json.Marshal(again.Instability)
	if string(a) != string(b) {
		t.Errorf("the same analysis on %d cores and on 1 differs:\n%s\n%s", runtime.GOMAXPROCS(0), a, b)
	}
	large := run(3000, runtime.GOMAXPROCS(0))
	s, l := small.Instability, large.Instability
	t.Logf("MAPE %.4f on 300 rows, %.4f on 3,000; mean width %.4f and %.4f", s.MAPE, l.MAPE, s.Width95, l.Width95)
	if s.Bootstraps != 30 || len(s.ByDecile) != 10 || !(s.MAPE > 0 && s.MAPE < 0.5) || !(s.MAPEP95 >= s.MAPE && s.MAPEMax >= s.MAPEP95) {
		t.Errorf("300 rows: %+v", s)
	}
	// Ten times the rows: the spread of the estimates would shrink by
	// sqrt(10) but that the fixed penalty shrinks a small sample's more
	// (0.60 and 0.62 times when written).
	if !(l.MAPE < 0.75*s.MAPE && l.Width95 < 0.75*s.Width95) {
		t.Errorf("MAPE %.4f and width %.4f on 3,000 rows against %.4f and %.4f on 300: want under 3/4", l.MAPE, l.Width95, s.MAPE, s.Width95)
	}

	b2, err := train.Bundle("or", small, models.TrainingInfo{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := workflow.Files(b2, small)
	if err != nil {
		t.Fatal(err)
	}
	card := string(files["card.md"])
	for _, want := range []string{"## Stability of the predictions", "30 bootstrap samples", "![prediction instability](instability.svg)",
		fmt.Sprintf("| %.4f |", s.MAPE), "| 10 | 30 | "} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if svg := string(files["instability.svg"]); !strings.HasPrefix(svg, "<?xml") || !strings.Contains(svg, "bootstrap range") {
		t.Errorf("instability.svg: %.200s", svg)
	}
	o, err := train.OptionsOf(b2)
	if err != nil || o.Instability != 30 {
		t.Errorf("OptionsOf: instability %d, %v; want 30 recorded", o.Instability, err)
	}
}

func TestInstabilityErrors(t *testing.T) {
	spec := features.BuiltinSpec("objective_response")
	recs := records(synth.Generate(300, 8))
	for _, tc := range []struct {
		bootstraps int
		want       string
	}{
		{-1, "-1 bootstrap models"},
		{train.MaxInstabilityValues/300 + 1, fmt.Sprintf("take at most %d", train.MaxInstabilityValues/300)},
	} {
		_, err := train.Run(context.Background(), spec, recs, train.Options{Algo: "logistic", Bootstrap: 10, Instability: tc.bootstraps})
		if !errors.Is(err, train.ErrTrain) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d bootstrap models: %v; want ErrTrain saying %q", tc.bootstraps, err, tc.want)
		}
	}
	res, err := train.Run(context.Background(), spec, recs, train.Options{Algo: "logistic", Bootstrap: 10})
	if err != nil || res.Instability != nil {
		t.Errorf("no analysis asked for: %+v, %v", res.Instability, err)
	}
	if reflect.ValueOf(res).IsNil() {
		t.Fatal("no result")
	}
}
