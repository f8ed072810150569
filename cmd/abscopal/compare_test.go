package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 800, 4)
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
	if c.Rows != 800 || c.Folds != 3 || !c.Synthetic || len(c.Algos) != 2 || c.Algos[0].Algo != "logistic" || c.Algos[1].Algo != "forest" {
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

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--algos", "logistic"}, "at least two"},
		{[]string{"--algos", "logistic,svm"}, `unknown algorithm "svm"`},
		{[]string{"--algos", "gbm,gbm"}, "gbm given twice"},
		{[]string{"--subsample", "0"}, "--subsample 0"},
	} {
		code, _, stderr := runCLI(t, append([]string{"compare", "--data", cohort}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, stderr)
		}
	}
}
