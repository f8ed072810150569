package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/workflow"
)

// TestRecalibrateCommand: a model trained at one centre is recalibrated on
// another's patients, who respond more often; the new version is published,
// listed as recalibrated, calibrated on that centre, reproducible from its
// file, and the old one is untouched.
func TestRecalibrateCommand(t *testing.T) {
	dir := t.TempDir()
	trainFile := synthCohort(t, dir, 1500, 3)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", trainFile, "--target", "objective_response", "--algo", "logistic",
		"--registry", reg, "--name", "orr", "--bootstrap", "20", "--instability", "10", "--intervals", "--survival", "os", "--threshold", "0.3")
	mustCLI(t, "train", "--data", trainFile, "--target", "objective_response", "--algo", "logistic", "--calibration", "isotonic",
		"--registry", reg, "--name", "iso", "--bootstrap", "10")
	var shifted []data.Patient
	for i, p := range synth.Generate(3000, 21) {
		if *p.ObjectiveResponse || i%3 == 0 {
			shifted = append(shifted, p)
		}
	}
	centreB := filepath.Join(dir, "centre_b.parquet")
	if err := data.WriteCohort(centreB, shifted, data.CohortWriteOptions{Synthetic: true}); err != nil {
		t.Fatal(err)
	}

	code, stdout, stderr := runCLI(t, "models", "recalibrate", "--registry", reg, "orr", "--data", centreB, "--bootstrap", "20")
	if code != 0 || !strings.Contains(stdout, "published orr:v2: orr:v1 recalibrated (platt) on centre_b.parquet") ||
		!strings.Contains(stdout, "calibration intercept / slope") {
		t.Fatalf("recalibrate: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "models", "list", "--registry", reg)
	if code != 0 || !strings.Contains(stdout, "SYNTHETIC, recalibrated orr:v1") {
		t.Errorf("list:\n%s", stdout)
	}
	// Validated on the centre's patients: v1 underestimates their risk, v2
	// does not (in-sample, as the report says), with the same AUC.
	code, stdout, stderr = runCLI(t, "evaluate", "--registry", reg, "--model", "orr:v1", "--model", "orr:v2", "--data", centreB, "--json", "--bootstrap", "20")
	var set workflow.EvaluationSet
	if code != 0 || json.Unmarshal([]byte(stdout), &set) != nil || len(set.Models) != 2 {
		t.Fatalf("evaluate: exit %d\n%s%s", code, stdout, stderr)
	}
	v1, v2 := set.Models[0].Metrics, set.Models[1].Metrics
	if !(v1.CalIntercept > 0.5) || !(v2.CalIntercept > -0.05 && v2.CalIntercept < 0.05) || v1.AUC != v2.AUC {
		t.Errorf("intercepts %.3f -> %.3f, AUC %v -> %v", v1.CalIntercept, v2.CalIntercept, v1.AUC, v2.AUC)
	}
	if !set.Models[1].RecalibrationFile || set.Models[0].RecalibrationFile || set.Models[1].TrainingFile {
		t.Errorf("in-sample flags: %+v, %+v", set.Models[0].Evaluation, set.Models[1].Evaluation)
	}
	if code, stdout, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "orr:v2", "--data", centreB, "--bootstrap", "10"); code != 0 ||
		!strings.Contains(stdout, "This is the file the model was recalibrated on (same SHA-256)") {
		t.Errorf("evaluate on the recalibration file:\n%s", stdout)
	}
	if code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "orr:v2", "--data", centreB); code != 0 ||
		!strings.Contains(stdout, "same       recalibration.svg") || !strings.Contains(stdout, "reproduced orr:v2 from centre_b.parquet, byte for byte") {
		t.Errorf("reproduce: exit %d\n%s%s", code, stdout, stderr)
	}
	var shown struct {
		Recalibrated *struct{ From, Method string }
	}
	if code, stdout, _ := runCLI(t, "models", "show", "--registry", reg, "orr:v2", "--json"); code != 0 || json.Unmarshal([]byte(stdout), &shown) != nil ||
		shown.Recalibrated == nil || shown.Recalibrated.From != "orr:v1" || shown.Recalibrated.Method != "platt" {
		t.Errorf("show --json: %+v\n%s", shown, stdout)
	}
	card, err := os.ReadFile(filepath.Join(reg, "orr", "v2", "card.md"))
	if err != nil || !strings.HasPrefix(string(card), "# Model card: orr, recalibrated") || !strings.Contains(string(card), "\n# Model card: orr\n") {
		t.Errorf("card: %v\n%s", err, card)
	}
	// Every plot the card shows comes along (the original's stability
	// analysis among them).
	for _, plot := range regexp.MustCompile(`\]\(([a-z_]+\.svg)\)`).FindAllStringSubmatch(string(card), -1) {
		if _, err := os.Stat(filepath.Join(reg, "orr", "v2", plot[1])); err != nil {
			t.Errorf("the card shows %s, which the version lacks: %v", plot[1], err)
		}
	}
	if !strings.Contains(string(card), "](instability.svg)") || !strings.Contains(string(card), "](survival_os.svg)") {
		t.Error("the recalibrated card lost the original's stability analysis or its survival curves")
	}
	// The bootstrap models are the original's, calibrated as it was: the
	// recalibrated version gives no intervals, and says so.
	if _, err := os.Stat(filepath.Join(reg, "orr", "v2", "bootstrap.json")); !os.IsNotExist(err) || !strings.Contains(string(card), "This version gives no intervals") {
		t.Errorf("the recalibrated version's bootstrap models: %v", err)
	}
	scores := filepath.Join(dir, "scores.csv")
	if code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", "orr:v2", "--data", centreB, "--out", scores, "--intervals"); code != 1 ||
		!strings.Contains(stderr, "orr:v2 kept none, so it gives no intervals: train it with --instability 200 --intervals") {
		t.Errorf("intervals of the recalibrated version: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", "orr:v1", "--data", centreB, "--out", scores, "--intervals"); code != 0 {
		t.Errorf("intervals of the original: exit %d, %q", code, stderr)
	} else if head, _ := os.ReadFile(scores); !strings.HasPrefix(string(head), "patient_id,probability,model,version,imputed_inputs,reason,interval_low,interval_high\n") {
		t.Errorf("scores with intervals: %.200s", head)
	}

	// Recalibration in the large: the old map shifted, said so.
	code, stdout, stderr = runCLI(t, "models", "recalibrate", "--registry", reg, "orr:v1", "--data", centreB, "--calibration", "intercept", "--bootstrap", "0")
	if code != 0 || !strings.Contains(stdout, "published orr:v3: orr:v1 recalibrated (intercept)") || !strings.Contains(stdout, "every patient's log-odds shifted by +") {
		t.Errorf("intercept: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "orr:v3", "--data", centreB); code != 0 {
		t.Errorf("reproduce the intercept shift: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"orr:v1", "--data", trainFile}, 1, "cohort.parquet is orr:v1's training data (the same SHA-256): recalibrate on patients the model was not trained on"},
		{[]string{"orr:v1", "--data", centreB, "--calibration", "none"}, 2, "--calibration none: platt, isotonic or intercept"},
		{[]string{"orr:v1"}, 2, "--data is required"},
		{[]string{"orr:v9", "--data", centreB}, 1, "model not found"},
		{[]string{"iso", "--data", centreB, "--calibration", "intercept"}, 1, "iso:v1 is calibrated by isotonic regression, which an intercept shift cannot move"},
	} {
		code, _, stderr := runCLI(t, append([]string{"models", "recalibrate", "--registry", reg}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if code, _, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "orr:v2", "--data", trainFile); code != 1 ||
		!strings.Contains(stderr, "cohort.parquet is not the data orr:v2 was recalibrated on") {
		t.Errorf("reproduce from the wrong file: exit %d, %q", code, stderr)
	}
	entries, _ := os.ReadDir(filepath.Join(reg, "orr"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "v1,v2,v3" {
		t.Errorf("registry holds %v after the refusals, want v1, v2 and v3", names)
	}
}
