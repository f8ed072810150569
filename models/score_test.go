package models_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
)

func TestScoreFile(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "abscopal", "abscopal_response", 800, 9)
	dir := t.TempDir()
	in := filepath.Join(dir, "cohort.parquet")
	if err := synth.WriteFile(ctx, in, 50, 10, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.csv")
	res, err := m.ScoreFile(ctx, in, out, models.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 51 || lines[0] != "patient_id,probability,model,version,imputed_inputs,reason" || res.Rows != 50 {
		t.Fatalf("%d lines, header %q, %+v", len(lines), lines[0], res)
	}
	ps := synth.Generate(50, 10)
	undefined := 0
	for i, p := range ps {
		line := lines[i+1]
		if !p.HadRT() {
			undefined++
			if !strings.HasPrefix(line, p.PatientID+",,abscopal,v1,,an abscopal response needs radiotherapy") {
				t.Errorf("row %d without RT: %q", i+1, line)
			}
			continue
		}
		if !strings.HasPrefix(line, p.PatientID+",0.") || !strings.HasSuffix(line, ",") {
			t.Errorf("row %d: %q", i+1, line)
		}
	}
	if res.Undefined != undefined || undefined == 0 {
		t.Errorf("undefined %d, want %d (> 0)", res.Undefined, undefined)
	}
	if side, err := os.ReadFile(out + ".meta.json"); err != nil || !strings.Contains(string(side), `"abscopal.synthetic": "true"`) {
		t.Errorf("sidecar %s (%v)", side, err)
	}
}

// TestScoreFileBatches: a file of several batches (read on another
// goroutine) comes out in file order, each row the probability Predict
// gives; scoring stopped by its context writes nothing.
func TestScoreFileBatches(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "orr", "objective_response", 800, 9)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "scores.parquet")
	const n = 2*data.DefaultBatchSize + 100
	if err := synth.WriteFile(ctx, in, n, 12, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := m.ScoreFile(ctx, in, out, models.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(ctx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, p := tbl.Column("patient_id"), tbl.Column("probability")
	ps := synth.Generate(n, 12)
	if tbl.Len != n {
		t.Fatalf("%d rows, want %d", tbl.Len, n)
	}
	// The rows are scored in chunks side by side; the report is the one
	// of the rows tallied one by one.
	var (
		tally   models.InputTally
		scratch models.Scratch
	)
	caseMix := m.Bundle.Pipeline.NewStability()
	scratch.ProfileInputs()
	for i := range ps {
		pred := m.ScoreWith(features.PatientRecord{P: &ps[i]}, &scratch)
		if want := pred.Probability; ids.Str[i] != ps[i].PatientID || p.Num[i] != want {
			t.Fatalf("row %d: %s %v, want %s %v", i+1, ids.Str[i], p.Num[i], ps[i].PatientID, want)
		}
		tally.Add(&pred.Notes)
		caseMix.AddBins(pred.Notes.Bins)
	}
	_, names := m.Bundle.Pipeline.OutputGroups()
	if want := tally.Reports(names); len(want) == 0 || !reflect.DeepEqual(res.Inputs, want) || !reflect.DeepEqual(res.CaseMix, caseMix.Shifts()) {
		t.Errorf("inputs %+v\nwant %+v\ncase mix %+v\nwant %+v", res.Inputs, want, res.CaseMix, caseMix.Shifts())
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	again := filepath.Join(dir, "again.parquet")
	if _, err := m.ScoreFile(cancelled, in, again, models.ScoreOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := os.Stat(again); !os.IsNotExist(err) {
		t.Errorf("a cancelled scoring left %s", again)
	}
}

// TestScoreFileErrors: a failed scoring names the problem and leaves the
// output as it was.
func TestScoreFileErrors(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "abscopal", "abscopal_response", 800, 9)
	dir := t.TempDir()
	bad := datatest.WriteTable(t, filepath.Join(dir, "bad.parquet"),
		[]data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString}, {Name: "alc", Kind: data.KindFloat}},
		[][]data.Value{{data.String("a"), data.String("pd1"), data.Float(1.2)}, {data.String("b"), data.String("pd1"), data.Float(500)}})
	// A file of other columns (the real cohort's shape): the model says
	// which files it reads, as it takes no spec.
	other := datatest.WriteTable(t, filepath.Join(dir, "other.parquet"),
		[]data.ColumnSpec{{Name: "sample_id", Kind: data.KindString}, {Name: "tmb", Kind: data.KindFloat}}, [][]data.Value{{data.String("a"), data.Float(3)}})
	out := filepath.Join(dir, "scores.parquet")
	if err := os.WriteFile(out, []byte("previous scores"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, out, want string
	}{
		{"invalid row", bad, out, "row 2, column alc: out of range: 500"},
		{"missing input", filepath.Join(dir, "missing.parquet"), out, "missing.parquet"},
		{"extension", bad, filepath.Join(dir, "scores.txt"), "scores.txt: the extension must be .parquet or .csv"},
		{"not a cohort file", other, out, "other.parquet: column patient_id: missing (required, STRING); the file has 1 of the cohort schema's 35 columns (abscopal schema); model abscopal:v1 reads cohort files (it was trained with the built-in spec)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.ScoreFile(ctx, tt.in, tt.out, models.ScoreOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(out); string(b) != "previous scores" {
		t.Errorf("the output was changed: %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 { // bad, other and the untouched output
		t.Errorf("files left behind: %v", entries)
	}
}

// TestScoreWithIsPredictWith: batch scoring's ScoreWith, which skips the
// contributions, gives the API's PredictWith probability bit for bit, and
// that is the classifier's own score calibrated; the API's bias and
// contributions add up to it.
func TestScoreWithIsPredictWith(t *testing.T) {
	ps := synth.Generate(200, 31)
	for _, target := range []string{"abscopal_response", "objective_response"} {
		m := modeltest.Synthetic(t, "m", target, 600, 30)
		var a, b models.Scratch
		x := make([]float64, m.Bundle.Pipeline.NumOutputs())
		for i := range ps {
			r := features.PatientRecord{P: &ps[i]}
			full, fast := m.PredictWith(r, &a), m.ScoreWith(r, &b)
			m.Bundle.Pipeline.Transform(r, x, nil)
			if full.Probability != fast.Probability || full.Score != fast.Score || full.Score != m.Classifier.Score(x) || fast.Contributions != nil {
				t.Fatalf("%s, patient %d: PredictWith %v / %v, ScoreWith %v / %v, classifier %v", target, i, full.Score, full.Probability, fast.Score, fast.Probability, m.Classifier.Score(x))
			}
			sum := full.Bias
			for _, c := range full.Contributions {
				sum += c
			}
			if math.Abs(sum-full.Score) > 1e-12 {
				t.Fatalf("%s, patient %d: bias + contributions %v, score %v", target, i, sum, full.Score)
			}
		}
	}
}

// TestScoreFileContributions: with contributions, each scored row has the
// bias and a contribution per feature that add up to the score the
// probability calibrates; a row without a probability has none.
func TestScoreFileContributions(t *testing.T) {
	ctx := context.Background()
	m := modeltest.Synthetic(t, "abscopal", "abscopal_response", 800, 9)
	dir := t.TempDir()
	in := filepath.Join(dir, "cohort.parquet")
	if err := synth.WriteFile(ctx, in, 60, 10, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.parquet")
	if _, err := m.ScoreFile(ctx, in, out, models.ScoreOptions{Contributions: true}); err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(ctx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, names := m.Bundle.Pipeline.OutputGroups()
	p, bias := tbl.Column("probability"), tbl.Column("bias")
	if p == nil || bias == nil || len(tbl.Columns) != 6+1+len(names) {
		t.Fatalf("columns %v", tbl.Columns)
	}
	scored := 0
	for i := 0; i < tbl.Len; i++ {
		if !p.Valid[i] {
			if bias.Valid[i] || tbl.Column("contribution_" + names[0]).Valid[i] {
				t.Errorf("row %d: contributions without a probability", i+1)
			}
			continue
		}
		scored++
		score := bias.Num[i]
		for _, n := range names {
			score += tbl.Column("contribution_" + n).Num[i]
		}
		if got := m.Bundle.Calibration.Apply(score); math.Abs(got-p.Num[i]) > 1e-12 {
			t.Errorf("row %d: calibrated bias + contributions %v, probability %v", i+1, got, p.Num[i])
		}
	}
	if scored == 0 || scored == tbl.Len {
		t.Errorf("%d of %d rows scored: want some with and some without RT", scored, tbl.Len)
	}
}
