package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// TestRecalibrate: a model meets patients whose response rate is higher
// than its training data's (two thirds of the non-responders left out), so
// it underestimates their risk; recalibrated on them, its calibration
// intercept goes from clearly positive to about 0, its ranking (AUC) does
// not move, and the new version keeps the pipeline and model, records its
// origin and comes out the same twice.
func TestRecalibrate(t *testing.T) {
	ctx := context.Background()
	files := modeltest.Files(t, "orr", features.BuiltinSpec("objective_response"), 1500, 3)
	m, err := models.DecodeBundle(files["bundle.json"])
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "v1"
	var shifted []data.Patient
	for i, p := range synth.Generate(6000, 21) {
		if *p.ObjectiveResponse || i%3 == 0 {
			shifted = append(shifted, p)
		}
	}
	path := filepath.Join(t.TempDir(), "centre_b.parquet")
	if err := data.WriteCohort(path, shifted, data.CohortWriteOptions{Synthetic: true}); err != nil {
		t.Fatal(err)
	}
	origin := models.Recalibration{From: "orr:v1", DataFile: "centre_b.parquet", DataSHA256: "abc", Synthetic: true}
	run := func(method string) (*train.Recalibrated, error) {
		src, err := features.OpenSource(ctx, path, features.BuiltinSpec("objective_response"), features.SourceOptions{NeedTarget: true})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		return train.Recalibrate(ctx, m, src, origin, train.RecalibrateOptions{Method: method, Bootstrap: 50, Seed: 1})
	}
	r, err := run(models.CalibrationPlatt)
	if err != nil {
		t.Fatal(err)
	}
	b, a := r.Before, r.After
	if !(b.CalIntercept > 0.5) || math.Abs(a.CalIntercept) > 0.02 || math.Abs(a.CalSlope-1) > 0.02 || !(a.Brier < b.Brier) {
		t.Errorf("calibration intercept / slope before %.3f / %.3f, after %.3f / %.3f; Brier %.4f -> %.4f", b.CalIntercept, b.CalSlope, a.CalIntercept, a.CalSlope, b.Brier, a.Brier)
	}
	if math.Abs(a.AUC-b.AUC) > 1e-12 || a.N != len(shifted) {
		t.Errorf("AUC %v -> %v (Platt scaling keeps the order); %d rows of %d", b.AUC, a.AUC, a.N, len(shifted))
	}

	nb := r.Bundle
	rc := nb.Recalibrated
	if rc == nil || rc.From != "orr:v1" || rc.Method != "platt" || rc.Rows != len(shifted) || rc.Positives != a.Positives || rc.Bootstrap != 50 || rc.DataSHA256 != "abc" {
		t.Fatalf("record %+v", rc)
	}
	if !bytes.Equal(nb.Model, m.Bundle.Model) || nb.Pipeline != m.Bundle.Pipeline || nb.Training.DataSHA256 != m.Bundle.Training.DataSHA256 || reflect.DeepEqual(nb.Calibration, m.Bundle.Calibration) {
		t.Error("the pipeline, model and training record must be the original's, the calibration new")
	}
	var metrics map[string]json.RawMessage
	var foldAUC, origAUC []float64
	if json.Unmarshal(nb.Metrics, &metrics) != nil || metrics["recalibration"] == nil || json.Unmarshal(metrics["fold_auc"], &foldAUC) != nil ||
		json.Unmarshal(mustField(t, m.Bundle.Metrics, "fold_auc"), &origAUC) != nil || !reflect.DeepEqual(foldAUC, origAUC) || len(origAUC) != 3 {
		t.Errorf("metrics: the original's with the recalibration's added; fold AUCs %v, %v", foldAUC, origAUC)
	}
	out, err := workflow.RecalibratedFiles(r, files)
	if err != nil {
		t.Fatal(err)
	}
	card := string(out["card.md"])
	if !strings.HasPrefix(card, "# Model card: orr, recalibrated\n") || !strings.HasSuffix(card, string(files["card.md"])) ||
		!strings.Contains(card, "| calibration intercept (ideal 0) |") || !strings.Contains(card, "| ICI, mean distance from the smoothed calibration curve (ideal 0) |") || !bytes.Equal(out["calibration.svg"], files["calibration.svg"]) || len(out["recalibration.svg"]) == 0 ||
		len(files["decision_curve.svg"]) == 0 || !bytes.Equal(out["decision_curve.svg"], files["decision_curve.svg"]) {
		t.Errorf("files: card\n%s", card)
	}
	// The same inputs give the same version, byte for byte; and the
	// version loads, scoring with the new calibration.
	again, err := run(models.CalibrationPlatt)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := workflow.RecalibratedFiles(again, files)
	for name := range out {
		if !bytes.Equal(out[name], out2[name]) {
			t.Errorf("%s differs between two recalibrations", name)
		}
	}
	loaded, err := models.DecodeBundle(out["bundle.json"])
	if err != nil || loaded.Bundle.Recalibrated == nil || !loaded.Bundle.Synthetic() {
		t.Fatalf("loading the recalibrated bundle: %v", err)
	}
	p := shifted[0]
	if got, want := loaded.Predict(features.PatientRecord{P: &p}).Probability, nb.Calibration.Apply(m.Predict(features.PatientRecord{P: &p}).Score); got != want {
		t.Errorf("probability %v, want the new calibration's %v", got, want)
	}

	if r, err := run(models.CalibrationIsotonic); err != nil || math.Abs(r.After.CalIntercept) > 0.05 {
		t.Errorf("isotonic: %v, %+v", err, r)
	}
	// The intercept shift solves the problem that defines the calibration
	// intercept: it equals the intercept before, leaves 0 after, and keeps
	// the slope (a shift of logit(p) moves only the line's intercept).
	ri, err := run(models.CalibrationIntercept)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ri.Shift-ri.Before.CalIntercept) > 1e-6 || math.Abs(ri.After.CalIntercept) > 1e-6 || math.Abs(ri.After.CalSlope-ri.Before.CalSlope) > 1e-6 ||
		ri.Bundle.Calibration.A != m.Bundle.Calibration.A || ri.Bundle.Recalibrated.Method != "intercept" {
		t.Errorf("intercept: shift %v, intercept %v -> %v, slope %v -> %v, calibration %+v", ri.Shift, ri.Before.CalIntercept, ri.After.CalIntercept,
			ri.Before.CalSlope, ri.After.CalSlope, ri.Bundle.Calibration)
	}
	if _, err := run("none"); err == nil || !strings.Contains(err.Error(), `recalibration method "none" (platt, isotonic or intercept)`) {
		t.Errorf("method none: %v", err)
	}
}

// mustField returns the raw JSON of a top-level field of b.
func mustField(t *testing.T, b []byte, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m[key]
}
