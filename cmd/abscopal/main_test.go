package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/workflow"
)

// runCLI runs the command line in-process and returns exit status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// mustCLI runs the command line in-process, as a test's set-up does (train a
// model, write a cohort), and returns its stdout; it stops the test, naming
// the command and its stderr, unless the command exits 0.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("abscopal %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// synthCohort writes n synthetic patients from seed into dir/cohort.parquet
// with "abscopal synth" and returns the path.
func synthCohort(t *testing.T, dir string, n int, seed uint64) string {
	t.Helper()
	path := filepath.Join(dir, "cohort.parquet")
	mustCLI(t, "synth", "--n", fmt.Sprint(n), "--seed", fmt.Sprint(seed), "--out", path)
	return path
}

func TestSynthThenValidate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cohort.parquet")
	code, _, stderr := runCLI(t, "synth", "--n", "1200", "--seed", "4", "--out", path)
	if code != 0 || !strings.Contains(stderr, "wrote 1200 SYNTHETIC patients") {
		t.Fatalf("synth: exit %d, stderr %q", code, stderr)
	}
	code, stdout, _ := runCLI(t, "validate", "--data", path)
	if code != 0 {
		t.Fatalf("validate: exit %d\n%s", code, stdout)
	}
	for _, want := range []string{"rows:    1200 (1200 valid, 0 invalid)", "no invalid rows", "rt_fractions", "INT64"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
	// JSON report: nulls per column agree with the text report's source.
	code, stdout, _ = runCLI(t, "validate", "--data", path, "--json")
	var v struct {
		Rows     int64              `json:"rows"`
		Nulls    map[string]int64   `json:"nulls"`
		Problems []workflow.Problem `json:"problems"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.Rows != 1200 || v.Problems == nil || !strings.Contains(stdout, `"by_reason": {}`) {
		t.Fatalf("validate --json: exit %d, %q", code, stdout)
	}
	if v.Nulls["patient_id"] != 0 || v.Nulls["rt_fractions"] == 0 {
		t.Errorf("nulls %v: want none in patient_id, some in rt_fractions", v.Nulls)
	}
}

func TestValidateReportsEveryInvalidRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.parquet")
	specs := []data.ColumnSpec{
		{Name: "patient_id", Kind: data.KindString},
		{Name: "ici_class", Kind: data.KindString},
		{Name: "rt_dose_gy", Kind: data.KindFloat, Optional: true},
		{Name: "rt_fractions", Kind: data.KindInt, Optional: true},
		{Name: "rt_site", Kind: data.KindString, Optional: true},
		{Name: "alc", Kind: data.KindFloat, Optional: true},
	}
	rows := [][]data.Value{
		{data.String("a"), data.String("pd1"), data.Float(24), data.Float(3), data.String("lung"), data.Float(1)},
		{data.String("b"), data.String("pd1"), data.Float(-5), data.Float(3), data.String("lung"), data.Float(1)},
		{data.String("c"), data.String("pd1"), data.Float(45), data.Float(200), data.String("lung"), data.Float(500)},
		{data.String("a"), data.String("pd1"), data.Null, data.Null, data.Null, data.Float(1)},
	}
	datatest.WriteTable(t, path, specs, rows)
	code, stdout, _ := runCLI(t, "validate", "--data", path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"rows:    4 (1 valid, 3 invalid)",
		"row 2, column rt_dose_gy: out of range: -5 (allowed: [0, 150] Gy)",
		"row 3, column rt_fractions: out of range: 200 (allowed: [0, 60] fractions)",
		"row 3, column alc: out of range: 500 (allowed: [0, 50] 10^9/L)",
		`row 4, column patient_id: duplicate id: "a": first seen in row 1`,
		"out of range:            3",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	notParquet := filepath.Join(dir, "x.parquet")
	if err := os.WriteFile(notParquet, []byte("id,alc\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wrongType := datatest.WriteTable(t, filepath.Join(dir, "wrong.parquet"), []data.ColumnSpec{
		{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString},
		{Name: "rt_fractions", Kind: data.KindFloat}}, [][]data.Value{{data.String("a"), data.String("pd1"), data.Float(45.5)}})
	cohort := synthCohort(t, dir, 50, 1)
	var rows [][]data.Value
	cols := []data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}}
	for _, f := range data.CohortFields() {
		if f.Name != "patient_id" && f.Name != "ici_class" {
			cols = append(cols, data.ColumnSpec{Name: f.Name, Kind: f.Kind, Optional: true})
		}
	}
	row := make([]data.Value, len(cols))
	row[0] = data.String("a")
	noICI := datatest.WriteTable(t, filepath.Join(dir, "no_ici.parquet"), cols, append(rows, row))
	ownColumns := datatest.WriteTable(t, filepath.Join(dir, "own.parquet"), []data.ColumnSpec{
		{Name: "sample_id", Kind: data.KindString}, {Name: "response", Kind: data.KindBool}}, [][]data.Value{{data.String("a"), data.Bool(true)}})
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", "--data", notParquet}, 1, "x.parquet: not a Parquet file"},
		{[]string{"train", "--data", cohort, "--target", "response", "--registry", filepath.Join(dir, "r"), "--name", "m"}, 1,
			"spec (built-in irt): target.column: column response is not in the cohort schema"},
		{[]string{"train", "--data", ownColumns, "--target", "response", "--registry", filepath.Join(dir, "r"), "--name", "m"}, 1,
			"own.parquet: column patient_id: missing (required, STRING); the file has 0 of the cohort schema's 35 columns (abscopal schema); a file of other columns is read through a feature spec (--spec; abscopal features --print-spec writes one to start from)"},
		// A cohort file that lacks one required column is not sent to a spec.
		{[]string{"validate", "--data", noICI}, 1, "no_ici.parquet: column ici_class: missing (required, STRING)\n"},
		{[]string{"validate", "--data", filepath.Join(dir, "missing.parquet")}, 1, "no such file"},
		{[]string{"validate"}, 2, "--data is required"},
		{[]string{"synth", "--n", "-3", "--out", filepath.Join(dir, "c.parquet")}, 2, "--n must be in [1, 50000000], got -3"},
		{[]string{"synth", "--n", "ten"}, 2, "invalid argument"},
		{[]string{"schema", "--format", "xml"}, 2, "--format must be markdown, json or fhir"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate" (abscopal --help lists them)`},
		{[]string{"tarin"}, 2, "did you mean train?"},
		{[]string{"models", "lsit"}, 2, `unknown command "lsit" (abscopal models --help lists them); did you mean list?`},
		{[]string{"models", "show", "--registry", dir}, 2, "models show takes 1 argument(s), got 0 (usage: abscopal models show NAME[@ALIAS|:VERSION] [flags])"},
		{[]string{"train", "cohort.parquet"}, 2, `train takes no arguments, got "cohort.parquet" (usage: abscopal train --data FILE`},
		{[]string{"serve", "--registry", dir, "--addr", "127.0.0.1:0", "--rate-limit", "-1"}, 2, "--rate-limit -1: want requests per second, 0 for no limit"},
		{[]string{"serve", "--registry", dir, "--addr", "127.0.0.1:0", "--rate-burst", "5"}, 2, "--rate-burst 5: want a positive number of requests, with --rate-limit"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "c.parquet")); !os.IsNotExist(err) {
		t.Errorf("a refused synth left a file: %v", err)
	}
	// DOUBLE for an integer field is read, and a fraction refused, named.
	if code, out, _ := runCLI(t, "validate", "--data", wrongType); code != 1 || !strings.Contains(out, "row 1, column rt_fractions") || !strings.Contains(out, "45.5") || !strings.Contains(out, "a whole number") {
		t.Errorf("validate of 45.5 fractions: exit %d\n%s", code, out)
	}
}

