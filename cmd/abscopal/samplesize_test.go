package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/workflow"
)

// TestSampleSize plans the validation of a model on another synthetic
// cohort: from its labelled rows' prevalence, a given one, or, in a file
// without outcomes, the training rows'; the slope's criterion agrees with
// evaluate's on the same file (two ways to the same predictions).
func TestSampleSize(t *testing.T) {
	dir := t.TempDir()
	trainFile := synthCohort(t, dir, 800, 3)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", trainFile, "--target", "objective_response", "--algo", "logistic",
		"--registry", reg, "--name", "response", "--bootstrap", "10", "--folds", "3")
	other := filepath.Join(dir, "other.csv")
	mustCLI(t, "synth", "--n", "500", "--seed", "4", "--out", other)
	plan := func(args ...string) workflow.SampleSizeReport {
		t.Helper()
		code, stdout, stderr := runCLI(t, append([]string{"samplesize", "--registry", reg, "--model", "response", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("samplesize %v: exit %d, %s", args, code, stderr)
		}
		var r workflow.SampleSizeReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err, stdout)
		}
		return r
	}
	r := plan("--data", other)
	phi := float64(r.Positives) / float64(r.Labelled)
	// Criterion 1 by hand: (1 - phi) / (phi se^2), se = asinh(0.1) / 1.96.
	se := math.Asinh(0.1) / 1.96
	if r.Labelled != 500 || r.Patients != 500 || r.Prevalence != phi || r.PrevalenceFrom != "the file's labelled rows" ||
		r.ForOE != int(math.Ceil((1-phi)/(phi*se*se))) || r.Minimum != max(r.ForOE, r.ForSlope, r.ForC) || r.CStatisticFrom != "the model's cross-validated AUC" {
		t.Errorf("plan %+v", *r.ValidationPlan)
	}
	code, stdout, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "response", "--data", other, "--json", "--bootstrap", "10")
	var ev workflow.Evaluation
	if err := json.Unmarshal([]byte(stdout), &ev); code != 0 || err != nil || ev.ValidationSize == nil {
		t.Fatalf("evaluate: exit %d, %v, %s", code, err, stdout)
	}
	if *ev.ValidationSize != r.ValidationSize {
		t.Errorf("evaluate's %+v, samplesize's %+v", *ev.ValidationSize, r.ValidationSize)
	}
	_, text, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "response", "--data", other, "--bootstrap", "10")
	if !strings.Contains(text, "Warning: 500 labelled patients, fewer than Riley et al.'s criteria want") || !strings.Contains(text, "the calibration slope needs") {
		t.Errorf("evaluate does not warn of 500 patients against a minimum of %d:\n%s", r.Minimum, text)
	}

	given := plan("--data", other, "--prevalence", "0.1", "--c-statistic", "0.75", "--slope-width", "0.4")
	if given.Prevalence != 0.1 || given.PrevalenceFrom != "given" || given.CStatistic != 0.75 || given.CStatisticFrom != "given" || given.ForSlope >= r.ForSlope {
		t.Errorf("given figures: %+v", *given.ValidationPlan)
	}

	// The same patients without their outcomes: the training rows' prevalence.
	unlabelled := filepath.Join(dir, "unlabelled.csv")
	blankColumn(t, other, unlabelled, "objective_response")
	u := plan("--data", unlabelled)
	if u.Labelled != 0 || u.PrevalenceFrom != "the training rows" || u.Patients != 500 {
		t.Errorf("unlabelled: %+v", *u.ValidationPlan)
	}

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--data", other, "--prevalence", "1.5"}, 2, "--prevalence 1.5 must be in (0, 1)"},
		{[]string{"--data", other, "--c-statistic", "0.4"}, 2, "--c-statistic 0.4 must be in (0.5, 1)"},
		{[]string{"--data", other, "--c-width", "-1"}, 2, "must be positive"},
		{[]string{"--data", other, "--oe-width", "0"}, 2, "must be positive"},
		{nil, 2, "--registry, --model and --data are required"},
		{[]string{"--data", filepath.Join(dir, "missing.parquet")}, 1, "missing.parquet"},
	} {
		code, _, stderr := runCLI(t, append([]string{"samplesize", "--registry", reg, "--model", "response"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// blankColumn copies the CSV file in to out with column col emptied.
func blankColumn(t *testing.T, in, out, col string) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	j := slices.Index(rows[0], col)
	if j < 0 {
		t.Fatalf("%s has no column %s", in, col)
	}
	for _, r := range rows[1:] {
		r[j] = ""
	}
	g, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := csv.NewWriter(g)
	w.WriteAll(rows)
	if err := g.Close(); err != nil || w.Error() != nil {
		t.Fatal(err, w.Error())
	}
}
