package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// duckdb runs SQL statements in DuckDB and decodes the rows of the last one.
func duckdb(t *testing.T, statements ...string) []map[string]any {
	t.Helper()
	if _, err := os.Stat("node_modules/@duckdb/node-api"); err != nil {
		if os.Getenv("ABSCOPAL_REQUIRE_INTEROP") == "1" {
			t.Fatalf("DuckDB is not installed (npm ci --prefix interop): %v", err)
		}
		t.Skip("DuckDB not installed; run: npm ci --prefix interop")
	}
	cmd := exec.Command("node", append([]string{"duckdb.mjs"}, statements...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, stderr.String())
	}
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("duckdb output %q: %v", out, err)
	}
	return rows
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// duckType is the DuckDB type each kind of cohort column must read as.
var duckType = map[data.Kind]string{
	data.KindFloat:  "DOUBLE",
	data.KindInt:    "BIGINT",
	data.KindBool:   "BOOLEAN",
	data.KindString: "VARCHAR",
}

func TestDuckDBReadsSynthCohort(t *testing.T) {
	const n, seed = 3000, 5
	path := filepath.Join(t.TempDir(), "synth.parquet")
	if err := synth.WriteFile(context.Background(), path, n, seed, data.WriteOptions{RowGroupSize: 1000}); err != nil {
		t.Fatal(err)
	}
	file := sqlString(path)
	fields := data.CohortFields()

	count := duckdb(t, "SELECT count(*) AS n FROM "+file)
	if got := fmt.Sprint(count[0]["n"]); got != strconv.Itoa(n) {
		t.Errorf("DuckDB counts %s rows, want %d", got, n)
	}

	desc := duckdb(t, "DESCRIBE SELECT * FROM "+file)
	if len(desc) != len(fields) {
		t.Fatalf("DuckDB sees %d columns, want %d", len(desc), len(fields))
	}
	for i, f := range fields {
		if desc[i]["column_name"] != f.Name || desc[i]["column_type"] != duckType[f.Kind] {
			t.Errorf("column %d: DuckDB sees %v %v, want %s %s", i, desc[i]["column_name"], desc[i]["column_type"], f.Name, duckType[f.Kind])
		}
	}

	// Null counts: DuckDB's against the generated patients'.
	patients := synth.Generate(n, seed)
	var exprs []string
	for _, f := range fields {
		exprs = append(exprs, fmt.Sprintf("count(*) - count(%s) AS %s", f.Name, f.Name))
	}
	nulls := duckdb(t, "SELECT "+strings.Join(exprs, ", ")+" FROM "+file)[0]
	for _, f := range fields {
		want := 0
		for i := range patients {
			if !f.Get(&patients[i]).Valid {
				want++
			}
		}
		if got := fmt.Sprint(nulls[f.Name]); got != strconv.Itoa(want) {
			t.Errorf("column %s: DuckDB counts %s nulls, want %d", f.Name, got, want)
		}
	}

	// A few values, and the synthetic label in the key-value metadata.
	sums := duckdb(t, "SELECT sum(rt_dose_gy) AS dose, sum(ecog) AS ecog, count(*) FILTER (WHERE rt_site = 'lung') AS lung FROM "+file)[0]
	var dose float64
	var ecog, lung int
	for _, p := range patients {
		dose += *p.RTDoseGy
		if p.ECOG != nil {
			ecog += *p.ECOG
		}
		if p.RTSite != nil && *p.RTSite == "lung" {
			lung++
		}
	}
	if got, _ := sums["dose"].(json.Number).Float64(); math.Abs(got-dose) > 1e-6 {
		t.Errorf("sum(rt_dose_gy) = %v, want %v", got, dose)
	}
	if fmt.Sprint(sums["ecog"]) != strconv.Itoa(ecog) || fmt.Sprint(sums["lung"]) != strconv.Itoa(lung) {
		t.Errorf("sum(ecog) = %v, lung count = %v; want %d and %d", sums["ecog"], sums["lung"], ecog, lung)
	}
	md := duckdb(t, "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata("+file+")")
	found := false
	for _, kv := range md {
		if kv["key"] == "abscopal.synthetic" && kv["value"] == "true" {
			found = true
		}
	}
	if !found {
		t.Errorf("DuckDB does not see the synthetic label in %v", md)
	}
}

