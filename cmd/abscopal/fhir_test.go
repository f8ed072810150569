package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/fhir"
)

// TestSynthAndPredictFHIR: synth --format fhir writes one Bundle per
// patient, the same bytes for the same seed, each read back by the FHIR
// reader as the patient of the Parquet cohort of that seed; predict
// --format fhir writes one RiskAssessment per row, with the probabilities
// predict writes to CSV, bit for bit.
func TestSynthAndPredictFHIR(t *testing.T) {
	dir := t.TempDir()
	charts, again := filepath.Join(dir, "charts.ndjson"), filepath.Join(dir, "again.ndjson")
	_, _, stderr := runCLI(t, "synth", "--n", "30", "--seed", "9", "--format", "fhir", "--out", charts)
	if !strings.Contains(stderr, "wrote 30 SYNTHETIC patients as FHIR R4 Bundles") {
		t.Errorf("synth --format fhir: %s", stderr)
	}
	mustCLI(t, "synth", "--n", "30", "--seed", "9", "--format", "fhir", "--out", again)
	a, _ := os.ReadFile(charts)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) || bytes.Count(a, []byte("\n")) != 30 {
		t.Fatalf("two runs with seed 9: %d and %d bytes, %d lines", len(a), len(b), bytes.Count(a, []byte("\n")))
	}
	sc := bufio.NewScanner(bytes.NewReader(a))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		c, err := fhir.PatientOf(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sc.Text(), `"HTEST"`) || c.Patient.ICIClass == nil {
			t.Fatalf("%s: not labelled test data, or no class", c.Patient.PatientID)
		}
	}

	cohort := synthCohort(t, dir, 300, 9)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr", "--bootstrap", "10", "--folds", "3")
	scores, ras := filepath.Join(dir, "scores.csv"), filepath.Join(dir, "ra.ndjson")
	mustCLI(t, "predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", scores)
	mustCLI(t, "predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", ras, "--format", "fhir")
	f, _ := os.Open(scores)
	defer f.Close()
	rows, _ := csv.NewReader(f).ReadAll()
	lines := strings.Split(strings.TrimSpace(mustRead(t, ras)), "\n")
	if len(lines) != len(rows)-1 {
		t.Fatalf("%d RiskAssessments for %d rows", len(lines), len(rows)-1)
	}
	for i, l := range lines {
		var ra struct {
			ResourceType string `json:"resourceType"`
			Subject      struct{ Reference string }
			Prediction   []struct {
				ProbabilityDecimal json.Number `json:"probabilityDecimal"`
			}
		}
		if err := json.Unmarshal([]byte(l), &ra); err != nil {
			t.Fatal(err)
		}
		want, _ := strconv.ParseFloat(rows[i+1][1], 64)
		got, _ := ra.Prediction[0].ProbabilityDecimal.Float64()
		if ra.ResourceType != "RiskAssessment" || ra.Subject.Reference != "Patient/"+rows[i+1][0] || got != want {
			t.Errorf("line %d: %s %s %v; the CSV: %s %v", i+1, ra.ResourceType, ra.Subject.Reference, got, rows[i+1][0], want)
		}
	}

	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"synth", "--n", "3", "--format", "fhir", "--out", filepath.Join(dir, "x.json")}, "name the file .ndjson"},
		{[]string{"synth", "--n", "3", "--format", "hl7v2", "--out", filepath.Join(dir, "x.ndjson")}, `--format "hl7v2": fhir`},
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", filepath.Join(dir, "x.csv"), "--format", "fhir"}, "name the file .ndjson"},
		{[]string{"predict", "--registry", reg, "--model", "orr", "--data", cohort, "--out", filepath.Join(dir, "x.ndjson"), "--format", "fhir", "--contributions"}, "are for a table"},
	} {
		if code, _, stderr := runCLI(t, tc.args...); code != 2 || !strings.Contains(stderr, tc.says) {
			t.Errorf("abscopal %s: exit %d, %s; want 2 saying %q", strings.Join(tc.args, " "), code, stderr, tc.says)
		}
	}
}
