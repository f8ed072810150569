// Package modeltest trains small models for the tests of the packages that
// score with them (models, train, interop), so that each does not repeat
// the steps from a training run to a loaded model.
package modeltest

import (
	"context"
	"testing"

	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// Files trains a logistic model named name with spec on n synthetic
// patients drawn with seed (3-fold cross-validation with the same seed, 10
// bootstrap resamples) and returns the files a registry version holds.
func Files(t testing.TB, name string, spec *features.Spec, n int, seed uint64) map[string][]byte {
	t.Helper()
	return FilesWith(t, name, spec, n, seed, train.Options{Algo: "logistic", Folds: 3, Seed: seed, Bootstrap: 10})
}

// FilesWith is Files with the training options given.
func FilesWith(t testing.TB, name string, spec *features.Spec, n int, seed uint64, opts train.Options) map[string][]byte {
	t.Helper()
	ps := synth.Generate(n, seed)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	_, _, files, err := workflow.TrainRecords(context.Background(), name, spec, recs, opts, models.TrainingInfo{DataFile: "synthetic.parquet", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Synthetic is Files for target with the built-in spec, returned as a
// registry loads it: decoded from its bundle.json, at version v1.
func Synthetic(t testing.TB, name, target string, n int, seed uint64) *models.Model {
	t.Helper()
	m, err := models.DecodeBundle(Files(t, name, features.BuiltinSpec(target), n, seed)["bundle.json"])
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "v1"
	return m
}

// SurvivalFiles trains a Cox model of the time-to-event target (os or pfs)
// named name on n synthetic patients drawn with seed (3-fold
// cross-validation with the same seed, 20 bootstrap resamples) and returns
// the files a registry version holds.
func SurvivalFiles(t testing.TB, name, target string, n int, seed uint64) map[string][]byte {
	t.Helper()
	return SurvivalFilesWith(t, name, target, n, train.SurvivalOptions{Folds: 3, Seed: seed, Bootstrap: 20})
}

// SurvivalFilesWith is SurvivalFiles with the training options given (the
// synthetic cohort's seed is opts.Seed).
func SurvivalFilesWith(t testing.TB, name, target string, n int, opts train.SurvivalOptions) map[string][]byte {
	t.Helper()
	seed := opts.Seed
	ps := synth.Generate(n, seed)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	_, _, files, err := workflow.TrainSurvivalRecords(context.Background(), name, features.BuiltinSpec(target), recs,
		opts, models.TrainingInfo{DataFile: "synthetic.parquet", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
