package train_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

func openSource(t *testing.T, m *models.Model, path string) *features.Source {
	t.Helper()
	spec := *m.Bundle.Pipeline.Spec
	src, err := features.OpenSource(context.Background(), path, &spec, features.SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestValidate scores a fresh synthetic cohort with a model trained on
// another: the metrics are those of the model's own predictions on the rows
// that have a defined, non-null outcome, computed here a second way.
func TestValidate(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "m", "abscopal_response", 3000, 21)
	path := filepath.Join(t.TempDir(), "external.parquet")
	if err := synth.WriteFile(ctx, path, 2000, 22, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := train.Validate(ctx, m, openSource(t, m, path), train.ValidateOptions{Threshold: 0.3, Bootstrap: 200, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}

	var p, y, truth []float64
	noRT, unlabelled := 0, 0
	ps := synth.Generate(2000, 22)
	for i := range ps {
		switch {
		case !ps[i].HadRT():
			noRT++
		case ps[i].AbscopalResponse == nil:
			unlabelled++
		default:
			p = append(p, m.Predict(features.PatientRecord{P: &ps[i]}).Probability)
			y = append(y, map[bool]float64{true: 1}[*ps[i].AbscopalResponse])
			truth = append(truth, *ps[i].TruePAbscopal)
		}
	}
	want := stats.Evaluate(p, y, 0.3, 0, 0)
	got := v.Metrics
	if v.Undefined != noRT || v.Unlabelled != unlabelled || got.N != len(y) || got.Positives != want.Positives {
		t.Errorf("rows: undefined %d, unlabelled %d, n %d (%d positive); want %d, %d, %d (%d)",
			v.Undefined, v.Unlabelled, got.N, got.Positives, noRT, unlabelled, len(y), want.Positives)
	}
	if got.AUC != want.AUC || got.Brier != want.Brier || got.CalSlope != want.CalSlope || got.Sensitivity != want.Sensitivity || got.Threshold != 0.3 {
		t.Errorf("metrics %+v\nwant %+v", got, want)
	}
	if !(got.AUCLow < got.AUC && got.AUC < got.AUCHigh) {
		t.Errorf("AUC %v outside its interval %v-%v", got.AUC, got.AUCLow, got.AUCHigh)
	}
	// A real validation: close to what the true probabilities achieve on
	// the same patients, and calibrated on patients it never saw.
	ta := stats.AUC(truth, y)
	t.Logf("external AUC %.4f (%.4f-%.4f), true probabilities %.4f, calibration slope %.3f", got.AUC, got.AUCLow, got.AUCHigh, ta, got.CalSlope)
	if math.Abs(got.AUC-ta) > 0.04 {
		t.Errorf("AUC %.4f, true probabilities %.4f", got.AUC, ta)
	}
	if got.CalSlope < 0.75 || got.CalSlope > 1.25 {
		t.Errorf("calibration slope %.3f on new patients", got.CalSlope)
	}
}

func TestValidateErrors(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "m", "objective_response", 600, 23)
	dir := t.TempDir()
	write := func(name string, cols []data.ColumnSpec, rows [][]data.Value) string {
		return datatest.WriteTable(t, filepath.Join(dir, name), cols, rows)
	}
	id := data.ColumnSpec{Name: "patient_id", Kind: data.KindString}
	ici := data.ColumnSpec{Name: "ici_class", Kind: data.KindString}
	outcome := data.ColumnSpec{Name: "objective_response", Kind: data.KindBool, Optional: true}
	tests := []struct {
		name, path, want string
	}{
		{"no target column", write("no_target.parquet", []data.ColumnSpec{id, ici},
			[][]data.Value{{data.String("a"), data.String("pd1")}, {data.String("b"), data.String("pd1")}}),
			"no row has a value of the target objective_response (2 null, 0 without meaning for it)"},
		{"one class", write("one_class.parquet", []data.ColumnSpec{id, ici, outcome},
			[][]data.Value{{data.String("a"), data.String("pd1"), data.Bool(true)}, {data.String("b"), data.String("pd1"), data.Bool(true)}, {data.String("c"), data.String("pd1"), data.Null}}),
			"all 2 labelled rows have the same outcome (2 positive)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := train.Validate(ctx, m, openSource(t, m, tt.path), train.ValidateOptions{Threshold: 0.5})
			if !errors.Is(err, train.ErrValidate) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// TestValidateGroups breaks a validation down by RT site: each subgroup's
// metrics are those of its own rows, the groups add up to the whole, null
// comes last, and a column of measurements is refused.
func TestValidateGroups(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "m", "objective_response", 2000, 31)
	path := filepath.Join(t.TempDir(), "external.parquet")
	if err := synth.WriteFile(ctx, path, 1500, 32, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := train.Validate(ctx, m, openSource(t, m, path), train.ValidateOptions{Threshold: 0.5, Bootstrap: 50, Seed: 1, By: "rt_site"})
	if err != nil {
		t.Fatal(err)
	}
	bySite := map[string][2][]float64{}
	for _, p := range synth.Generate(1500, 32) {
		site := "null"
		if p.RTSite != nil {
			site = *p.RTSite
		}
		py := bySite[site]
		py[0] = append(py[0], m.Predict(features.PatientRecord{P: &p}).Probability)
		py[1] = append(py[1], map[bool]float64{true: 1}[*p.ObjectiveResponse])
		bySite[site] = py
	}
	var names []string
	n := 0
	for _, g := range v.Groups {
		names = append(names, g.Value)
		n += g.N
		py := bySite[g.Value]
		want := stats.Evaluate(py[0], py[1], 0.5, 50, 1)
		if g.Metrics == nil || g.N != len(py[0]) || g.Positives != want.Positives || g.Metrics.AUC != want.AUC || g.Metrics.AUCLow != want.AUCLow || g.Metrics.CalSlope != want.CalSlope {
			t.Errorf("group %s: %+v\nwant n %d, %+v", g.Value, g, len(py[0]), want)
		}
	}
	if want := []string{"adrenal", "bone", "brain", "liver", "lung", "mediastinum", "other", "null"}; strings.Join(names, ",") != strings.Join(want, ",") || n != v.Metrics.N {
		t.Errorf("groups %v (%d rows), want %v (%d rows)", names, n, want, v.Metrics.N)
	}

	// A group with one outcome only has no metrics; numbers sort as numbers.
	v, err = train.Validate(ctx, m, openSource(t, m, path), train.ValidateOptions{Threshold: 0.5, By: "pneumonitis_grade"})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range v.Groups {
		if i > 0 && g.Value < v.Groups[i-1].Value {
			t.Errorf("grades out of order: %s after %s", g.Value, v.Groups[i-1].Value)
		}
		if (g.Metrics == nil) != (g.Positives == 0 || g.Positives == g.N) {
			t.Errorf("grade %s: %d of %d positive, metrics %v", g.Value, g.Positives, g.N, g.Metrics)
		}
	}

	_, err = train.Validate(ctx, m, openSource(t, m, path), train.ValidateOptions{Threshold: 0.5, By: "age"})
	if !errors.Is(err, train.ErrSubgroups) || !strings.Contains(err.Error(), "column age has more than 20 values") {
		t.Errorf("by age: %v", err)
	}
}
