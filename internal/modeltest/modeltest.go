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
)

// Synthetic trains a logistic model named name of target (built-in spec) on
// n synthetic patients drawn with seed (3-fold cross-validation, 10
// bootstrap resamples), and returns it as a registry loads it: decoded from
// its bundle.json, at version v1.
func Synthetic(t testing.TB, name, target string, n int, seed uint64) *models.Model {
	t.Helper()
	ps := synth.Generate(n, seed)
	recs := make([]features.Record, len(ps))
	for i := range ps {
		recs[i] = features.PatientRecord{P: &ps[i]}
	}
	res, err := train.Run(context.Background(), features.BuiltinSpec(target), recs, train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Bundle(name, res, models.TrainingInfo{DataFile: "synthetic.parquet", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := train.Files(b, res)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.DecodeBundle(files["bundle.json"])
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "v1"
	return m
}
