package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// TestTrainAndPredictSurvival: train --target os fits, reports and
// publishes a Cox model; predict writes each patient's median and survival
// at 6, 12 and 24 months (and the curve with --curve); the version lists,
// reproduces byte for byte, and refuses what it does not support, each
// refusal a usage error (2) before any work or an error naming why (1).
func TestTrainAndPredictSurvival(t *testing.T) {
	dir := t.TempDir()
	// As few patients as the checks need: under the race detector this
	// test, a dozen trainings, was the slowest of the package (55 s on 600).
	const n = 300
	cohort := synthCohort(t, dir, n, 12)
	reg := filepath.Join(dir, "registry")
	oof := filepath.Join(dir, "oof.csv")
	out := mustCLI(t, "train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "os", "--bootstrap", "20", "--folds", "3", "--oof", oof)
	for _, want := range []string{"published os:v1", "Harrell's C (3-fold cross-validated)", "at 12: AUC / Brier (null)", "integrated Brier score to 24"} {
		if !strings.Contains(out, want) {
			t.Errorf("train's summary lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(oof); err != nil || !strings.HasPrefix(string(b), "patient_id,fold,os_months,os_event,linear_predictor,survival_6,survival_12,survival_24\n") ||
		strings.Count(string(b), "\n") != n+1 {
		t.Errorf("--oof: %v\n%.300s", err, b)
	}
	card, err := os.ReadFile(filepath.Join(reg, "os", "v1", "card.md"))
	if err != nil || !strings.Contains(string(card), "Harrell's C of the out-of-fold linear predictor") || !strings.Contains(string(card), "calibration_survival.svg") {
		t.Errorf("card: %v\n%s", err, card)
	}
	if list := mustCLI(t, "models", "list", "--registry", reg); !strings.Contains(list, "cox") || !strings.Contains(list, "C 0.") {
		t.Errorf("models list:\n%s", list)
	}
	if rep := mustCLI(t, "models", "reproduce", "--registry", reg, "os", "--data", cohort); !strings.Contains(rep, "byte for byte") {
		t.Errorf("reproduce:\n%s", rep)
	}

	// The boosted Cox model: trained, listed, reproduced byte for byte.
	if out := mustCLI(t, "train", "--data", cohort, "--target", "pfs", "--algo", "gbm", "--trees", "60", "--registry", reg, "--name", "pfs", "--bootstrap", "20", "--folds", "3"); !strings.Contains(out, "boosted Cox model") {
		t.Errorf("train --algo gbm --target pfs:\n%s", out)
	}
	if rep := mustCLI(t, "models", "reproduce", "--registry", reg, "pfs", "--data", cohort); !strings.Contains(rep, "byte for byte") {
		t.Errorf("reproduce the boosted model:\n%s", rep)
	}
	mustCLI(t, "predict", "--registry", reg, "--model", "pfs", "--data", cohort, "--out", filepath.Join(dir, "pfs.csv"), "--contributions")

	scores := filepath.Join(dir, "scores.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "os", "--data", cohort, "--out", scores, "--curve")
	f, err := os.Open(scores)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(rows[0][:5], ",")
	if head != "patient_id,median_months,survival_6,survival_12,survival_24" || len(rows) != n+1 || rows[0][5] != "curve_1" {
		t.Fatalf("scores: %d rows, header %v", len(rows), rows[0])
	}
	for _, r := range rows[1:] {
		s6, _ := strconv.ParseFloat(r[2], 64)
		s12, _ := strconv.ParseFloat(r[3], 64)
		s24, _ := strconv.ParseFloat(r[4], 64)
		if !(1 >= s6 && s6 >= s12 && s12 >= s24 && s24 >= 0) {
			t.Fatalf("%s: survival %v, %v, %v does not fall", r[0], s6, s12, s24)
		}
		if med, err := strconv.ParseFloat(r[1], 64); err == nil && ((med <= 12) != (s12 <= 0.5)) {
			t.Errorf("%s: median %v with S(12) = %v", r[0], med, s12)
		}
	}

	// Each patient's median with the central 95% of 20 bootstrap models'
	// medians: the model's own inside it for nearly every patient, the
	// bootstrap models kept and reproduced with the rest, byte for byte.
	if out := mustCLI(t, "train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "os-iv", "--bootstrap", "20", "--folds", "3",
		"--instability", "20", "--intervals"); !strings.Contains(out, "prediction instability (20 bootstrap models, kept for the intervals of the median)") {
		t.Errorf("train --instability 20 --intervals:\n%s", out)
	}
	if rep := mustCLI(t, "models", "reproduce", "--registry", reg, "os-iv", "--data", cohort); !strings.Contains(rep, "byte for byte") || !strings.Contains(rep, "bootstrap.json") {
		t.Errorf("reproduce with bootstrap models:\n%s", rep)
	}
	ivScores := filepath.Join(dir, "iv.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "os-iv", "--data", cohort, "--out", ivScores, "--intervals")
	b, err := os.ReadFile(ivScores)
	if err != nil {
		t.Fatal(err)
	}
	ivRows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || strings.Join(ivRows[0][:4], ",") != "patient_id,median_months,median_months_low,median_months_high" {
		t.Fatalf("predict --intervals: %v, header %v", err, ivRows[0])
	}
	inside, wide := 0, 0
	for _, r := range ivRows[1:] {
		med, err1 := strconv.ParseFloat(r[1], 64)
		lo, err2 := strconv.ParseFloat(r[2], 64)
		hi, err3 := strconv.ParseFloat(r[3], 64) // empty: not reached
		if err1 != nil || err2 != nil {
			continue
		}
		if lo <= med && (err3 != nil || med <= hi) {
			inside++
		}
		if err3 != nil || hi > lo {
			wide++
		}
	}
	if n := len(ivRows) - 1; inside < n*9/10 || wide < n*9/10 {
		t.Errorf("of %d patients, %d medians inside their interval and %d intervals of some width", n, inside, wide)
	}

	// By a column, and with folds by a column (leave one value out).
	if out := mustCLI(t, "train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "os-by", "--bootstrap", "20", "--folds", "3", "--by", "ici_class"); !regexp.MustCompile(`Harrell's C by ici_class +(ctla4|pd1|pd1_ctla4|pdl1) `).MatchString(out) {
		t.Errorf("train --by ici_class:\n%s", out)
	}
	if out := mustCLI(t, "train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "os-loso", "--bootstrap", "20", "--folds-by", "stage"); !strings.Contains(out, "cross-validated by stage: 2 folds") {
		t.Errorf("train --folds-by stage:\n%s", out)
	}
	if rep := mustCLI(t, "models", "reproduce", "--registry", reg, "os-loso", "--data", cohort); !strings.Contains(rep, "byte for byte") {
		t.Errorf("reproduce with folds by stage:\n%s", rep)
	}

	// evaluate: the file's figures beside the cross-validation's; on the
	// training file, said to be in-sample.
	if ev := mustCLI(t, "evaluate", "--registry", reg, "--model", "os", "--data", cohort, "--bootstrap", "50"); !strings.Contains(ev, "Harrell's C (95% CI)") ||
		!strings.Contains(ev, "This is the file the model was trained on") || !strings.Contains(ev, fmt.Sprintf("%d patients with a time and an event", n)) {
		t.Errorf("evaluate:\n%s", ev)
	}

	// evaluate --by: each value judged on its own patients, its counts those
	// of the file.
	ev := mustCLI(t, "evaluate", "--registry", reg, "--model", "os", "--data", cohort, "--bootstrap", "20", "--by", "stage")
	if m := regexp.MustCompile(`(?m)^III +(\d+) +\d+ +0\.\d{3} \(`).FindStringSubmatch(ev); m == nil || !regexp.MustCompile(`(?m)^IV +\d+ +\d+ +0\.\d{3} \(`).MatchString(ev) {
		t.Errorf("evaluate --by stage:\n%s", ev)
	} else if n, _ := strconv.Atoi(m[1]); n != countStage(t, cohort, "III") {
		t.Errorf("evaluate --by stage: %s patients of stage III, the file has %d", m[1], countStage(t, cohort, "III"))
	}

	// compare --folds-by: leave one stage out, each held-out stage's C per
	// model.
	cmpBy := mustCLI(t, "compare", "--data", cohort, "--target", "os", "--folds-by", "stage", "--bootstrap", "20", "--trees", "30")
	if !strings.Contains(cmpBy, "cross-validation by stage (2 folds") || !regexp.MustCompile(`(?m)^IV +\d+ +\d+ +0\.\d{3} +0\.\d{3}$`).MatchString(cmpBy) {
		t.Errorf("compare --folds-by stage:\n%s", cmpBy)
	}

	// compare: the Cox and the boosted Cox model on the same folds.
	cmp := mustCLI(t, "compare", "--data", cohort, "--target", "pfs", "--folds", "3", "--bootstrap", "50", "--trees", "40")
	if !strings.Contains(cmp, fmt.Sprintf("pfs: %d patients", n)) || !regexp.MustCompile(`(?m)^cox +0\.\d{3} \(`).MatchString(cmp) || !regexp.MustCompile(`(?m)^gbm +0\.\d{3} \(`).MatchString(cmp) ||
		!strings.Contains(cmp, "best") {
		t.Errorf("compare --target pfs:\n%s", cmp)
	}

	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"compare", "--data", cohort, "--target", "pfs", "--algos", "cox,logistic"}, 2, "--algos logistic: a time to an event is modelled by cox or gbm"},
		{[]string{"compare", "--data", cohort, "--target", "os", "--repeats", "3"}, 2, "--repeats: not for comparing time-to-event models"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--algo", "forest"}, 2, "a time to an event is modelled by --algo cox (the default) or gbm"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--algo", "gbm", "--lambda", "0.1"}, 2, "--lambda: not for --algo gbm"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--trees", "50"}, 2, "--trees: not for --algo cox"},
		{[]string{"train", "--data", cohort, "--target", "pfs", "--registry", reg, "--name", "x", "--calibration", "isotonic", "--threshold", "0.3"}, 2, "--calibration, --threshold: not for a time-to-event model"},
		{[]string{"train", "--data", cohort, "--target", "objective_response", "--registry", reg, "--name", "x", "--algo", "cox"}, 2, "--algo cox models a time to an event"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--alpha", "2"}, 2, "--alpha 2: the L1 share is in [0, 1]"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--times", "12,6"}, 2, "--times [12 6]: positive times, ascending"},
		{[]string{"train", "--data", cohort, "--target", "os_months", "--registry", reg, "--name", "x"}, 1, "train a time-to-event model with --target os"},
		{[]string{"predict", "--registry", reg, "--model", "os", "--data", cohort, "--out", filepath.Join(dir, "i.csv"), "--intervals"}, 1, "os:v1 kept none, so it gives no intervals of the median"},
		{[]string{"train", "--data", cohort, "--target", "os", "--registry", reg, "--name", "x", "--intervals"}, 2, "--intervals keeps the bootstrap models of --instability"},
		{[]string{"evaluate", "--registry", reg, "--model", "os", "--data", cohort, "--threshold", "0.3"}, 2, "--threshold: not for a time-to-event model"},
		{[]string{"evaluate", "--registry", reg, "--model", "os", "--data", cohort, "--by", "patient_id"}, 1, "column patient_id has more than"},
		{[]string{"compare", "--data", cohort, "--target", "os", "--folds-by", "stage", "--folds", "3"}, 2, "--folds and --folds-by: give one"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.says) {
			t.Errorf("abscopal %s: exit %d, want %d saying %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.says, stderr)
		}
	}
}

// countStage counts the patients of a cohort file at a stage.
func countStage(t *testing.T, path, stage string) int {
	t.Helper()
	ps, err := data.ReadCohort(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		if p.Stage != nil && *p.Stage == stage {
			n++
		}
	}
	return n
}