// TestSchemaDocIsCurrent keeps docs/cohort-schema.md in step with the code.
func TestSchemaDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/cohort-schema.md")
	if err != nil {
		t.Fatal(err)
	}
	code, got, _ := runCLI(t, "schema", "--format", "markdown")
	if code != 0 || got != string(want) {
		t.Fatal("docs/cohort-schema.md is stale; run: go run ./cmd/abscopal schema --format markdown > docs/cohort-schema.md")
	}
	// docs/fhir.md's mapping table, between its markers.
	guide, err := os.ReadFile("../../docs/fhir.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- fhir mapping: generated by abscopal schema --format fhir; do not edit -->\n", "<!-- end of the fhir mapping -->"
	_, table, ok := strings.Cut(string(guide), begin)
	table, _, ok2 := strings.Cut(table, end)
	if code, got, _ := runCLI(t, "schema", "--format", "fhir"); !ok || !ok2 || code != 0 || got != table {
		t.Error("docs/fhir.md's mapping is stale: put the output of go run ./cmd/abscopal schema --format fhir between its markers")
	}
	code, js, _ := runCLI(t, "schema", "--format", "json")
	var fields []data.FieldInfo
	if code != 0 || json.Unmarshal([]byte(js), &fields) != nil || len(fields) != len(data.CohortFields()) {
		t.Fatalf("schema --format json: exit %d, %d fields", code, len(fields))
	}
	if fields[0].Name != "patient_id" || !fields[0].Required {
		t.Errorf("first field %+v, want required patient_id", fields[0])
	}
}

// TestFeatureDocIsCurrent keeps docs/features.md in step with the code.
func TestFeatureDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/features.md")
	if err != nil {
		t.Fatal(err)
	}
	if code, got, _ := runCLI(t, "features", "--catalogue"); code != 0 || got != string(want) {
		t.Fatal("docs/features.md is stale; run: go run ./cmd/abscopal features --catalogue > docs/features.md")
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "abscopal ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestFeaturesCommand(t *testing.T) {
	dir := t.TempDir()
	cohort := filepath.Join(dir, "cohort.parquet")
	mustCLI(t, "synth", "--n", "300", "--out", cohort)
	out := filepath.Join(dir, "f.parquet")
	code, _, stderr := runCLI(t, "features", "--data", cohort, "--out", out)
	if code != 0 || !strings.Contains(stderr, "wrote 300 rows x 40 columns") {
		t.Fatalf("features: exit %d, %q", code, stderr)
	}

	// --print-spec prints a spec that parses back to the built-in one.
	code, y, _ := runCLI(t, "features", "--print-spec")
	if code != 0 {
		t.Fatal("print-spec failed")
	}
	specFile := filepath.Join(dir, "irt.yaml")
	if err := os.WriteFile(specFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	out2 := filepath.Join(dir, "f2.parquet")
	mustCLI(t, "features", "--data", cohort, "--spec", specFile, "--out", out2)

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("target: {column: objective_response, positive: true}\nfeatures:\n  - column: tmb\n    kind: numeric\n    transforms: [log10]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"features", "--data", cohort, "--spec", bad, "--out", filepath.Join(dir, "x.parquet")}, 1, `bad.yaml:3: features[0] (tmb): unknown transform "log10"`},
		{[]string{"features", "--data", cohort, "--out", filepath.Join(dir, "x.json")}, 1, "must be .parquet or .csv"},
		{[]string{"features", "--data", cohort}, 2, "--data and --out are required"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	for _, name := range []string{"x.parquet", "x.json"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("a failed export left %s", name)
		}
	}
}
