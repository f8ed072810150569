package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/workflow"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 500, 4)
	args := []string{"compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,forest", "--trees", "11",
		"--bootstrap", "100", "--folds", "3"}
	code, stdout, stderr := runCLI(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var c struct {
		Rows, Folds int
		Synthetic   bool
		Best        string
		Algos       []struct {
			Algo    string
			Metrics struct{ AUC float64 }
			Minus   float64    `json:"auc_minus_best"`
			CI      [2]float64 `json:"auc_minus_best_ci"`
		} `json:"algorithms"`
	}
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if c.Rows != 500 || c.Folds != 3 || !c.Synthetic || len(c.Algos) != 2 || c.Algos[0].Algo != "logistic" || c.Algos[1].Algo != "forest" {
		t.Fatalf("comparison %+v", c)
	}
	for _, a := range c.Algos {
		if a.Algo == c.Best {
			if a.Minus != 0 || a.CI != [2]float64{0, 0} {
				t.Errorf("best %s: %v %v", a.Algo, a.Minus, a.CI)
			}
			continue
		}
		if !(a.Minus < 0 && a.CI[0] <= a.Minus && a.Minus <= a.CI[1]) {
			t.Errorf("%s: %v, interval %v", a.Algo, a.Minus, a.CI)
		}
	}
	// The table says the same (with the penalty tuned, its choices in each
	// fold), and nothing was written.
	code, stdout, _ = runCLI(t, append(args, "--tune")...)
	_, tuned, _ := strings.Cut(stdout, "logistic: L2 penalty tuned within each fold's training rows (nested): ")
	if code != 0 || !strings.Contains(stdout, "the same folds for every algorithm") || !strings.Contains(stdout, "SYNTHETIC") ||
		!strings.Contains(stdout, "AUC - BEST (95% CI)") || !strings.Contains(stdout, "best") || strings.Count(strings.TrimSpace(tuned), ", ") != 2 {
		t.Errorf("table:\n%s", stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("compare wrote %v", entries)
	}

	// With --instability, each algorithm's stability analysis, the same as
	// train gives its model (same data, seed and options).
	code, stdout, stderr = runCLI(t, append(args, "--instability", "6", "--json")...)
	var withIns struct {
		Algos []struct {
			Algo        string
			Instability *struct {
				Bootstraps int
				MAPE       float64
			} `json:"instability"`
		} `json:"algorithms"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &withIns) != nil || len(withIns.Algos) != 2 {
		t.Fatalf("--instability: exit %d, %s%s", code, stdout, stderr)
	}
	reg := filepath.Join(t.TempDir(), "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "forest", "--trees", "11",
		"--bootstrap", "100", "--folds", "3", "--instability", "6", "--registry", reg, "--name", "f")
	b, err := os.ReadFile(filepath.Join(reg, "f", "v1", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Metrics struct {
			Instability struct{ MAPE float64 } `json:"instability"`
		} `json:"metrics"`
	}
	json.Unmarshal(b, &bundle)
	for _, a := range withIns.Algos {
		if a.Instability == nil || a.Instability.Bootstraps != 6 || !(a.Instability.MAPE > 0) {
			t.Errorf("%s: instability %+v", a.Algo, a.Instability)
		} else if a.Algo == "forest" && a.Instability.MAPE != bundle.Metrics.Instability.MAPE {
			t.Errorf("forest: MAPE %v in compare, %v in train's bundle", a.Instability.MAPE, bundle.Metrics.Instability.MAPE)
		}
	}
	code, stdout, _ = runCLI(t, append(args, "--instability", "6")...)
	if code != 0 || !strings.Contains(stdout, "6 bootstrap models of it") || !strings.Contains(stdout, "CLASSED OTHERWISE AT 0.50 BY OVER 1 MODEL IN 5") {
		t.Errorf("--instability table:\n%s", stdout)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--algos", "logistic"}, "at least two"},
		{[]string{"--algos", "logistic,svm"}, `unknown algorithm "svm"`},
		{[]string{"--algos", "gbm,gbm"}, "gbm given twice"},
		{[]string{"--subsample", "0"}, "--subsample 0"},
		{[]string{"--repeats", "0"}, "--repeats: 0 (allowed: 1 to 100)"},
		{[]string{"--repeats", "3", "--folds-by", "ecog"}, "--repeats: folds by a column are the same partition"},
		{[]string{"--repeats", "3", "--oof", "o.csv"}, "--oof writes one cross-validation's predictions"},
		{[]string{"--instability", "-5"}, "--instability -5: want a count of bootstrap models"},
	} {
		code, _, stderr := runCLI(t, append([]string{"compare", "--data", cohort}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, stderr)
		}
	}
}

// TestCompareRepeats: with --repeats, each algorithm's repeats are its own
// cross-validations with seeds S, S+1, ... (the first repeat is the plain
// comparison's), the best has the highest mean fold AUC, and each
// difference is the mean fold difference with the corrected resampled t
// interval, which holds it.
func TestCompareRepeats(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 600, 7)
	args := []string{"compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,gbm", "--trees", "30",
		"--bootstrap", "20", "--folds", "4", "--seed", "5", "--json"}
	type algo struct {
		Algo     string
		Metrics  struct{ AUC float64 }
		Repeated *struct {
			FoldAUC        float64   `json:"fold_auc_mean"`
			RepeatFoldAUCs []float64 `json:"repeat_fold_auc_means"`
			AUCs           []float64 `json:"aucs"`
		}
		Minus  float64    `json:"auc_minus_best"`
		CI     [2]float64 `json:"auc_minus_best_ci"`
		Method string     `json:"auc_minus_best_method"`
	}
	var once, rep struct {
		Repeats int
		Best    string
		Algos   []algo `json:"algorithms"`
	}
	for _, run := range []struct {
		extra []string
		into  any
	}{{nil, &once}, {[]string{"--repeats", "3"}, &rep}} {
		code, stdout, stderr := runCLI(t, append(args, run.extra...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", run.extra, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), run.into); err != nil {
			t.Fatal(err)
		}
	}
	if once.Repeats != 1 || once.Algos[0].Repeated != nil || once.Algos[0].Method != "paired bootstrap of the patients" {
		t.Errorf("without --repeats: %+v", once)
	}
	if rep.Repeats != 3 || len(rep.Algos) != 2 {
		t.Fatalf("with --repeats 3: %+v", rep)
	}
	var best algo
	for _, a := range rep.Algos {
		if a.Algo == rep.Best {
			best = a
		}
	}
	for i, a := range rep.Algos {
		r := a.Repeated
		if r == nil || len(r.AUCs) != 3 || len(r.RepeatFoldAUCs) != 3 || r.AUCs[0] != once.Algos[i].Metrics.AUC || r.AUCs[0] == r.AUCs[1] || a.Metrics.AUC != r.AUCs[0] {
			t.Fatalf("%s: repeats %+v; the plain comparison's AUC %v", a.Algo, r, once.Algos[i].Metrics.AUC)
		}
		if mean := (r.RepeatFoldAUCs[0] + r.RepeatFoldAUCs[1] + r.RepeatFoldAUCs[2]) / 3; math.Abs(mean-r.FoldAUC) > 1e-12 || r.FoldAUC > best.Repeated.FoldAUC {
			t.Errorf("%s: fold AUC %v, repeats' %v, best's %v", a.Algo, r.FoldAUC, r.RepeatFoldAUCs, best.Repeated.FoldAUC)
		}
		if want := r.FoldAUC - best.Repeated.FoldAUC; math.Abs(a.Minus-want) > 1e-12 || !strings.HasPrefix(a.Method, "corrected resampled t") {
			t.Errorf("%s: difference %v by %q, want %v", a.Algo, a.Minus, a.Method, want)
		}
		if a.Algo != rep.Best && !(a.CI[0] < a.Minus && a.Minus < a.CI[1]) {
			t.Errorf("%s: %v outside its interval %v", a.Algo, a.Minus, a.CI)
		}
	}
	code, stdout, _ := runCLI(t, append(args[:len(args)-1], "--repeats", "3")...)
	if code != 0 || !strings.Contains(stdout, "4-fold cross-validation repeated 3 times (seeds 5-7)") || !strings.Contains(stdout, "FOLD AUC - BEST (95% CI)") ||
		!strings.Contains(stdout, "the mean over the 12 test folds (3 repeats x 4)") {
		t.Errorf("table:\n%s", stdout)
	}
}

// TestCompareSurvival: compare --survival gives each algorithm the survival
// comparison train --survival puts in its card, on the same folds.
func TestCompareSurvival(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 800, 6)
	code, stdout, stderr := runCLI(t, "compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,gbm",
		"--survival", "os", "--threshold", "0.4", "--bootstrap", "10", "--json")
	var c workflow.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); code != 0 || err != nil {
		t.Fatalf("compare: exit %d, %v, %s", code, err, stderr)
	}
	if len(c.Algos) != 2 || len(c.Algos[0].Survival) != 1 || len(c.Algos[1].Survival) != 1 {
		t.Fatalf("survival by algorithm: %+v", c.Algos)
	}
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr",
		"--survival", "os", "--threshold", "0.4", "--bootstrap", "10")
	m, err := (&models.Registry{Dir: reg}).Load("orr")
	if err != nil {
		t.Fatal(err)
	}
	var recorded struct {
		Survival []*stats.SurvivalSplit `json:"survival"`
	}
	if err := json.Unmarshal(m.Bundle.Metrics, &recorded); err != nil || len(recorded.Survival) != 1 {
		t.Fatalf("the bundle's survival: %v %+v", err, recorded)
	}
	got, want := c.Algos[0].Survival[0], recorded.Survival[0]
	if got.HazardRatio != want.HazardRatio || got.CIndex != want.CIndex || got.High.N != want.High.N || got.High.Events != want.High.Events {
		t.Errorf("compare's logistic %+v, train's %+v", got, want)
	}
	_, text, _ := runCLI(t, "compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,gbm", "--survival", "os", "--threshold", "0.4", "--bootstrap", "10")
	if !strings.Contains(text, "Survival of the patients each algorithm's out-of-fold probability puts at or above the threshold") {
		t.Errorf("no survival table:\n%s", text)
	}
	if code, _, stderr := runCLI(t, "compare", "--data", cohort, "--algos", "logistic,gbm", "--survival", "efs"); code != 2 || !strings.Contains(stderr, "--survival efs: name each of [os pfs] once") {
		t.Errorf("unknown endpoint: exit %d, %q", code, stderr)
	}
}

// TestCompareSpecs: --vs-spec cross-validates each algorithm with another
// feature spec on the same folds, entries named ALGO@SPEC; specs of
// different targets, or named alike, are refused.
func TestCompareSpecs(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 600, 9)
	_, builtin, _ := runCLI(t, "features", "--print-spec")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	splines := write("splines.yaml", strings.Replace(strings.Replace(builtin, "name: irt", "name: irt_rcs", 1),
		"column: age\n      kind: numeric\n      transforms:\n        - standardize", "column: age\n      kind: numeric\n      transforms:\n        - rcs: 4\n        - standardize", 1))
	if !strings.Contains(mustRead(t, splines), "rcs: 4") {
		t.Fatalf("no spline in the spec written:\n%s", mustRead(t, splines))
	}
	code, stdout, stderr := runCLI(t, "compare", "--data", cohort, "--target", "abscopal_response", "--algos", "logistic", "--vs-spec", splines, "--bootstrap", "20", "--json")
	var c workflow.Comparison
	if err := json.Unmarshal([]byte(stdout), &c); code != 0 || err != nil {
		t.Fatalf("compare: exit %d, %v, %s", code, err, stderr)
	}
	if len(c.Algos) != 2 || c.Algos[0].Algo != "logistic@irt" || c.Algos[1].Algo != "logistic@irt_rcs" || c.Algos[1].Spec != "irt_rcs" ||
		c.Algos[0].Metrics.N != c.Algos[1].Metrics.N || c.Algos[0].Metrics.AUC == c.Algos[1].Metrics.AUC {
		t.Errorf("entries %+v", c.Algos)
	}
	if best := c.Best; best != c.Algos[0].Algo && best != c.Algos[1].Algo {
		t.Errorf("best %q", best)
	}
	other := write("other.yaml", strings.Replace(strings.Replace(builtin, "name: irt", "name: other", 1), "column: abscopal_response", "column: objective_response", 1))
	same := write("same.yaml", builtin)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--vs-spec", other}, "predicts objective_response, the first spec abscopal_response: specs compared must share a target"},
		{[]string{"--vs-spec", same}, "--vs-spec: two specs are named irt"},
		{nil, "--algos: name at least two algorithms (or one, with --vs-spec)"},
	} {
		// Without --target, which would set every spec's.
		code, _, stderr := runCLI(t, append([]string{"compare", "--data", cohort, "--algos", "logistic"}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