func TestAbscopalReadsDuckDBCohort(t *testing.T) {
	path := filepath.Join(t.TempDir(), "duck.parquet")
	script, err := os.ReadFile("duckdb_cohort.sql")
	if err != nil {
		t.Fatal(err)
	}
	file := sqlString(path)
	want := duckdb(t,
		strings.ReplaceAll(string(script), "'%OUT%'", file),
		"SELECT * EXCLUDE (clinic_note) FROM "+file+" ORDER BY patient_id")

	// The file has the physical types the test is about.
	meta := duckdb(t, "SELECT path_in_schema AS col, type, encodings FROM parquet_metadata("+file+") WHERE row_group_id = 0")
	types := map[string]string{}
	for _, m := range meta {
		types[fmt.Sprint(m["col"])] = fmt.Sprint(m["type"]) + " " + fmt.Sprint(m["encodings"])
	}
	for col, wantType := range map[string]string{"rt_fractions": "INT32", "ecog": "INT64", "pdl1_tps": "FLOAT", "alc": "DOUBLE", "hla_loh": "BOOLEAN"} {
		if !strings.HasPrefix(types[col], wantType) {
			t.Errorf("DuckDB wrote %s as %q, want %s", col, types[col], wantType)
		}
	}
	if !strings.Contains(types["ici_class"], "DICTIONARY") {
		t.Errorf("ici_class is not dictionary encoded: %q", types["ici_class"])
	}

	got, err := data.ReadCohort(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d patients, DuckDB has %d rows", len(got), len(want))
	}
	for i, row := range want {
		for name, v := range row {
			f, ok := data.CohortField(name)
			if !ok {
				t.Fatalf("DuckDB column %s is not in the schema", name)
			}
			if g := f.Get(&got[i]); !sameValue(g, f.Kind, v) {
				t.Fatalf("row %d (%s), column %s: abscopal read %s, DuckDB has %v", i+1, got[i].PatientID, name, g.Format(f.Kind), v)
			}
		}
	}
}

func sameValue(g data.Value, k data.Kind, v any) bool {
	if v == nil {
		return !g.Valid
	}
	if !g.Valid {
		return false
	}
	switch k {
	case data.KindFloat, data.KindInt:
		var x float64
		switch v := v.(type) {
		case json.Number:
			x, _ = v.Float64()
		case string: // BIGINT arrives as a string
			x, _ = strconv.ParseFloat(v, 64)
		}
		return math.Abs(x-g.Num) <= 1e-6*math.Max(1, math.Abs(x))
	case data.KindBool:
		return v == g.Bool
	default:
		return v == g.Str
	}
}

func TestDuckDBReadsFeatureExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "features.parquet")
	if err := synth.WriteFile(ctx, in, 2500, 3, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := features.Export(ctx, in, out, features.BuiltinSpec("abscopal_response"), features.ExportOptions{Version: "interop"})
	if err != nil {
		t.Fatal(err)
	}
	file := sqlString(out)

	desc := duckdb(t, "DESCRIBE SELECT * FROM "+file)
	if len(desc) != len(res.Columns) {
		t.Fatalf("DuckDB sees %d columns, the export wrote %d", len(desc), len(res.Columns))
	}
	types := map[string]string{}
	for i, d := range desc {
		if d["column_name"] != res.Columns[i] {
			t.Errorf("column %d: DuckDB sees %v, want %s", i, d["column_name"], res.Columns[i])
		}
		types[fmt.Sprint(d["column_name"])] = fmt.Sprint(d["column_type"])
	}
	for col, want := range map[string]string{"patient_id": "VARCHAR", "bed10_gy": "DOUBLE", "hypofractionated": "BOOLEAN",
		"irradiated_site": "VARCHAR", "lymphopenia_grade_nadir": "BIGINT", "ecog": "BIGINT", "age": "DOUBLE", "abscopal_response": "BOOLEAN", "pneumonitis_grade": "BIGINT"} {
		if types[col] != want {
			t.Errorf("DuckDB reads %s as %s, want %s", col, types[col], want)
		}
	}

	// An 8 Gy x 3 row (the only regimen with 8 Gy per fraction) has BED10 43.2
	// and EQD2 36; a row without RT has 0, not null.
	v := duckdb(t, `SELECT count(*) AS n,
		count(*) FILTER (WHERE dose_per_fraction_gy = 8) AS n8,
		count(*) FILTER (WHERE dose_per_fraction_gy = 8 AND abs(bed10_gy - 43.2) < 1e-9 AND abs(eqd2_10_gy - 36) < 1e-9) AS n8ok,
		count(*) FILTER (WHERE NOT had_rt AND bed10_gy = 0 AND irradiated_site = 'none') AS norx_ok,
		count(*) FILTER (WHERE NOT had_rt) AS norx
		FROM `+file)[0]
	if fmt.Sprint(v["n"]) != "2500" || fmt.Sprint(v["n8"]) == "0" || fmt.Sprint(v["n8"]) != fmt.Sprint(v["n8ok"]) || fmt.Sprint(v["norx"]) != fmt.Sprint(v["norx_ok"]) {
		t.Errorf("DuckDB sees %v", v)
	}

	md := duckdb(t, "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata("+file+") WHERE decode(key) IN ('abscopal.feature.edic_gy', 'abscopal.synthetic', 'abscopal.version')")
	got := map[string]string{}
	for _, kv := range md {
		got[fmt.Sprint(kv["key"])] = fmt.Sprint(kv["value"])
	}
	if got["abscopal.synthetic"] != "true" || got["abscopal.version"] != "interop" || !strings.Contains(got["abscopal.feature.edic_gy"], "Jin et al.") {
		t.Errorf("metadata seen by DuckDB: %v", got)
	}
}

