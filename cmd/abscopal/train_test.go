package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

func TestTrainPublishPredict(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 1500, 8)
	reg := filepath.Join(dir, "registry")
	trainArgs := []string{"train", "--data", cohort, "--target", "objective_response", "--algo", "gbm", "--registry", reg,
		"--name", "response", "--seed", "3", "--trees", "40", "--bootstrap", "50", "--by", "ici_class"}
	code, stdout, stderr := runCLI(t, trainArgs...)
	if code != 0 {
		t.Fatalf("train: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"published response:v1", "SYNTHETIC", "ROC AUC (5-fold CV)", "calibration intercept / slope", "leans most on", "ROC AUC by ici_class (the card has more)", " ctla4 0."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("train output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "[6/6] final fit done") {
		t.Errorf("no progress lines on stderr:\n%s", stderr)
	}
	// Same data, seed and options: the same bundle, byte for byte.
	mustCLI(t, trainArgs...)
	b1, _ := os.ReadFile(filepath.Join(reg, "response", "v1", "bundle.json"))
	b2, _ := os.ReadFile(filepath.Join(reg, "response", "v2", "bundle.json"))
	if len(b1) == 0 || string(b1) != string(b2) {
		t.Error("two trainings with the same data, seed and options gave different bundles")
	}
	card, _ := os.ReadFile(filepath.Join(reg, "response", "v1", "card.md"))
	for _, want := range []string{"not for clinical use", "SHA-256", "ROC AUC (95% bootstrap CI)", "calibration.svg", "Intended use", "observed (95% CI)", "## Feature importance", "## Clinical utility (decision curve)", "| 0.25 | ", "## Performance by ici_class", "| pd1_ctla4 | "} {
		if !strings.Contains(string(card), want) {
			t.Errorf("card lacks %q", want)
		}
	}
	if svg, _ := os.ReadFile(filepath.Join(reg, "response", "v1", "calibration.svg")); !strings.Contains(string(svg), "deciles (95% CI)") {
		t.Error("the calibration plot has no legend for its intervals")
	}
	if svg, _ := os.ReadFile(filepath.Join(reg, "response", "v1", "decision_curve.svg")); !strings.Contains(string(svg), "act on all") ||
		!strings.Contains(string(card), "![decision curve](decision_curve.svg)") {
		t.Error("no decision curve plot, or the card does not show it")
	}

	if code, out, _ := runCLI(t, "models", "alias", "--registry", reg, "response", "production", "v1"); code != 0 || !strings.Contains(out, "response@production -> v1") {
		t.Fatalf("alias: %d %s", code, out)
	}
	code, out, _ := runCLI(t, "models", "show", "--registry", reg, "response@production", "--json")
	var shown struct {
		Version  string `json:"version"`
		Training struct {
			Rows      int  `json:"rows"`
			Synthetic bool `json:"synthetic"`
		} `json:"training"`
		Metrics struct {
			CV struct {
				AUC      float64 `json:"auc"`
				Low      float64 `json:"auc_ci_low"`
				High     float64 `json:"auc_ci_high"`
				Brier    float64 `json:"brier"`
				CalSlope float64 `json:"calibration_slope"`
			} `json:"cross_validated"`
		} `json:"metrics"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.Version != "v1" || shown.Training.Rows != 1500 || !shown.Training.Synthetic {
		t.Errorf("show --json: %d %s", code, out)
	}
	// The list puts each version's cross-validated metrics side by side.
	cv := shown.Metrics.CV
	row := fmt.Sprintf("%.3f (%.3f-%.3f)  %.4f  %.3f", cv.AUC, cv.Low, cv.High, cv.Brier, cv.CalSlope)
	code, out, _ = runCLI(t, "models", "list", "--registry", reg)
	if code != 0 || !strings.Contains(out, "response  v1       production") || !strings.Contains(out, row) || !strings.Contains(out, "SYNTHETIC") ||
		!(cv.Low < cv.AUC && cv.AUC < cv.High && cv.Brier > 0) {
		t.Errorf("list lacks %q:\n%s", row, out)
	}
	// And as JSON, for a notebook: the same figures, unrounded.
	code, out, _ = runCLI(t, "models", "list", "--registry", reg, "--json")
	var listed []workflow.ModelEntry
	if code != 0 || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 2 || listed[1].Version != "v2" {
		t.Fatalf("list --json: exit %d\n%s", code, out)
	}
	if e := listed[0]; e.Name != "response" || e.Version != "v1" || strings.Join(e.Aliases, ",") != "production" || !e.Synthetic ||
		e.Rows != 1500 || e.CrossValidated.AUC != cv.AUC || e.CrossValidated.Brier != cv.Brier || len(e.CrossValidated.Curve) != 10 || e.Error != "" {
		t.Errorf("list --json: %+v", e)
	}

	scores := filepath.Join(dir, "scores.parquet")
	mustCLI(t, "predict", "--registry", reg, "--model", "response", "--data", cohort, "--out", scores)
	tbl, err := data.ReadTable(t.Context(), scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, v := tbl.Column("probability"), tbl.Column("version")
	if tbl.Len != 1500 || p == nil || v.Str[0] != "v1" || tbl.Column("patient_id").Str[0] != "SYN-0000001" {
		t.Fatalf("scores: %d rows, columns %v", tbl.Len, tbl.Columns)
	}
	for i, x := range p.Num {
		if !(x > 0 && x < 1) {
			t.Fatalf("row %d: probability %v", i+1, x)
		}
	}
	r, err := data.OpenTable(t.Context(), scores, data.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	md := r.Metadata()["abscopal.synthetic"]
	r.Close()
	// The same scores as CSV, still labelled synthetic: in a sidecar.
	scoresCSV := filepath.Join(dir, "scores.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "response", "--data", cohort, "--out", scoresCSV)
	lines, _ := os.ReadFile(scoresCSV)
	first := strings.SplitN(string(lines), "\n", 3)[1]
	var side map[string]string
	b, _ := os.ReadFile(scoresCSV + ".meta.json")
	if json.Unmarshal(b, &side) != nil || side["abscopal.synthetic"] != "true" || md != "true" || side["abscopal.model"] != "response:v1" {
		t.Errorf("synthetic labels: parquet %q, CSV sidecar %s", md, b)
	}
	if want := fmt.Sprintf("SYN-0000001,%v,response,v1,", p.Num[0]); !strings.HasPrefix(first, want) {
		t.Errorf("first CSV row %q, want it to begin %q", first, want)
	}
}

func TestTrainBadInput(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 60, 8)
	reg := filepath.Join(dir, "registry")
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, []byte("x"), 0o644)
	spec := func(body string) string {
		p := filepath.Join(dir, "s"+body[:5]+".yaml")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"target missing", []string{"--target", "response_at_12w"}, 1, "target.column: column response_at_12w is not in"},
		{"target not binary", []string{"--spec", spec("target: {column: age, positive: true}\nfeatures:\n  - column: tmb\n    kind: numeric\n")}, 1, "column age in"},
		{"fewer rows than folds", []string{"--folds", "50"}, 1, "cannot fill 50 folds"},
		{"subgroups of a measurement", []string{"--by", "age"}, 1, "cannot make subgroups: column age has more than 20 values"},
		{"subgroup column missing", []string{"--by", "centre"}, 1, "no column centre"},
		{"unwritable registry", []string{"--registry", filepath.Join(notDir, "reg")}, 1, "is not a directory"},
		{"bad name", []string{"--name", "My Model"}, 2, "--name"},
		{"an algorithm not in the table", []string{"--algo", "xgboost"}, 2, `unknown algorithm "xgboost" (logistic, gbm, forest or stack)`},
		{"no leaf minimum", []string{"--algo", "forest", "--min-leaf", "0"}, 2, "--min-leaf 0 must be at least 1"},
		{"threshold above 1", []string{"--threshold", "1.5"}, 2, "--threshold 1.5 must be in (0, 1)"},
		{"threshold 0", []string{"--threshold", "0"}, 2, "--threshold 0 must be in (0, 1)"},
		{"no bootstrap", []string{"--bootstrap", "0"}, 2, "--bootstrap 0 must be at least 1"},
		{"unpenalized logistic", []string{"--algo", "logistic", "--lambda", "0"}, 2, "--lambda 0 must be positive"},
		{"tuned and given a penalty", []string{"--algo", "logistic", "--tune", "--lambda", "3"}, 2, "--tune and --lambda: give one (--tune chooses the penalty)"},
		{"tuned gbm", []string{"--algo", "gbm", "--tune"}, 2, "--tune chooses the logistic regression's penalty; --algo gbm has none to tune"},
		{"negative trees", []string{"--trees", "-3"}, 2, "--trees -3 must be in [0, 100000] for gbm (0: its default)"},
		{"an even forest", []string{"--algo", "forest", "--trees", "100"}, 2, "--trees 100 must be odd for the forest, so that its trees' votes cannot tie"},
		{"too deep a forest", []string{"--algo", "forest", "--depth", "31"}, 2, "--depth 31 must be in [0, 30] for forest"},
		{"too deep a gbm", []string{"--depth", "21"}, 2, "--depth 21 must be in [0, 20] for gbm"},
		{"no subsample", []string{"--subsample", "0"}, 2, "--subsample 0 must be in (0, 1]"},
		{"negative instability", []string{"--instability", "-1"}, 2, "--instability -1: want a count of bootstrap models"},
		{"colsample above 1", []string{"--colsample", "1.5"}, 2, "--colsample 1.5 must be in (0, 1]"},
		{"learning rate above 1", []string{"--learning-rate", "2"}, 2, "--learning-rate 2 must be in (0, 1]"},
		{"negative leaf lambda", []string{"--leaf-lambda", "-1"}, 2, "--leaf-lambda -1 must not be negative"},
		{"negative min child weight", []string{"--min-child-weight", "-1"}, 2, "--min-child-weight -1 must not be negative"},
		{"negative split features", []string{"--algo", "forest", "--split-features", "-1"}, 2, "--split-features -1 must not be negative"},
		{"negative early stopping", []string{"--early-stopping", "-1"}, 2, "--early-stopping -1 must not be negative"},
		{"too many split features", []string{"--algo", "forest", "--split-features", "500"}, 1, "split features 500 must be in [1,"},
		{"intervals without bootstrap models", []string{"--intervals"}, 2, "--intervals keeps the bootstrap models of --instability: give both"},
		{"a forest's intervals", []string{"--algo", "forest", "--instability", "5", "--intervals"}, 2, "--intervals: a forest's bootstrap models are too large to keep"},
		{"a survival endpoint unknown", []string{"--survival", "efs"}, 2, "--survival efs: name each of [os pfs] once"},
		{"a censoring indicator", []string{"--target", "os_event"}, 1, "os_event is a censoring indicator, not an outcome"},
		{"a survival time", []string{"--target", "pfs_months"}, 1, "pfs_months is a survival time: its model needs the censoring too; train a time-to-event model with --target pfs"},
		{"a grade without its threshold", []string{"--target", "pneumonitis_grade"}, 1, "--at-least 2 for grade 2 or worse"},
		{"a threshold on a yes/no outcome", []string{"--target", "objective_response", "--at-least", "1"}, 1, "--at-least applies to a numeric outcome (pneumonitis_grade)"},
		{"no row at the threshold", []string{"--target", "pneumonitis_grade", "--at-least", "5"}, 1, "no row is at or above 5; the column holds"},
		{"a threshold not a number", []string{"--target", "pneumonitis_grade", "--at-least", "NaN"}, 2, "--at-least NaN must be a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"train", "--data", cohort, "--registry", reg, "--name", "m", "--trees", "5", "--bootstrap", "10"}
			args = append(args, tt.args...)
			code, _, stderr := runCLI(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
			// Each is refused before any fold is fitted but one: too many
			// split features, which only the data can tell.
			if strings.Contains(stderr, "fold 1 of") && tt.name != "too many split features" {
				t.Errorf("refused after training began: %q", stderr)
			}
		})
	}
	// Interrupted (Ctrl-C cancels the command's context): said so, nothing published.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errOut bytes.Buffer
	code := run(ctx, []string{"train", "--data", cohort, "--registry", reg, "--name", "m", "--algo", "forest", "--trees", "5"}, io.Discard, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "abscopal: interrupted") {
		t.Errorf("interrupted: exit %d, %q", code, errOut.String())
	}
	if entries, _ := os.ReadDir(filepath.Join(reg, "m")); len(entries) != 0 {
		t.Errorf("failed trainings left %v", entries)
	}

	// A tampered bundle is refused by predict.
	mustCLI(t, "train", "--data", cohort, "--registry", reg, "--name", "m", "--trees", "5", "--bootstrap", "10", "--folds", "3")
	bundle := filepath.Join(reg, "m", "v1", "bundle.json")
	b, _ := os.ReadFile(bundle)
	os.WriteFile(bundle, append(b, ' '), 0o644)
	code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", "m", "--data", cohort, "--out", filepath.Join(dir, "s.parquet"))
	if code != 1 || !strings.Contains(stderr, "do not match their MANIFEST") || !strings.Contains(stderr, "bundle.json") {
		t.Errorf("tampered: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "s.parquet")); !os.IsNotExist(err) {
		t.Error("predict wrote scores from a tampered model")
	}
}

// TestTrainGradedOutcome: pneumonitis of grade 2 or worse is trained with
// --at-least, and every command that names what a model predicts says so;
// models of two thresholds are not compared as one outcome.
func TestTrainGradedOutcome(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 800, 5)
	reg := filepath.Join(dir, "registry")
	for _, at := range []string{"2", "3"} {
		code, stdout, stderr := runCLI(t, "train", "--data", cohort, "--target", "pneumonitis_grade", "--at-least", at, "--algo", "logistic",
			"--registry", reg, "--name", "pneumonitis", "--seed", "1", "--bootstrap", "10", "--folds", "3")
		if code != 0 {
			t.Fatalf("--at-least %s: exit %d, %s", at, code, stderr)
		}
		// Few patients have a probability of 0.5: the summary says where
		// a threshold would tell more.
		if !strings.Contains(stdout, "of patients at or above 0.50: --threshold sets another, nearer the prevalence") {
			t.Errorf("--at-least %s: no word on the threshold:\n%s", at, stdout)
		}
	}
	card, _ := os.ReadFile(filepath.Join(reg, "pneumonitis", "v1", "card.md"))
	for _, want := range []string{"Predicts the probability of **pneumonitis_grade >= 2** for one patient", "| pneumonitis_grade >= 2 (", "| pneumonitis_grade < 2 (",
		"research on pneumonitis after immune checkpoint inhibitors"} {
		if !strings.Contains(string(card), want) {
			t.Errorf("card lacks %q", want)
		}
	}
	// The labels: grades 2 and up of the file are the positives.
	ps, err := data.ReadCohort(t.Context(), cohort)
	if err != nil {
		t.Fatal(err)
	}
	grade2 := 0
	for _, p := range ps {
		if *p.PneumonitisGrade >= 2 {
			grade2++
		}
	}
	var listed []workflow.ModelEntry
	_, out, _ := runCLI(t, "models", "list", "--registry", reg, "--json")
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatal(err, out)
	}
	if len(listed) != 2 || listed[0].Outcome != "pneumonitis_grade >= 2" || listed[1].Outcome != "pneumonitis_grade >= 3" || listed[0].Target != "pneumonitis_grade" {
		t.Errorf("listed %+v", listed)
	}
	_, out, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "pneumonitis:v1", "--data", cohort, "--json")
	var ev workflow.Evaluation
	if err := json.Unmarshal([]byte(out), &ev); err != nil {
		t.Fatal(err, out)
	}
	if ev.Outcome != "pneumonitis_grade >= 2" || ev.Metrics.Positives != grade2 {
		t.Errorf("evaluated %s with %d positives; want pneumonitis_grade >= 2 and the file's %d", ev.Outcome, ev.Metrics.Positives, grade2)
	}
	code, _, stderr := runCLI(t, "evaluate", "--registry", reg, "--model", "pneumonitis:v1", "--model", "pneumonitis:v2", "--data", cohort)
	if code != 1 || !strings.Contains(stderr, "pneumonitis:v1 predicts pneumonitis_grade >= 2 and pneumonitis:v2 pneumonitis_grade >= 3: models compared on one file must share a target") {
		t.Errorf("two thresholds compared: exit %d, %q", code, stderr)
	}
	code, out, stderr = runCLI(t, "compare", "--data", cohort, "--target", "pneumonitis_grade", "--at-least", "2", "--algos", "logistic,gbm", "--bootstrap", "10", "--folds", "3")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("(%d positive)", grade2)) {
		t.Errorf("compare: exit %d, %q %q; want %d positive", code, out, stderr, grade2)
	}
}

// TestTrainTreeFlags: --trees and --depth serve the GBM and the forest, each
// with its own defaults when they are not given.
func TestTrainTreeFlags(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 400, 5)
	tests := []struct {
		args         []string
		trees, depth int
	}{
		{[]string{"--algo", "gbm", "--trees", "5"}, 5, train.DefaultGBM().MaxDepth},
		{[]string{"--algo", "gbm", "--trees", "5", "--depth", "3"}, 5, 3},
		{[]string{"--algo", "gbm", "--depth", "3"}, train.DefaultGBM().Trees, 3},
		{[]string{"--algo", "forest", "--trees", "5"}, 5, 30},
		{[]string{"--algo", "forest", "--trees", "3", "--depth", "7"}, 3, 7},
	}
	for i, tt := range tests {
		reg := filepath.Join(dir, fmt.Sprint("registry", i))
		args := append([]string{"train", "--data", cohort, "--registry", reg, "--name", "m", "--bootstrap", "10", "--folds", "3"}, tt.args...)
		mustCLI(t, args...)
		var h struct {
			Trees    int `json:"trees"`
			MaxDepth int `json:"max_depth"`
		}
		readHyperparameters(t, filepath.Join(reg, "m", "v1"), &h)
		if h.Trees != tt.trees || h.MaxDepth != tt.depth {
			t.Errorf("%v: trees %d, depth %d; want %d and %d", tt.args, h.Trees, h.MaxDepth, tt.trees, tt.depth)
		}
	}
}

// TestTrainZeroPenalty: --leaf-lambda 0 and --min-child-weight 0 mean none,
// not "the default" (the bundle records what was fitted).
func TestTrainZeroPenalty(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 400, 5)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--registry", reg, "--name", "m", "--bootstrap", "10", "--folds", "3",
		"--trees", "5", "--leaf-lambda", "0", "--min-child-weight", "0")
	var h struct {
		Lambda         *float64 `json:"lambda"`
		MinChildWeight *float64 `json:"min_child_weight"`
		Trees          int      `json:"trees"`
		LearningRate   float64  `json:"learning_rate"`
	}
	readHyperparameters(t, filepath.Join(reg, "m", "v1"), &h)
	if h.Lambda == nil || *h.Lambda != 0 || h.MinChildWeight == nil || *h.MinChildWeight != 0 || h.Trees != 5 || h.LearningRate != train.DefaultGBM().LearningRate {
		t.Errorf("hyperparameters %+v; want lambda 0, min child weight 0, trees 5", h)
	}
}

// TestPredictUndefinedTarget: batch scoring an abscopal-response model gives
// a patient without radiotherapy no probability but the reason, as the API
// does; patients with radiotherapy get one.
func TestPredictUndefinedTarget(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 600, 9)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "abscopal_response", "--registry", reg, "--name", "a",
		"--trees", "5", "--bootstrap", "10", "--folds", "3")
	scores := filepath.Join(dir, "scores.parquet")
	code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", "a", "--data", cohort, "--out", scores)
	if code != 0 {
		t.Fatal(stderr)
	}
	ps, err := data.ReadCohort(t.Context(), cohort)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(t.Context(), scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, why := tbl.Column("probability"), tbl.Column("reason")
	if tbl.Len != len(ps) || p == nil || why == nil {
		t.Fatalf("scores: %d rows, columns %v", tbl.Len, tbl.Columns)
	}
	noRT := 0
	for i := range ps {
		if ps[i].HadRT() {
			if !p.Valid[i] || !(p.Num[i] > 0 && p.Num[i] < 1) || why.Valid[i] {
				t.Fatalf("row %d (RT): probability %v (valid %v), reason %q", i+1, p.Num[i], p.Valid[i], why.Str[i])
			}
			continue
		}
		noRT++
		if p.Valid[i] || !why.Valid[i] || !strings.Contains(why.Str[i], "needs radiotherapy") {
			t.Fatalf("row %d (no RT): probability %v (valid %v), reason %q", i+1, p.Num[i], p.Valid[i], why.Str[i])
		}
	}
	if noRT == 0 || !strings.Contains(stderr, fmt.Sprintf("%d of them without a probability", noRT)) {
		t.Errorf("%d patients without RT; stderr %q", noRT, stderr)
	}
}

// readHyperparameters decodes the hyperparameters recorded in the
// bundle.json of the version directory dir into h.
func readHyperparameters(t *testing.T, dir string, h any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Training struct {
			Hyperparameters json.RawMessage `json:"hyperparameters"`
		} `json:"training"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bundle.Training.Hyperparameters, h); err != nil {
		t.Fatal(err)
	}
}

