package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/workflow"
)

// TestCSVCohort runs a researcher's round on a cohort kept as CSV: the same
// model as from the Parquet file it was copied from (but for the data's
// name and hash), reproduced byte for byte from the CSV, scoring it, and
// validating a CSV with a bad value.
func TestCSVCohort(t *testing.T) {
	dir := t.TempDir()
	parquetPath := synthCohort(t, dir, 500, 21)
	csvPath := datatest.Copy(t, parquetPath, filepath.Join(dir, "cohort.csv"))
	reg := filepath.Join(dir, "registry")
	for _, in := range []string{parquetPath, csvPath} {
		name := strings.TrimPrefix(filepath.Ext(in), ".")
		mustCLI(t, "train", "--data", in, "--target", "objective_response", "--algo", "gbm", "--trees", "40",
			"--bootstrap", "50", "--registry", reg, "--name", name, "--seed", "3")
	}
	fromParquet, err := os.ReadFile(filepath.Join(reg, "parquet", "v1", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := os.ReadFile(filepath.Join(reg, "csv", "v1", "bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The bundles differ in the model's name and the data's file name and
	// hash only.
	a, b := strings.Split(string(fromParquet), "\n"), strings.Split(string(fromCSV), "\n")
	if len(a) != len(b) {
		t.Fatalf("bundles of %d and %d lines", len(a), len(b))
	}
	var differ []string
	for i := range a {
		if a[i] != b[i] {
			differ = append(differ, strings.TrimSpace(b[i]))
		}
	}
	if len(differ) != 3 || !strings.HasPrefix(differ[0], `"name": "csv"`) || !strings.HasPrefix(differ[1], `"data_file": "cohort.csv"`) || !strings.HasPrefix(differ[2], `"data_sha256"`) {
		t.Errorf("the bundles differ in:\n%s", strings.Join(differ, "\n"))
	}
	if card, _ := os.ReadFile(filepath.Join(reg, "csv", "v1", "card.md")); !strings.Contains(string(card), "Trained on SYNTHETIC data") {
		t.Error("the card of a model trained on the synthetic CSV does not say it is synthetic")
	}

	code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", reg, "csv", "--data", csvPath)
	if code != 0 || !strings.Contains(stdout, "reproduced csv:v1 from cohort.csv, byte for byte") {
		t.Errorf("reproduce: exit %d\n%s%s", code, stdout, stderr)
	}
	scores := filepath.Join(dir, "scores.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "csv", "--data", csvPath, "--out", scores)
	if b, _ := os.ReadFile(scores); strings.Count(string(b), "\n") != 501 {
		t.Errorf("scores.csv has %d lines, want a header and 500 rows", strings.Count(string(b), "\n"))
	}

	text, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(string(text), "\n", 4)
	header := strings.Split(lines[0], ",")
	row := strings.Split(lines[2], ",")
	for i, h := range header {
		if h == "pdl1_tps" {
			row[i] = "5%"
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(lines[0]+"\n"+lines[1]+"\n"+strings.Join(row, ",")+"\n"+lines[3]), 0o644); err != nil {
		t.Fatal(err)
	}
	converted := filepath.Join(dir, "bad.parquet")
	code, stdout, stderr = runCLI(t, "validate", "--data", bad, "--out", converted)
	if code != 1 || !strings.Contains(stdout, `row 2, column pdl1_tps: wrong type: "5%" (allowed: a number in [0, 100] %)`) || !strings.Contains(stdout, "(499 valid, 1 invalid)") ||
		!strings.Contains(stderr, "bad.parquet not written: 1 invalid row\n") {
		t.Errorf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(converted); !os.IsNotExist(err) {
		t.Errorf("a file with an invalid row was converted: %v", err)
	}

	// validate --out keeps the cohort as Parquet, typed by the schema: the
	// same patients as the Parquet file the CSV came from, still labelled.
	converted = filepath.Join(dir, "converted.parquet")
	if code, _, stderr := runCLI(t, "validate", "--data", csvPath, "--out", converted); code != 0 || !strings.Contains(stderr, "wrote 500 SYNTHETIC patients to "+converted) {
		t.Fatalf("validate --out: exit %d, %s", code, stderr)
	}
	ctx := context.Background()
	want, err := data.ReadCohort(ctx, parquetPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := data.ReadCohort(ctx, converted)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("the converted file's patients differ from the original's")
	}
	tr, err := data.OpenTable(ctx, converted, data.TableOptions{Columns: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if md := tr.Metadata(); md["abscopal.synthetic"] != "true" || md["abscopal.schema"] != "cohort/v1" {
		t.Errorf("converted file's metadata %v", md)
	}
	if code, _, stderr := runCLI(t, "validate", "--data", csvPath, "--out", filepath.Join(dir, "c.csv")); code != 2 || !strings.Contains(stderr, "name it .parquet") {
		t.Errorf("--out .csv: exit %d, %s", code, stderr)
	}
}

// TestValidateSpec checks a researcher's CSV against a spec: every row's
// problem listed in row order (an infinity, a value outside log1p's domain,
// an id given twice), the target's counts, and the exit status.
func TestValidateSpec(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(spec, []byte("id: id\ntarget: {column: y, positive: 1}\nfeatures:\n  - column: ldh\n    kind: numeric\n    transforms: [log1p]\n  - column: site\n    kind: categorical\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "own.csv")
	if err := os.WriteFile(file, []byte("id,ldh,site,y,note\n"+
		"007,210,a,1,x\n008,inf,b,0,x\n009,-4,a,,x\n007,180,b,0,x\n010,NA,,1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "validate", "--data", file, "--spec", spec)
	for _, want := range []string{
		"rows:    5 (2 valid, 3 invalid)",
		"target:  y (positive: 1): 2 positive, 0 negative, 0 null",
		"columns: 4 of the spec's present",
		file + ": row 2, column ldh: out of range: +Inf (allowed: a finite number; NaN or null for a missing value)\n" +
			"  " + file + ": row 3, column ldh: out of range: -4 (allowed: above -1: the spec takes its log1p",
		file + `: row 4, column id: duplicate id: "007": first seen in row 1`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "validate", "--data", file, "--spec", spec, "--json", "--no-duplicate-check")
	var v struct {
		Valid, Invalid int
		Target         workflow.TargetCounts
		Nulls          map[string]int
	}
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 1 || v.Valid != 3 || v.Invalid != 2 ||
		v.Target != (workflow.TargetCounts{Column: "y", Positive: "1", Positives: 2, Negatives: 1}) || v.Nulls["ldh"] != 1 || v.Nulls["site"] != 1 {
		t.Errorf("--json: exit %d, %+v (%v)\n%s", code, v, err, stdout)
	}
	if code, _, stderr := runCLI(t, "validate", "--data", file, "--spec", spec, "--out", filepath.Join(dir, "o.parquet")); code != 2 || !strings.Contains(stderr, "--out writes cohort files") {
		t.Errorf("--spec with --out: exit %d, %s", code, stderr)
	}
}

// TestCSVCategoricalLevels: a categorical feature learnt from text levels
// that look like numbers ("01", "2") scores a CSV copy of its data alike
// (the column read as its text, not as integers that would match no
// level), a Parquet file with the column as integers is refused naming
// it, and a model learnt from integer codes scores both.
func TestCSVCategoricalLevels(t *testing.T) {
	dir := t.TempDir()
	cols := []data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "site", Kind: data.KindString}, {Name: "x", Kind: data.KindFloat}, {Name: "y", Kind: data.KindBool}}
	codes := []data.ColumnSpec{cols[0], {Name: "site", Kind: data.KindInt}, cols[2], cols[3]}
	var text, ints [][]data.Value
	for i := range 300 {
		site := i % 3
		x := float64(i%17) / 17
		y := (i*7919)%10 < 3+site
		text = append(text, []data.Value{data.String(fmt.Sprintf("p%d", i)), data.String(fmt.Sprintf("%02d", site)), data.Float(x), data.Bool(y)})
		ints = append(ints, []data.Value{data.String(fmt.Sprintf("p%d", i)), data.Float(float64(site)), data.Float(x), data.Bool(y)})
	}
	textParquet := datatest.WriteTable(t, filepath.Join(dir, "text.parquet"), cols, text)
	intParquet := datatest.WriteTable(t, filepath.Join(dir, "ints.parquet"), codes, ints)
	textCSV := datatest.Copy(t, textParquet, filepath.Join(dir, "text.csv"))
	intCSV := datatest.Copy(t, intParquet, filepath.Join(dir, "ints.csv"))
	spec := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(spec, []byte("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: site\n    kind: categorical\n  - column: x\n    kind: numeric\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(dir, "registry")
	for name, in := range map[string]string{"text": textParquet, "codes": intParquet} {
		mustCLI(t, "train", "--data", in, "--spec", spec, "--target", "y", "--algo", "logistic", "--bootstrap", "20",
			"--registry", reg, "--name", name, "--seed", "1")
	}
	score := func(model, in string) (string, string) {
		out := filepath.Join(dir, model+"-"+filepath.Base(in)+".csv")
		code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", model, "--data", in, "--out", out)
		if code != 0 {
			return "", stderr
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), ""
	}
	want, stderr := score("text", textParquet)
	if got, _ := score("text", textCSV); want == "" || got != want {
		t.Errorf("the text-level model scores the CSV otherwise than the Parquet file (%s)", stderr)
	}
	if _, stderr := score("text", intParquet); !strings.Contains(stderr, "column site holds integers, but the model learnt feature site from text levels (00, 01, 02)") {
		t.Errorf("integers for text levels: %q", stderr)
	}
	want, _ = score("codes", intParquet)
	for _, in := range []string{intCSV, textCSV} { // "01" is code 1 as much as 1 is
		if got, stderr := score("codes", in); want == "" || got != want {
			t.Errorf("the code model scores %s otherwise than the Parquet file (%s)", filepath.Base(in), stderr)
		}
	}

	// A level the model never saw is counted, with the level, by predict
	// and by evaluate.
	recoded := filepath.Join(dir, "recoded.csv")
	b, err := os.ReadFile(textCSV)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recoded, []byte(strings.ReplaceAll(string(b), ",02,", ",2,")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "predict", "--registry", reg, "--model", "text", "--data", recoded, "--out", filepath.Join(dir, "r.csv"))
	if code != 0 || !strings.Contains(stderr, "inputs of the 300 rows scored that the model had to fill in or did not know:\n  site: a level never seen in training in 100 rows (33.3%): 2\n") ||
		!strings.Contains(stderr, "Case mix against the training rows") {
		t.Errorf("predict: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := runCLI(t, "predict", "--registry", reg, "--model", "text", "--data", recoded, "--out", filepath.Join(dir, "r.csv"), "--json")
	var summary struct {
		Rows    int
		Inputs  []models.InputReport `json:"inputs"`
		CaseMix []features.Shift     `json:"case_mix"`
	}
	if err := json.Unmarshal([]byte(stdout), &summary); code != 0 || err != nil || summary.Rows != 300 || summary.Inputs[0].Unseen != 100 || summary.CaseMix[0].Feature != "site" {
		t.Errorf("predict --json: exit %d, %+v (%v)\n%s", code, summary, err, stdout)
	}
	code, stdout, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "text", "--data", recoded, "--json")
	var ev struct {
		Inputs  []models.InputReport `json:"inputs"`
		CaseMix []features.Shift     `json:"case_mix"`
	}
	if err := json.Unmarshal([]byte(stdout), &ev); code != 0 || err != nil || len(ev.Inputs) != 1 || ev.Inputs[0].Unseen != 100 || ev.Inputs[0].UnseenLevels[0] != "2" {
		t.Errorf("evaluate --json: exit %d, %+v (%v)", code, ev.Inputs, err)
	}
	// A third of the rows in a level never seen is a major shift of the
	// case mix; x, drawn alike, has not moved.
	if len(ev.CaseMix) != 2 || ev.CaseMix[0].Feature != "site" || ev.CaseMix[0].PSI < features.ShiftMajor || ev.CaseMix[1].PSI > 1e-9 {
		t.Errorf("case mix %+v", ev.CaseMix)
	}
	code, stdout, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "text", "--data", recoded)
	if code != 0 || !strings.Contains(stdout, "Case mix against the training rows (population stability index") || !strings.Contains(stdout, "site     ") {
		t.Errorf("evaluate: exit %d\n%s", code, stdout)
	}
}

// TestSynthCSV: synth writes the same patients as CSV as it does as
// Parquet, labelled synthetic in the CSV's sidecar; another extension is a
// usage error.
func TestSynthCSV(t *testing.T) {
	dir := t.TempDir()
	pq, csv := filepath.Join(dir, "s.parquet"), filepath.Join(dir, "s.csv")
	for _, out := range []string{pq, csv} {
		if code, _, stderr := runCLI(t, "synth", "--n", "400", "--seed", "9", "--out", out); code != 0 || !strings.Contains(stderr, "wrote 400 SYNTHETIC patients") {
			t.Fatalf("synth %s: exit %d, %s", out, code, stderr)
		}
	}
	ctx := context.Background()
	want, err := data.ReadCohort(ctx, pq)
	if err != nil {
		t.Fatal(err)
	}
	got, err := data.ReadCohort(ctx, csv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("synth's CSV holds other patients than its Parquet file")
	}
	if b, err := os.ReadFile(csv + ".meta.json"); err != nil || !strings.Contains(string(b), `"abscopal.synthetic": "true"`) {
		t.Errorf("the CSV's sidecar: %v %s", err, b)
	}
	if code, _, stderr := runCLI(t, "synth", "--n", "10", "--out", filepath.Join(dir, "s.txt")); code != 2 || !strings.Contains(stderr, "the extension must be .parquet or .csv") {
		t.Errorf("synth to .txt: exit %d, %s", code, stderr)
	}
}

// TestCSVDecimalComma: --csv-decimal-comma writes semicolons and decimal
// commas (Excel where the decimal mark is a comma), which abscopal reads
// back as the same values: synth's patients, predict's probabilities,
// features' values; with a Parquet output it is a usage error.
func TestCSVDecimalComma(t *testing.T) {
	dir := t.TempDir()
	pq, eu := filepath.Join(dir, "s.parquet"), filepath.Join(dir, "eu.csv")
	for _, args := range [][]string{{"--out", pq}, {"--out", eu, "--csv-decimal-comma"}} {
		mustCLI(t, append([]string{"synth", "--n", "300", "--seed", "9"}, args...)...)
	}
	ctx := context.Background()
	want, err := data.ReadCohort(ctx, pq)
	if err != nil {
		t.Fatal(err)
	}
	got, err := data.ReadCohort(ctx, eu)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the decimal-comma CSV's patients differ from the Parquet file's (%v)", err)
	}
	text, _ := os.ReadFile(eu)
	if header, _, _ := strings.Cut(string(text), "\n"); !strings.HasPrefix(header, "patient_id;") || !regexp.MustCompile(`;\d+,\d+;`).Match(text) {
		t.Errorf("not semicolons and decimal commas: %.200s", text)
	}

	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", pq, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr", "--bootstrap", "10")
	scores := map[string]string{}
	for _, tc := range []struct{ out, flag string }{{filepath.Join(dir, "p.csv"), ""}, {filepath.Join(dir, "p_eu.csv"), "--csv-decimal-comma"}} {
		args := []string{"predict", "--registry", reg, "--model", "orr", "--data", pq, "--out", tc.out}
		if tc.flag != "" {
			args = append(args, tc.flag)
		}
		mustCLI(t, args...)
		b, err := data.ReadTable(ctx, tc.out, []string{"patient_id", "probability"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range b.Len {
			scores[b.Columns[0].Str[i]+tc.flag] = fmt.Sprint(b.Columns[1].Value(i))
		}
	}
	for _, p := range want {
		if a, b := scores[p.PatientID], scores[p.PatientID+"--csv-decimal-comma"]; a == "" || a != b {
			t.Fatalf("%s: probability %q from the CSV, %q from the decimal-comma CSV", p.PatientID, a, b)
		}
	}

	// The out-of-fold predictions too (train's; compare's share the writer).
	var oofs [2][]float64
	for i, flags := range [][]string{{"--oof", filepath.Join(dir, "oof.csv")}, {"--oof", filepath.Join(dir, "oof_eu.csv"), "--csv-decimal-comma"}} {
		args := append([]string{"train", "--data", pq, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr", "--bootstrap", "10"}, flags...)
		mustCLI(t, args...)
		b, err := data.ReadTable(ctx, flags[1], []string{"logistic"})
		if err != nil {
			t.Fatal(err)
		}
		oofs[i] = b.Columns[0].Num
	}
	if len(oofs[0]) == 0 || !reflect.DeepEqual(oofs[0], oofs[1]) {
		t.Errorf("out-of-fold probabilities differ between the CSV and the decimal-comma CSV (%d and %d rows)", len(oofs[0]), len(oofs[1]))
	}

	for _, args := range [][]string{
		{"train", "--data", pq, "--target", "objective_response", "--registry", reg, "--name", "orr", "--csv-decimal-comma"},
		{"features", "--data", pq, "--out", filepath.Join(dir, "f.parquet"), "--csv-decimal-comma"},
		{"predict", "--registry", reg, "--model", "orr", "--data", pq, "--out", filepath.Join(dir, "p.parquet"), "--csv-decimal-comma"},
		{"synth", "--n", "10", "--out", filepath.Join(dir, "x.parquet"), "--csv-decimal-comma"},
	} {
		if code, _, stderr := runCLI(t, args...); code != 2 || !strings.Contains(stderr, "--csv-decimal-comma writes CSV: give a .csv --") {
			t.Errorf("%s with a Parquet output: exit %d, %s", args[0], code, stderr)
		}
	}
}