func TestDuckDBReadsRealCohortFeatures(t *testing.T) {
	const in = "../../shared/data/ici_cohort_chowell2022_train.parquet"
	if _, err := os.Stat(in); err != nil {
		t.Skip("the real cohort is not here")
	}
	spec, err := features.LoadSpec("../examples/ici_chowell2022.spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "chowell.parquet")
	if _, err := features.Export(context.Background(), in, out, spec, features.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	// DuckDB computes the same summary on our export as on the original file.
	q := "SELECT count(*) AS n, round(sum(tmb), 6) AS tmb, count(*) FILTER (WHERE hla_loh) AS loh, count(DISTINCT cancer_type) AS types FROM "
	a, b := duckdb(t, q+sqlString(in))[0], duckdb(t, q+sqlString(out))[0]
	for k := range a {
		if fmt.Sprint(a[k]) != fmt.Sprint(b[k]) {
			t.Errorf("%s: original %v, export %v", k, a[k], b[k])
		}
	}
}

// TestDuckDBReadsScores: the scores of "abscopal predict" read in DuckDB
// with their types, their nulls (no abscopal probability without RT, and
// the reason), the same probabilities, and the synthetic label.
func TestDuckDBReadsScores(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m := modeltest.Synthetic(t, "abscopal", "abscopal_response", 1500, 6)
	in, out := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "scores.parquet")
	if err := synth.WriteFile(ctx, in, 1000, 7, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	scored, err := m.ScoreFile(ctx, in, out, models.ScoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum, undefined := 0.0, 0
	for _, p := range synth.Generate(1000, 7) {
		if !p.HadRT() {
			undefined++
			continue
		}
		sum += m.Predict(features.PatientRecord{P: &p}).Probability
	}
	if scored.Rows != 1000 || scored.Undefined != undefined {
		t.Fatalf("scored %+v, want 1000 rows, %d undefined", scored, undefined)
	}

	file := sqlString(out)
	types := map[string]string{}
	for _, d := range duckdb(t, "DESCRIBE SELECT * FROM "+file) {
		types[fmt.Sprint(d["column_name"])] = fmt.Sprint(d["column_type"])
	}
	want := map[string]string{"patient_id": "VARCHAR", "probability": "DOUBLE", "model": "VARCHAR", "version": "VARCHAR", "imputed_inputs": "BIGINT", "reason": "VARCHAR"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("DuckDB reads the columns as %v, want %v", types, want)
	}
	v := duckdb(t, `SELECT count(*) AS n, count(probability) AS scored, count(reason) AS reasons,
		count(*) FILTER (WHERE probability IS NULL AND reason LIKE 'an abscopal response needs radiotherapy%') AS explained,
		count(*) FILTER (WHERE probability > 0 AND probability < 1) AS in_range,
		sum(probability) AS sum, min(version) AS version, min(model) AS model FROM `+file)[0]
	got, _ := strconv.ParseFloat(fmt.Sprint(v["sum"]), 64)
	n := fmt.Sprint(1000 - undefined)
	if fmt.Sprint(v["n"]) != "1000" || fmt.Sprint(v["scored"]) != n || fmt.Sprint(v["in_range"]) != n ||
		fmt.Sprint(v["reasons"]) != fmt.Sprint(undefined) || fmt.Sprint(v["explained"]) != fmt.Sprint(undefined) ||
		v["version"] != "v1" || v["model"] != "abscopal" || math.Abs(got-sum) > 1e-9 {
		t.Errorf("DuckDB sees %v; want %s scored, %d explained nulls, probabilities summing to %v", v, n, undefined, sum)
	}
	md := duckdb(t, "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata("+file+")")
	kv := map[string]string{}
	for _, r := range md {
		kv[fmt.Sprint(r["key"])] = fmt.Sprint(r["value"])
	}
	if kv["abscopal.synthetic"] != "true" || kv["abscopal.model"] != "abscopal:v1" || kv["abscopal.target"] != "abscopal_response" {
		t.Errorf("metadata seen by DuckDB: %v", kv)
	}
}

// TestDuckDBCopyOfSynthCohort: a synthetic cohort that DuckDB copies (with a
// centre column added, as a research group joins one) loses its Parquet
// metadata, the synthetic label with it; abscopal still knows it synthetic
// by its ground-truth columns, and reads the centre along with the patients.
func TestDuckDBCopyOfSynthCohort(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in, copied := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "copy.parquet")
	if err := synth.WriteFile(ctx, in, 300, 5, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	md := duckdb(t, "COPY (SELECT *, 'centre-' || (row_number() OVER () % 3) AS centre FROM "+sqlString(in)+" ORDER BY patient_id) TO "+sqlString(copied)+" (FORMAT parquet)",
		"SELECT count(*) AS n FROM parquet_kv_metadata("+sqlString(copied)+") WHERE decode(key) = 'abscopal.synthetic'")
	if fmt.Sprint(md[0]["n"]) != "0" {
		t.Fatalf("DuckDB's copy kept the synthetic label (%v): this test's premise is gone", md)
	}
	src, err := features.OpenSource(ctx, copied, features.BuiltinSpec("objective_response"), features.SourceOptions{Also: []string{"centre"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	rs, err := src.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	centres := map[string]int{}
	for _, r := range rs {
		centres[r.Value("centre").Str]++
	}
	if !src.Synthetic() || len(rs) != 300 || len(centres) != 3 || centres["centre-0"] != 100 {
		t.Errorf("DuckDB's copy: synthetic %v, %d patients, centres %v; want synthetic, 300 patients, 100 in each of 3 centres", src.Synthetic(), len(rs), centres)
	}
}

// TestAbscopalReadsDuckDBCSV: a cohort DuckDB writes as CSV (its COPY ...
// (HEADER): nulls as empty fields, booleans as true/false, DOUBLE at full
// precision) reads as the same patients as the Parquet file it came from,
// and trains the same features.
func TestAbscopalReadsDuckDBCSV(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	in, csvPath := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "cohort.csv")
	if err := synth.WriteFile(ctx, in, 1500, 8, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	duckdb(t, "COPY (SELECT * FROM "+sqlString(in)+") TO "+sqlString(csvPath)+" (HEADER)", "SELECT 1 AS done")
	want, err := data.ReadCohort(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := data.ReadCohort(ctx, csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d patients from DuckDB's CSV, %d from the Parquet file", len(got), len(want))
	}
	fields := data.CohortFields()
	for i := range want {
		for _, f := range fields {
			if g, w := f.Get(&got[i]), f.Get(&want[i]); g != w {
				t.Fatalf("row %d, column %s: %s from the CSV, %s from the Parquet file", i+1, f.Name, g.Format(f.Kind), w.Format(f.Kind))
			}
		}
	}
	// DuckDB's CSV has lost the Parquet file's label; the ground-truth
	// columns still mark it synthetic.
	src, err := features.OpenSource(ctx, csvPath, features.BuiltinSpec("objective_response"), features.SourceOptions{NeedTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if !src.Synthetic() {
		t.Error("DuckDB's CSV of a synthetic cohort is not taken as synthetic")
	}
}

// TestDuckDBReadsIntervals: scores with intervals (a model that kept its
// bootstrap models) read in DuckDB as two DOUBLE columns, null where the
// probability is, each interval ordered.
func TestDuckDBReadsIntervals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	files := modeltest.FilesWith(t, "abscopal", features.BuiltinSpec("abscopal_response"), 800, 6,
		train.Options{Algo: "logistic", Folds: 3, Seed: 6, Bootstrap: 10, Instability: 20, Intervals: true})
	m, err := models.DecodeBundle(files["bundle.json"])
	if err != nil {
		t.Fatal(err)
	}
	if m.Bootstrap, err = models.DecodeBootstrap(files[models.BootstrapFile], "logistic", false); err != nil {
		t.Fatal(err)
	}
	m.Version = "v1"
	in, out := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "scores.parquet")
	if err := synth.WriteFile(ctx, in, 500, 7, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	scored, err := m.ScoreFile(ctx, in, out, models.ScoreOptions{Intervals: true})
	if err != nil {
		t.Fatal(err)
	}
	file := sqlString(out)
	types := map[string]string{}
	for _, d := range duckdb(t, "DESCRIBE SELECT interval_low, interval_high FROM "+file) {
		types[fmt.Sprint(d["column_name"])] = fmt.Sprint(d["column_type"])
	}
	if types["interval_low"] != "DOUBLE" || types["interval_high"] != "DOUBLE" {
		t.Errorf("DuckDB reads the intervals as %v", types)
	}
	v := duckdb(t, `SELECT count(probability) AS scored, count(interval_low) AS lows, count(interval_high) AS highs,
		count(*) FILTER (WHERE interval_low <= interval_high AND interval_low >= 0 AND interval_high <= 1) AS ordered FROM `+file)[0]
	n := fmt.Sprint(scored.Rows - scored.Undefined)
	if fmt.Sprint(v["scored"]) != n || fmt.Sprint(v["lows"]) != n || fmt.Sprint(v["highs"]) != n || fmt.Sprint(v["ordered"]) != n {
		t.Errorf("DuckDB sees %v; want %s of each", v, n)
	}
}