// TestTrainIntegerCodes: a researcher's file whose categorical column holds
// integer codes (a centre 1-3) trains, scores and exports.
func TestTrainIntegerCodes(t *testing.T) {
	dir := t.TempDir()
	var rows [][]data.Value
	for i := range 240 {
		site := i%3 + 1
		// Centre 3 responds more: the codes carry signal.
		rows = append(rows, []data.Value{data.String(fmt.Sprintf("s%03d", i)), data.Float(float64(site)), data.Float(float64(i % 17)),
			data.Bool((site == 3 && i%4 != 0) || i%5 == 0)})
	}
	file := datatest.WriteTable(t, filepath.Join(dir, "centres.parquet"), []data.ColumnSpec{{Name: "sample_id", Kind: data.KindString},
		{Name: "site", Kind: data.KindInt}, {Name: "tmb", Kind: data.KindFloat}, {Name: "response", Kind: data.KindBool}}, rows)
	spec := filepath.Join(dir, "s.yaml")
	os.WriteFile(spec, []byte("id: sample_id\ntarget: {column: response, positive: true}\nfeatures:\n  - column: site\n    kind: categorical\n  - column: tmb\n    kind: numeric\n"), 0o644)
	reg := filepath.Join(dir, "registry")
	code, stdout, stderr := runCLI(t, "train", "--data", file, "--spec", spec, "--algo", "logistic", "--registry", reg, "--name", "m", "--folds", "3", "--bootstrap", "20")
	if code != 0 || !strings.Contains(stdout, "leans most on (mean |contribution|, log-odds)  site") {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	scores := filepath.Join(dir, "scores.parquet")
	mustCLI(t, "predict", "--registry", reg, "--model", "m", "--data", file, "--out", scores)
	tbl, err := data.ReadTable(t.Context(), scores, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := tbl.Column("probability").Num
	if tbl.Len != 240 || !(p[2] > p[0]) { // row 2 is centre 3, row 0 centre 1, same tmb class
		t.Errorf("scores: %d rows, centre 3 %v, centre 1 %v", tbl.Len, p[2], p[0])
	}
	out := filepath.Join(dir, "features.parquet")
	mustCLI(t, "features", "--data", file, "--spec", spec, "--out", out)
	r, err := data.OpenTable(t.Context(), out, data.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	found := false
	for _, c := range r.Schema() {
		if c.Name == "site" {
			found = true
			if c.Kind != data.KindInt {
				t.Errorf("exported site as %s, want the integer codes", c.Type)
			}
		}
	}
	if !found {
		t.Errorf("no site column in the export: %v", r.Schema())
	}
}

// TestTrainFoldsBy: a cohort file with a centre column of its own, trained
// and compared with one fold per centre; the version reproduces.
func TestTrainFoldsBy(t *testing.T) {
	dir := t.TempDir()
	cohort := datatest.AddColumn(t, synthCohort(t, dir, 900, 8), filepath.Join(dir, "centres.parquet"),
		data.ColumnSpec{Name: "centre", Kind: data.KindString}, func(i int) data.Value { return data.String(fmt.Sprintf("site-%c", 'A'+i%3)) })
	reg := filepath.Join(dir, "registry")
	code, stdout, stderr := runCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg,
		"--name", "loco", "--bootstrap", "20", "--folds-by", "centre")
	if code != 0 || !strings.Contains(stdout, "ROC AUC (CV by centre, 3 folds)") || !strings.Contains(stdout, "ROC AUC across centre (random effects)") || !strings.Contains(stdout, "site-A 0.") || !strings.Contains(stdout, "site-C 0.") ||
		!strings.Contains(stderr, "fold 3 of 3") {
		t.Fatalf("train: exit %d\n%s%s", code, stdout, stderr)
	}
	card, err := os.ReadFile(filepath.Join(reg, "loco", "v1", "card.md"))
	if err != nil || !strings.Contains(string(card), "## Performance (cross-validation by centre: 3 folds, each holding out one value of centre)") ||
		!strings.Contains(string(card), "| site-C | 300 | ") {
		t.Errorf("card: %v\n%s", err, card)
	}
	if code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "loco", "--data", cohort); code != 0 {
		t.Errorf("reproduce: exit %d\n%s%s", code, stdout, stderr)
	}
	// REML for the between-centre variance: said in the card, recorded,
	// reproduced.
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg,
		"--name", "loco-reml", "--bootstrap", "20", "--folds-by", "centre", "--tau2", "reml")
	card, _ = os.ReadFile(filepath.Join(reg, "loco-reml", "v1", "card.md"))
	bundle, _ := os.ReadFile(filepath.Join(reg, "loco-reml", "v1", "bundle.json"))
	if !strings.Contains(string(card), "random effects on the logit AUC, REML, Hartung-Knapp interval") || !strings.Contains(string(bundle), `"tau2_method": "reml"`) {
		t.Errorf("REML: card and bundle do not say so")
	}
	if code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "loco-reml", "--data", cohort); code != 0 {
		t.Errorf("reproduce with REML: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,gbm", "--trees", "20",
		"--bootstrap", "20", "--folds-by", "centre", "--json")
	var c workflow.Comparison
	if code != 0 || json.Unmarshal([]byte(stdout), &c) != nil || c.FoldsBy != "centre" || c.Folds != 3 || len(c.Algos) != 2 ||
		len(c.Algos[1].Groups) != 3 || c.Algos[1].Groups[2].Value != "site-C" || c.Algos[1].Groups[2].N != 300 || c.Algos[0].Pooled == nil || c.Algos[0].Pooled.Groups != 3 {
		t.Errorf("compare: exit %d\n%s%s", code, stdout, stderr)
	}
	// As text, each centre's AUC by algorithm.
	code, stdout, _ = runCLI(t, "compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,gbm", "--trees", "20",
		"--bootstrap", "20", "--folds-by", "centre")
	if want := fmt.Sprintf("site-B          300  %d", c.Algos[0].Groups[1].Positives); code != 0 || !strings.Contains(stdout, "CENTRE          N    POSITIVE  LOGISTIC     GBM") ||
		!strings.Contains(stdout, fmt.Sprintf("random effects                 %.3f", c.Algos[0].Pooled.AUC)) ||
		!strings.Contains(stdout, want) || !strings.Contains(stdout, fmt.Sprintf("%.3f", c.Algos[1].Groups[1].Metrics.AUC)) {
		t.Errorf("compare by centre, text: want %q in\n%s", want, stdout)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--folds", "4"}, "--folds and --folds-by: give one"},
		{[]string{"--by", "ecog"}, "--by ecog and --folds-by centre: folds by a column report their metrics by it; give one"},
		{[]string{"--tau2", "dl"}, `--tau2: unknown estimator of tau² "dl" (allowed: paule-mandel, reml)`},
	} {
		args := append([]string{"train", "--data", cohort, "--registry", reg, "--name", "x", "--folds-by", "centre"}, tt.args...)
		if code, _, stderr := runCLI(t, args...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
	if code, _, stderr := runCLI(t, "train", "--data", cohort, "--registry", reg, "--name", "x", "--tau2", "reml"); code != 2 || !strings.Contains(stderr, "--tau2 sets how --folds-by pools") {
		t.Errorf("--tau2 without --folds-by: exit %d, %q", code, stderr)
	}
}

// TestOOF: train and compare write the out-of-fold predictions their
// metrics come from: the AUC of the file's column is the one reported; a
// path that cannot take them is refused before any training.
func TestOOF(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 700, 21)
	reg := filepath.Join(dir, "registry")
	oof := filepath.Join(dir, "oof.parquet")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg,
		"--name", "m", "--folds", "3", "--bootstrap", "10", "--oof", oof)
	_, out, _ := runCLI(t, "models", "show", "--registry", reg, "m", "--json")
	var shown struct {
		Training struct{ Rows int } `json:"training"`
		Metrics  struct {
			CV struct{ AUC float64 } `json:"cross_validated"`
		} `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(t.Context(), oof, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, y, fold := tbl.Column("logistic"), tbl.Column("objective_response"), tbl.Column("fold")
	if p == nil || y == nil || fold == nil || tbl.Column("logistic_uncalibrated") == nil || tbl.Len != shown.Training.Rows {
		t.Fatalf("%d rows (want %d), columns %v", tbl.Len, shown.Training.Rows, tbl.Columns)
	}
	labels := make([]float64, tbl.Len)
	for i := range labels {
		if y.Bool[i] {
			labels[i] = 1
		}
		if f := fold.Int[i]; f < 1 || f > 3 {
			t.Fatalf("row %d: fold %d", i+1, f)
		}
	}
	if auc := stats.AUC(p.Num, labels); auc != shown.Metrics.CV.AUC {
		t.Errorf("AUC of the file's predictions %v, reported %v", auc, shown.Metrics.CV.AUC)
	}
	r, err := data.OpenTable(t.Context(), oof, data.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if md := r.Metadata(); md["abscopal.synthetic"] != "true" || md["abscopal.out_of_fold"] != "m:v1" {
		t.Errorf("metadata %v", md)
	}
	r.Close()

	// compare: a column pair per algorithm, on the same rows.
	csv := filepath.Join(dir, "compare.csv")
	mustCLI(t, "compare", "--data", cohort, "--target", "objective_response", "--algos", "logistic,forest", "--trees", "11",
		"--folds", "3", "--bootstrap", "10", "--oof", csv)
	b, _ := os.ReadFile(csv)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "patient_id,fold,objective_response,logistic,logistic_uncalibrated,forest,forest_uncalibrated" || len(lines) != shown.Training.Rows+1 {
		t.Errorf("compare's file: %d lines, header %q", len(lines), lines[0])
	}

	// Folds by a column: its value names each fold.
	byCSV := filepath.Join(dir, "by.csv")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg,
		"--name", "by", "--folds-by", "ecog", "--bootstrap", "10", "--oof", byCSV)
	b, _ = os.ReadFile(byCSV)
	lines = strings.Split(strings.TrimSpace(string(b)), "\n")
	foldOf := map[string]string{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if prev, ok := foldOf[f[3]]; ok && prev != f[1] {
			t.Errorf("ecog %q in folds %s and %s", f[3], prev, f[1])
		}
		foldOf[f[3]] = f[1]
	}
	if lines[0] != "patient_id,fold,objective_response,ecog,logistic,logistic_uncalibrated" || len(foldOf) < 3 {
		t.Errorf("folds by ecog: header %q, folds %v", lines[0], foldOf)
	}

	for _, tt := range []struct {
		path string
		code int
		want string
	}{
		{filepath.Join(dir, "oof.txt"), 2, "--oof " + filepath.Join(dir, "oof.txt") + ": the extension must be .parquet or .csv"},
		{filepath.Join(dir, "nodir", "oof.parquet"), 1, "no directory"},
	} {
		code, _, stderr := runCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "m", "--oof", tt.path)
		if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "fold 1") {
			t.Errorf("--oof %s: exit %d, %q", tt.path, code, stderr)
		}
	}
	if versions, _ := os.ReadDir(filepath.Join(reg, "m")); len(versions) != 1 {
		t.Errorf("a refused --oof published: %v", versions)
	}
}
