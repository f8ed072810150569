package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/card"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// TestOptionsOf: the options a bundle records are those it was trained
// with, for each algorithm, with non-default settings.
func TestOptionsOf(t *testing.T) {
	recs := records(synth.Generate(500, 51))
	gbm := train.DefaultGBM()
	gbm.Trees, gbm.MaxDepth, gbm.LearningRate = 20, 3, 0.2
	for _, opts := range []train.Options{
		{Algo: "logistic", Folds: 3, Seed: 2, Bootstrap: 30, Calibration: "isotonic", Threshold: 0.3, Settings: models.Settings{Logistic: models.LogisticOptions{Lambda: 4}}},
		{Algo: "gbm", Folds: 4, Seed: 5, Bootstrap: 20, Calibration: "none", Threshold: 0.5, Settings: models.Settings{GBM: gbm}, By: "ecog", ByKind: data.KindInt},
		{Algo: "forest", Folds: 3, Seed: 7, Bootstrap: 10, Calibration: "platt", Threshold: 0.6, Settings: models.Settings{Forest: models.ForestOptions{Trees: 7, MinLeaf: 5, SplitFeatures: 4, MaxDepth: 12, MaxBins: 16, Learner: models.ForestHistogram}}},
		{Algo: "stack", Folds: 3, Seed: 3, Bootstrap: 10, Calibration: "platt", Threshold: 0.5, Settings: models.Settings{Logistic: models.LogisticOptions{Lambda: 2}, GBM: gbm, Forest: models.ForestOptions{Trees: 5, MinLeaf: 5}}},
	} {
		res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), recs, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := train.Bundle("m", res, models.TrainingInfo{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := train.OptionsOf(b)
		if err != nil {
			t.Fatal(err)
		}
		// The card gives the algorithm's own caveats, from the table.
		alg, _ := models.LookupAlgorithm(opts.Algo)
		for _, note := range alg.Notes {
			if md := card.Markdown(b, res); !strings.Contains(md, note) {
				t.Errorf("%s: the card lacks %q", opts.Algo, note)
			}
		}
		// What OptionsOf cannot know (the caller's), and the seeds each fit
		// derives from Options.Seed.
		got.ByKind = opts.ByKind
		got.GBM.Seed, got.Forest.Seed = 0, 0
		if !reflect.DeepEqual(got, opts) {
			t.Errorf("%s:\n got %+v\nwant %+v", opts.Algo, got, opts)
		}
	}

	// A bundle that does not say how it was made.
	res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), recs, train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		alter func(*models.Bundle)
	}{
		{"no bootstrap count", func(b *models.Bundle) { b.Training.Bootstrap = 0 }},
		{"unknown algorithm", func(b *models.Bundle) { b.Algo = "svm" }},
		{"unreadable hyperparameters", func(b *models.Bundle) { b.Training.Hyperparameters = json.RawMessage(`[1]`) }},
	} {
		b, err := train.Bundle("m", res, models.TrainingInfo{})
		if err != nil {
			t.Fatal(err)
		}
		tt.alter(b)
		if _, err := train.OptionsOf(b); !errors.Is(err, train.ErrNotReproducible) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
