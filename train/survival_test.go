package train_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// TestCoxModelOfSurvival: a Cox model of overall survival on synthetic patients
// discriminates (the generator's hazards depend on the features), beats
// the Kaplan-Meier null model's Brier scores, gives the published hazard
// directions, and is the same model, byte for byte, for the same seed.
func TestCoxModelOfSurvival(t *testing.T) {
	recs := records(synth.Generate(1200, 21))
	spec := features.BuiltinSpec("os")
	opts := train.SurvivalOptions{Seed: 3, Bootstrap: 100}
	res, err := train.RunSurvival(context.Background(), spec, recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if res.Rows != 1200 || res.Events == 0 || res.Events == res.Rows {
		t.Fatalf("rows %d, events %d", res.Rows, res.Events)
	}
	if !(m.C > 0.58 && m.CLow < m.C && m.C < m.CHigh) {
		t.Errorf("Harrell's C %.3f (%.3f-%.3f): the generator's hazards depend on the features", m.C, m.CLow, m.CHigh)
	}
	if !(m.Uno > 0.58 && m.UnoLow < m.Uno && m.Uno < m.UnoHigh) {
		t.Errorf("Uno's C %.3f (%.3f-%.3f)", m.Uno, m.UnoLow, m.UnoHigh)
	}
	for k, at := range m.Times {
		if !(m.Brier[k] < m.NullBrier[k]) || !(m.AUC[k] > 0.55) {
			t.Errorf("at %g: Brier %.4f against the null model's %.4f, AUC %.3f", at, m.Brier[k], m.NullBrier[k], m.AUC[k])
		}
		if len(m.Calibration[k]) != 10 {
			t.Errorf("at %g: %d tenths", at, len(m.Calibration[k]))
		}
	}
	if !(m.IBS < m.NullIBS) {
		t.Errorf("IBS %.4f, null %.4f", m.IBS, m.NullIBS)
	}
	// Published directions (ANCHORS.md): a high NLR shortens survival,
	// lymphocytes lengthen it: the coefficients of the standardised log
	// NLR and log ALC.
	coef := map[string]float64{}
	for j, o := range res.Pipeline.Outputs {
		coef[o] = res.Model.Cox.Coef[j]
	}
	if !(coef["nlr"] > 0) || !(coef["alc"] < 0) {
		t.Errorf("log hazard ratios: nlr %.3f (want > 0), alc %.3f (want < 0)", coef["nlr"], coef["alc"])
	}

	// Deterministic: the same bundle twice.
	again, err := train.RunSurvival(context.Background(), spec, recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := train.SurvivalBundle("os", res, models.TrainingInfo{DataFile: "x"})
	b2, _ := train.SurvivalBundle("os", again, models.TrainingInfo{DataFile: "x"})
	j1, _ := json.Marshal(b1)
	j2, _ := json.Marshal(b2)
	if !bytes.Equal(j1, j2) {
		t.Error("the same data, seed and options gave two bundles")
	}
	// The bundle decodes to a model that predicts as the fit does.
	dm, err := models.DecodeBundle(j1)
	if err != nil {
		t.Fatal(err)
	}
	p := dm.PredictSurvival(recs[0], []float64{12}, new(models.Scratch))
	x, _ := res.Pipeline.TransformAll(recs[:1])
	if want := res.Model.Survival(x.Row(0), 12); p.Survival[0] != want || dm.Classifier != nil {
		t.Errorf("decoded: S(12) %v, fit %v", p.Survival[0], want)
	}
	sum := 0.0
	for _, c := range p.Contributions {
		sum += c
	}
	if math.Abs(sum-p.LinearPredictor) > 1e-12 {
		t.Errorf("contributions sum to %v, the linear predictor is %v", sum, p.LinearPredictor)
	}
	if o, err := train.SurvivalOptionsOf(b1); err != nil || o.Seed != 3 || o.Lambda != train.DefaultCoxLambda || len(o.Times) != 3 {
		t.Errorf("recorded options %+v, %v", o, err)
	}
}

// TestSurvivalMetricsJSON: what could not be computed (NaN) is null in
// JSON, and reads back as NaN.
func TestSurvivalMetricsJSON(t *testing.T) {
	m := train.SurvivalMetrics{C: 0.7, CLow: math.NaN(), CHigh: math.NaN(), Uno: 0.69, UnoLow: 0.6, UnoHigh: 0.8, Times: []float64{6},
		AUC: []float64{math.NaN()}, Brier: []float64{0.2}, NullBrier: []float64{0.25}, IBS: 0.1, NullIBS: 0.12}
	b, err := json.Marshal(m)
	if err != nil || !strings.Contains(string(b), `"c_index_low":null`) || !strings.Contains(string(b), `"auc":[null]`) {
		t.Fatalf("%s, %v", b, err)
	}
	var back train.SurvivalMetrics
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.CLow) || !math.IsNaN(back.AUC[0]) || back.C != 0.7 || back.Brier[0] != 0.2 {
		t.Errorf("read back %+v, %v", back, err)
	}
}

// TestRunSurvivalTunes: with Tune, each fit's penalty comes from the grid,
// chosen by the cross-validated partial likelihood.
func TestRunSurvivalTunes(t *testing.T) {
	res, err := train.RunSurvival(context.Background(), features.BuiltinSpec("pfs"), records(synth.Generate(200, 5)), train.SurvivalOptions{Seed: 1, Tune: true, Bootstrap: 20, Folds: 3})
	if err != nil {
		t.Fatal(err)
	}
	in := func(l float64) bool {
		for _, g := range train.CoxLambdaGrid() {
			if g == l {
				return true
			}
		}
		return false
	}
	if len(res.FoldLambdas) != 3 || !in(res.Lambda) {
		t.Fatalf("lambda %v, per fold %v", res.Lambda, res.FoldLambdas)
	}
	for _, l := range res.FoldLambdas {
		if !in(l) {
			t.Errorf("fold lambda %v not of the grid", l)
		}
	}
}

// TestRunSurvivalRefuses: what cannot be trained, with the column and row
// named.
func TestRunSurvivalRefuses(t *testing.T) {
	ps := synth.Generate(60, 2)
	negative := append([]data.Patient{}, ps...)
	m := -3.0
	negative[7].OSMonths = &m
	few := append([]data.Patient{}, ps[:20]...)
	f, tr := false, true
	for i := range few {
		few[i].OSEvent = &f
		if i < 3 {
			few[i].OSEvent = &tr
		}
	}
	none := append([]data.Patient{}, ps[:20]...)
	for i := range none {
		none[i].OSEvent = &f
	}
	for _, tc := range []struct {
		name string
		ps   []data.Patient
		spec *features.Spec
		want string
	}{
		{"a negative time", negative, features.BuiltinSpec("os"), "row 8, column os_months: -3 months (allowed: 0 or more)"},
		{"fewer events than folds", few, features.BuiltinSpec("os"), "3 events (os_event true) among 20 rows cannot give each of 5 folds one"},
		{"no events", none, features.BuiltinSpec("os"), "no events (os_event true) among 20 rows"},
		{"a binary target", ps, features.BuiltinSpec(data.ObjectiveResponse), "target objective_response is not a time to an event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := train.RunSurvival(context.Background(), tc.spec, records(tc.ps), train.SurvivalOptions{Seed: 1, Bootstrap: 10})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, train.ErrSurvivalTarget) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Folds by a column are its values, whatever --folds says: 3 events
	// between two groups are enough when each held-out group leaves some.
	two := append([]data.Patient{}, few...)
	for i := range two {
		s := []string{"III", "IV"}[i%2]
		two[i].Stage = &s
	}
	if _, err := train.RunSurvival(context.Background(), features.BuiltinSpec("os"), records(two), train.SurvivalOptions{Seed: 1, Bootstrap: 10, FoldsBy: "stage", ByKind: data.KindString}); err != nil {
		t.Errorf("3 events, folds by stage: %v", err)
	}
	// A penalty too small for separated data fails the fold, named.
	_, err := train.RunSurvival(context.Background(), features.BuiltinSpec("os"), records(ps), train.SurvivalOptions{Seed: 1, Bootstrap: 10, Lambda: -1})
	if err == nil || !errors.Is(err, train.ErrSurvivalTarget) {
		t.Errorf("a negative penalty: %v", err)
	}
}

// TestBoostedCoxModelOfSurvival: the boosted Cox model cross-validates and
// fits like the Cox model, discriminates on synthetic patients, beats the
// null model, decodes from its bundle to the same predictions, and is the
// same bundle for the same seed.
func TestBoostedCoxModelOfSurvival(t *testing.T) {
	recs := records(synth.Generate(900, 31))
	opts := train.SurvivalOptions{Algo: models.BoostedCoxAlgo, Seed: 2, Bootstrap: 50, Folds: 3}
	res, err := train.RunSurvival(context.Background(), features.BuiltinSpec("pfs"), recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	if res.Model.Boosted == nil || !(m.C > 0.58) || !(m.IBS < m.NullIBS) {
		t.Fatalf("boosted: C %.3f, IBS %.4f against %.4f", m.C, m.IBS, m.NullIBS)
	}
	b1, err := train.SurvivalBundle("pfs", res, models.TrainingInfo{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := train.RunSurvival(context.Background(), features.BuiltinSpec("pfs"), recs, opts)
	b2, _ := train.SurvivalBundle("pfs", again, models.TrainingInfo{})
	j1, _ := json.Marshal(b1)
	j2, _ := json.Marshal(b2)
	if !bytes.Equal(j1, j2) || b1.Algo != models.BoostedCoxAlgo {
		t.Fatalf("algo %s; the same seed gave two bundles: %v", b1.Algo, !bytes.Equal(j1, j2))
	}
	dm, err := models.DecodeBundle(j1)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := res.Pipeline.TransformAll(recs[:5])
	for i := range 5 {
		p := dm.PredictSurvival(recs[i], []float64{6, 12}, new(models.Scratch))
		if p.Survival[1] != res.Model.Survival(x.Row(i), 12) {
			t.Errorf("patient %d: decoded S(12) %v, fitted %v", i, p.Survival[1], res.Model.Survival(x.Row(i), 12))
		}
		sum := 0.0
		for _, c := range p.Contributions {
			sum += c
		}
		bias := dm.Survival.Contributions(x.Row(i), make([]float64, x.Cols))
		if math.Abs(bias+sum-p.LinearPredictor) > 1e-9 {
			t.Errorf("patient %d: bias %v + contributions %v != log hazard %v", i, bias, sum, p.LinearPredictor)
		}
	}
	if o, err := train.SurvivalOptionsOf(b1); err != nil || o.Algo != models.BoostedCoxAlgo || o.GBM.Objective != models.ObjectiveCox {
		t.Errorf("recorded options %+v, %v", o, err)
	}
	if _, err := train.RunSurvival(context.Background(), features.BuiltinSpec("pfs"), recs, train.SurvivalOptions{Algo: models.BoostedCoxAlgo, Tune: true}); !errors.Is(err, train.ErrSurvivalTarget) {
		t.Errorf("a penalty tuned for a boosted model: %v", err)
	}
}
