package features_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
)

func writeSynth(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort.parquet")
	if err := synth.WriteFile(context.Background(), path, n, 9, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExportBuiltin(t *testing.T) {
	ctx := context.Background()
	in := writeSynth(t, 2000)
	out := filepath.Join(t.TempDir(), "features.parquet")
	res, err := features.Export(ctx, in, out, features.BuiltinSpec("abscopal_response"), features.ExportOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 2000 {
		t.Errorf("%d rows, want 2000", res.Rows)
	}
	tbl, err := data.ReadTable(ctx, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"patient_id", "bed10_gy", "eqd2_10_gy", "edic_gy", "lymphopenia_grade_nadir", "irradiated_site", "abscopal_response", "true_p_abscopal"} {
		if tbl.Column(want) == nil {
			t.Errorf("column %s missing from the export", want)
		}
	}
	// Every 8 Gy x 3 row has BED10 43.2 and EQD2 36; every row without RT 0.
	ps := synth.Generate(2000, 9)
	bed, eqd2 := tbl.Column("bed10_gy"), tbl.Column("eqd2_10_gy")
	checked := 0
	for i, p := range ps {
		want, wantQ := 0.0, 0.0
		switch {
		case !p.HadRT():
		case *p.RTDoseGy == 24 && *p.RTFractions == 3:
			want, wantQ = 43.2, 36
		default:
			continue
		}
		checked++
		if math.Abs(bed.Num[i]-want) > 1e-9 || math.Abs(eqd2.Num[i]-wantQ) > 1e-9 || !bed.Valid[i] {
			t.Fatalf("row %d (%v Gy x %v): BED10 %v, EQD2 %v; want %v, %v", i+1, p.RTDoseGy, p.RTFractions, bed.Num[i], eqd2.Num[i], want, wantQ)
		}
	}
	if checked < 500 {
		t.Errorf("only %d rows checked", checked)
	}

	r, err := data.OpenTable(ctx, out, data.TableOptions{Columns: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	md := r.Metadata()
	r.Close()
	var bedInfo map[string]string
	if err := json.Unmarshal([]byte(md["abscopal.feature.bed10_gy"]), &bedInfo); err != nil || bedInfo["unit"] != "Gy" || !strings.Contains(bedInfo["definition"], "alpha/beta = 10 Gy") {
		t.Errorf("bed10_gy metadata %q: %v", md["abscopal.feature.bed10_gy"], err)
	}
	if md["abscopal.synthetic"] != "true" || md["abscopal.version"] != "test" || !strings.Contains(md["abscopal.spec"], `"name":"irt"`) {
		t.Errorf("metadata lacks the synthetic label, version or spec: %v", md)
	}
}

func TestExportMatrixIsThePipeline(t *testing.T) {
	ctx := context.Background()
	in := writeSynth(t, 800)
	out := filepath.Join(t.TempDir(), "m.parquet")
	spec := features.BuiltinSpec("objective_response")
	if _, err := features.Export(ctx, in, out, spec, features.ExportOptions{Matrix: true}); err != nil {
		t.Fatal(err)
	}
	ps, err := data.ReadCohort(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	p, err := features.Fit(features.BuiltinSpec("objective_response"), patientRecords(ps))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.TransformAll(patientRecords(ps))
	tbl, err := data.ReadTable(ctx, out, p.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	for j := range p.Outputs {
		for i := 0; i < tbl.Len; i++ {
			if tbl.Columns[j].Num[i] != want.Row(i)[j] {
				t.Fatalf("row %d, %s: exported %v, pipeline %v", i, p.Outputs[j], tbl.Columns[j].Num[i], want.Row(i)[j])
			}
		}
	}
}

func TestExportCSV(t *testing.T) {
	in := writeSynth(t, 50)
	out := filepath.Join(t.TempDir(), "f.csv")
	if _, err := features.Export(context.Background(), in, out, features.BuiltinSpec("abscopal_response"), features.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 51 || !strings.HasPrefix(lines[0], "patient_id,mhc1_status,") {
		t.Errorf("%d lines, header %q", len(lines), lines[0])
	}
	side, err := os.ReadFile(out + ".meta.json")
	if err != nil || !strings.Contains(string(side), "abscopal.feature.bed10_gy") {
		t.Errorf("sidecar: %v", err)
	}
}

func TestExportBadInput(t *testing.T) {
	ctx := context.Background()
	in := writeSynth(t, 100)
	spec := func(y string) *features.Spec {
		s, err := features.ParseSpec("s.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name   string
		spec   *features.Spec
		matrix bool
		want   string
	}{
		{"column the file lacks", spec("target: {column: objective_response, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"),
			false, "s.yaml:3: features[0] (ldh): column ldh is not in"},
		{"categorical that is numeric", spec("target: {column: objective_response, positive: true}\nfeatures:\n  - column: age\n    kind: categorical\n"),
			false, "categorical feature, but column age in"},
		{"a valid researcher spec exports", spec("target: {column: objective_response, positive: true}\nfeatures:\n  - column: age\n    kind: numeric\n  - column: egfr_mutant\n    kind: boolean\n  - derived: nlr\n"),
			true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.parquet")
			_, err := features.Export(ctx, in, out, tt.spec, features.ExportOptions{Matrix: tt.matrix})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a failed export left %v", entries)
			}
		})
	}

	// A column that is null in every row: fitting the matrix fails, naming it,
	// and leaves nothing behind.
	var rows [][]data.Value
	for _, id := range []string{"a", "b", "c"} {
		rows = append(rows, []data.Value{data.String(id), data.Bool(true), data.Null})
	}
	allNull := datatest.WriteTable(t, filepath.Join(t.TempDir(), "nulls.parquet"),
		[]data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "y", Kind: data.KindBool}, {Name: "ldh", Kind: data.KindFloat, Optional: true}}, rows)
	dir := t.TempDir()
	_, err := features.Export(ctx, allNull, filepath.Join(dir, "m.parquet"),
		spec("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"), features.ExportOptions{Matrix: true})
	if !errors.Is(err, features.ErrFit) || !strings.Contains(err.Error(), "feature ldh: ldh null in all 3 training rows") {
		t.Errorf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	// The same without --matrix: the streamed export is refused at the end.
	_, err = features.Export(ctx, allNull, filepath.Join(dir, "f.parquet"),
		spec("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"), features.ExportOptions{})
	if !errors.Is(err, features.ErrFit) || !strings.Contains(err.Error(), "feature ldh: null in all 3 rows of") {
		t.Errorf("err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	// An infinite input (a ratio over a zero) is refused where it is, with
	// nothing written; NaN is a missing value, and an infinity in a column
	// no feature reads is let be.
	inf := datatest.WriteTable(t, filepath.Join(t.TempDir(), "inf.parquet"),
		[]data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "y", Kind: data.KindBool}, {Name: "ldh", Kind: data.KindFloat, Optional: true}, {Name: "note", Kind: data.KindFloat}},
		[][]data.Value{{data.String("a"), data.Bool(true), data.Float(math.NaN()), data.Float(math.Inf(1))},
			{data.String("b"), data.Bool(false), data.Float(250), data.Float(1)}, {data.String("c"), data.Bool(true), data.Float(math.Inf(-1)), data.Float(2)}})
	ldh := spec("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n    transforms: [{clip: [0, 1000]}]\n")
	_, err = features.Export(ctx, inf, filepath.Join(dir, "inf.parquet"), ldh, features.ExportOptions{})
	if !errors.Is(err, data.ErrInvalidValue) || !strings.Contains(err.Error(), "inf.parquet: row 3, column ldh: out of range: -Inf (allowed: a finite number; NaN or null for a missing value)") {
		t.Errorf("an infinite input: err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a failed export left %v", entries)
	}
	// A value outside a transform's domain (the log1p of -5, NaN) is refused
	// too, an integer column's as well; clipped first, it is in the domain.
	neg := datatest.WriteTable(t, filepath.Join(t.TempDir(), "neg.parquet"),
		[]data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "y", Kind: data.KindBool}, {Name: "nlr", Kind: data.KindFloat}, {Name: "count", Kind: data.KindInt}},
		[][]data.Value{{data.String("a"), data.Bool(true), data.Float(3), data.Float(0)},
			{data.String("b"), data.Bool(false), data.Float(-5), data.Float(2)}, {data.String("c"), data.Bool(true), data.Float(1), data.Float(-1)}})
	for _, tt := range []struct{ spec, want string }{
		{"  - column: nlr\n    kind: numeric\n    transforms: [log1p, standardize]\n",
			"neg.parquet: row 2, column nlr: out of range: -5 (allowed: above -1: the spec takes its log1p; correct the value, or clip it first in the spec)"},
		{"  - column: count\n    kind: numeric\n    transforms: [log1p]\n", "neg.parquet: row 3, column count: out of range: -1 (allowed: above -1"},
		{"  - column: nlr\n    kind: numeric\n    transforms: [{clip: [-3, 10]}, log1p]\n", "row 2, column nlr: out of range: -5 (allowed: above -1 once clipped (here -3)"},
		{"  - column: nlr\n    kind: numeric\n    transforms: [{clip: [0, 10]}, log1p]\n", ""},
		{"  - column: nlr\n    kind: numeric\n", ""},
	} {
		_, err = features.Export(ctx, neg, filepath.Join(dir, "neg.parquet"), spec("id: id\ntarget: {column: y, positive: true}\nfeatures:\n"+tt.spec), features.ExportOptions{Matrix: true})
		if tt.want == "" && err != nil || tt.want != "" && (!errors.Is(err, data.ErrInvalidValue) || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.spec, err, tt.want)
		}
		os.Remove(filepath.Join(dir, "neg.parquet"))
	}
	if _, err := features.Export(ctx, in, filepath.Join(dir, "x.xlsx"), features.BuiltinSpec("abscopal_response"), features.ExportOptions{}); err == nil || !strings.Contains(err.Error(), ".parquet or .csv") {
		t.Errorf("unknown extension: err = %v", err)
	}
}

// A valid cohort file may lack optional columns: the built-in spec leaves out
// the features computed only from them, and says so.
func TestExportBuiltinDropsAbsentFeatures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "f.parquet")
	res, err := features.Export(context.Background(), "../data/testdata/duckdb_cohort.parquet", out,
		features.BuiltinSpec("abscopal_response"), features.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dropped := strings.Join(res.Dropped, " ")
	for _, want := range []string{"ifn_pathway_defect", "nlr", "sex"} {
		if !strings.Contains(dropped, want) {
			t.Errorf("dropped %v, want %s among them", res.Dropped, want)
		}
	}
	for _, keep := range []string{"bed10_gy", "immune_evasion", "lymphopenia_grade_nadir", "mhc1_status"} {
		if !strings.Contains(strings.Join(res.Columns, " "), keep) {
			t.Errorf("columns %v lack %s", res.Columns, keep)
		}
	}
	if res.Rows != 5000 {
		t.Errorf("%d rows, want 5000", res.Rows)
	}
}

// TestExportKeepsTheTarget: a researcher's spec exports its target column
// beside the features, without listing it in keep, when the file has it.
func TestExportKeepsTheTarget(t *testing.T) {
	ctx := context.Background()
	spec, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	table := func(withTarget bool) string {
		cols := []data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "ldh", Kind: data.KindFloat}}
		if withTarget {
			cols = append(cols, data.ColumnSpec{Name: "y", Kind: data.KindBool})
		}
		var rows [][]data.Value
		for i, id := range []string{"a", "b"} {
			row := []data.Value{data.String(id), data.Float(200 + float64(i))}
			if withTarget {
				row = append(row, data.Bool(i == 1))
			}
			rows = append(rows, row)
		}
		return datatest.WriteTable(t, filepath.Join(t.TempDir(), "t.parquet"), cols, rows)
	}
	for _, tt := range []struct {
		withTarget bool
		want       string
	}{
		{true, "id,ldh,y\na,200,false\nb,201,true"},
		{false, "id,ldh\na,200\nb,201"},
	} {
		out := filepath.Join(t.TempDir(), "f.csv")
		if _, err := features.Export(ctx, table(tt.withTarget), out, spec, features.ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(out)
		if got := strings.TrimSpace(string(b)); got != tt.want {
			t.Errorf("target in the file %v: exported\n%s\nwant\n%s", tt.withTarget, got, tt.want)
		}
	}
}

// TestSourceAlso: a column read along (a subgroup column) comes with the
// records of a table, and with the patients of a cohort file.
func TestSourceAlso(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	table := datatest.WriteTable(t, filepath.Join(dir, "t.parquet"),
		[]data.ColumnSpec{{Name: "id", Kind: data.KindString}, {Name: "centre", Kind: data.KindString}, {Name: "ldh", Kind: data.KindFloat}, {Name: "y", Kind: data.KindBool}},
		[][]data.Value{{data.String("a"), data.String("Leiden"), data.Float(200), data.Bool(true)}, {data.String("b"), data.String("Houston"), data.Float(180), data.Bool(false)}})
	spec, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := features.OpenSource(ctx, table, spec, features.SourceOptions{NeedTarget: true, Also: []string{"centre"}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := src.All(ctx)
	src.Close()
	if err != nil || len(rs) != 2 || rs[0].Value("centre").Str != "Leiden" || rs[1].Value("centre").Str != "Houston" {
		t.Fatalf("records %v (%v)", rs, err)
	}
	if _, ok := features.PatientOf(rs[0]); ok {
		t.Error("a table's row is not a cohort patient")
	}

	// A cohort file with a column of its own (a centre): read along with
	// each patient, beside the schema's columns.
	cohort := datatest.WriteTable(t, filepath.Join(dir, "c.parquet"),
		[]data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString}, {Name: "centre", Kind: data.KindInt, Optional: true}},
		[][]data.Value{{data.String("a"), data.String("pd1"), data.Float(3)}, {data.String("b"), data.String("pd1"), data.Null},
			{data.String("c"), data.String("ctla4"), data.Float(1)}})
	builtin := features.BuiltinSpec("objective_response")
	tests := []struct {
		name, path, also, want string
		spec                   *features.Spec
	}{
		{"missing", table, "site", "t.parquet: no column site (it has id, centre, ldh, y)", spec},
		{"missing from a cohort file", cohort, "site", "c.parquet: no column site (it has patient_id, ici_class, centre)", builtin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := features.OpenSource(ctx, tt.path, tt.spec, features.SourceOptions{Also: []string{tt.also}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	// To train or validate, the target must be in the file: absent, it
	// would read as null in every row.
	if _, err := features.OpenSource(ctx, cohort, builtin, features.SourceOptions{NeedTarget: true}); err == nil ||
		!strings.Contains(err.Error(), "c.parquet: no column objective_response, the outcome to learn or to check against") {
		t.Errorf("no target column: %v", err)
	}
	src, err = features.OpenSource(ctx, cohort, builtin, features.SourceOptions{Also: []string{"centre", "ici_class"}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if k := src.Kind("centre"); k != data.KindInt {
		t.Errorf("kind of centre %v, want int", k)
	}
	rs, err = src.All(ctx)
	if err != nil || len(rs) != 3 {
		t.Fatalf("records %v (%v)", rs, err)
	}
	want := []struct {
		centre data.Value
		class  string
	}{{data.Float(3), "pd1"}, {data.Null, "pd1"}, {data.Float(1), "ctla4"}}
	for i, w := range want {
		if got := rs[i].Value("centre"); got != w.centre || rs[i].Value("ici_class").Str != w.class {
			t.Errorf("row %d: centre %+v, ici_class %q; want %+v, %q", i+1, got, rs[i].Value("ici_class").Str, w.centre, w.class)
		}
		// The patient behind the record, as an outcome's meaning needs.
		if p, ok := features.PatientOf(rs[i]); !ok || p.PatientID != string(rune('a'+i)) {
			t.Errorf("row %d: patient %v, %v", i+1, p, ok)
		}
	}
}

// TestExportKinds: an exported feature keeps its kind's type, but for a
// feature of an integer column, categorical (codes) or numeric (a count, a
// score), which keeps its integers (issue 17: ECOG went out as DOUBLE).
func TestExportKinds(t *testing.T) {
	dir := t.TempDir()
	in := datatest.WriteTable(t, filepath.Join(dir, "t.parquet"), []data.ColumnSpec{{Name: "id", Kind: data.KindString},
		{Name: "stage", Kind: data.KindInt}, {Name: "centre", Kind: data.KindInt}, {Name: "histology", Kind: data.KindString}, {Name: "y", Kind: data.KindBool}},
		[][]data.Value{{data.String("a"), data.Float(3), data.Float(2), data.String("squamous"), data.Bool(true)}})
	spec, err := features.ParseSpec("s.yaml", []byte(`id: id
target: {column: y, positive: true}
features:
  - {column: stage, kind: numeric}
  - {column: centre, kind: categorical}
  - {column: histology, kind: categorical}
`))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "f.parquet")
	if _, err := features.Export(context.Background(), in, out, spec, features.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(context.Background(), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]data.Kind{"stage": data.KindInt, "centre": data.KindInt, "histology": data.KindString}
	for _, c := range tbl.Columns {
		if k, ok := want[c.Name]; ok && c.Kind != k {
			t.Errorf("%s exported as %v, want %v", c.Name, c.Kind, k)
		}
		delete(want, c.Name)
	}
	if len(want) != 0 || tbl.Column("centre").Num[0] != 2 || tbl.Column("stage").Num[0] != 3 {
		t.Errorf("columns %v (missing %v)", tbl.Columns, want)
	}
}

// TestSourceSynthetic: a file is synthetic by its label, or by a generator's
// ground-truth column when a tool has dropped the label (DuckDB's COPY).
func TestSourceSynthetic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	labelled := filepath.Join(dir, "labelled.parquet")
	if err := synth.WriteFile(ctx, labelled, 20, 1, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	cohortCols := []data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString}}
	row := []data.Value{data.String("a"), data.String("pd1")}
	truth := datatest.WriteTable(t, filepath.Join(dir, "truth.parquet"), append(cohortCols, data.ColumnSpec{Name: "true_p_response", Kind: data.KindFloat}),
		[][]data.Value{append(row, data.Float(0.3))})
	plain := datatest.WriteTable(t, filepath.Join(dir, "plain.parquet"), cohortCols, [][]data.Value{row})
	own := datatest.WriteTable(t, filepath.Join(dir, "own.parquet"), []data.ColumnSpec{{Name: "id", Kind: data.KindString},
		{Name: "ldh", Kind: data.KindFloat}, {Name: "true_p_abscopal", Kind: data.KindFloat}}, [][]data.Value{{data.String("a"), data.Float(200), data.Float(0.1)}})
	spec, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	builtin := features.BuiltinSpec("objective_response")
	for _, tt := range []struct {
		path string
		spec *features.Spec
		want bool
	}{{labelled, builtin, true}, {truth, builtin, true}, {plain, builtin, false}, {own, spec, true}} {
		src, err := features.OpenSource(ctx, tt.path, tt.spec, features.SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.Synthetic(); got != tt.want {
			t.Errorf("%s: synthetic %v, want %v", filepath.Base(tt.path), got, tt.want)
		}
		src.Close()
	}
}

// TestEachAhead: the records come in file order across batches; fn's error
// stops the reading and is returned; a file's error is returned.
func TestEachAhead(t *testing.T) {
	ctx := context.Background()
	in := writeSynth(t, 2*data.DefaultBatchSize+10)
	open := func() *features.Source {
		src, err := features.OpenSource(ctx, in, features.BuiltinSpec("objective_response"), features.SourceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src
	}
	var ids []string
	if err := open().EachAhead(ctx, func(r features.Record) error { ids = append(ids, r.Value("patient_id").Str); return nil }); err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := open().Each(ctx, func(r features.Record) error { want = append(want, r.Value("patient_id").Str); return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, want) || len(ids) != 2*data.DefaultBatchSize+10 {
		t.Errorf("%d records ahead, %d in order; the same: %v", len(ids), len(want), reflect.DeepEqual(ids, want))
	}
	stop := errors.New("enough")
	n := 0
	if err := open().EachAhead(ctx, func(features.Record) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	}); err != stop || n != 3 {
		t.Errorf("stopped after %d records with %v", n, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := open().EachAhead(cancelled, func(features.Record) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestSourceCSV reads a researcher's CSV file through a spec: the id stays
// text ("007" is not 7), doses written as whole numbers feed the dose
// features as the schema's floats do, and a fraction of a fraction is
// refused naming its row, where a Parquet file's DOUBLE column would be
// refused whole.
func TestSourceCSV(t *testing.T) {
	ctx := context.Background()
	spec, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: 1}\nkeep: [site, visits]\nfeatures:\n  - derived: bed\n    alpha_beta_gy: 10\n  - column: ldh\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// The kept site codes keep their zeros (one is enough to show they are
	// codes); the kept visit counts, which have none, stay integers.
	good := write("good.csv", "id,rt_dose_gy,rt_fractions,ldh,y,site,visits,centre\n007,24,3,210,1,01,3,02\n010,50,5.0,,0,12,10,2\n")
	src, err := features.OpenSource(ctx, good, spec, features.SourceOptions{NeedTarget: true, Also: []string{"centre"}})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := src.All(ctx)
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Value("id") != data.String("007") || rs[1].Value("id") != data.String("010") ||
		rs[1].Value("rt_fractions") != data.Float(5) || rs[0].Value("rt_dose_gy") != data.Float(24) {
		t.Errorf("records %v", rs)
	}
	if k := src.Kind("id"); k != data.KindString {
		t.Errorf("id kind %v, want string", k)
	}
	if rs[0].Value("site") != data.String("01") || rs[1].Value("site") != data.String("12") || rs[1].Value("visits") != data.Float(10) ||
		rs[0].Value("centre") != data.String("02") || rs[1].Value("centre") != data.String("2") {
		t.Errorf("kept and subgroup columns read as site %v %v, visits %v, centre %v %v", rs[0].Value("site"), rs[1].Value("site"), rs[1].Value("visits"), rs[0].Value("centre"), rs[1].Value("centre"))
	}

	bad := write("bad.csv", "id,rt_dose_gy,rt_fractions,ldh,y,site,visits\na,24,3,210,1,01,1\nb,50,5.5,,0,02,1\n")
	src, err = features.OpenSource(ctx, bad, spec, features.SourceOptions{NeedTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.All(ctx)
	src.Close()
	if want := bad + ": row 2, column rt_fractions: wrong type: 5.5 (allowed: a whole number)"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}

// TestSourceCSVNotNumber: a CSV column meant to hold numbers but typed as
// text for one stray value is refused naming that value and its row, for
// a feature, a built-in feature's input and a target.
func TestSourceCSVNotNumber(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "own.csv")
	if err := os.WriteFile(path, []byte("id,ldh,rt_dose_gy,rt_fractions,ok,y\na,210,24,3,true,1\nb,n/a,30,5,false,0\nc,180,x,3,true,yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ spec, want string }{
		{"id: id\ntarget: {column: ok, positive: true}\nfeatures:\n  - column: ldh\n    kind: numeric\n",
			`numeric feature, but column ldh in ` + path + ` is CSV text (row 2: "n/a" is not a number; the nulls a CSV may hold are "", "NA"`},
		{"id: id\ntarget: {column: ok, positive: true}\nfeatures:\n  - derived: bed\n",
			`needs column rt_dose_gy as float; ` + path + ` has CSV text (row 3: "x" is not a number)`},
		{"id: id\ntarget: {column: y, positive: 1}\nfeatures:\n  - column: rt_fractions\n    kind: numeric\n",
			`column y in ` + path + ` is CSV text (row 3: "yes" is not a number), not a number`},
	} {
		spec, err := features.ParseSpec("s.yaml", []byte(tt.spec))
		if err != nil {
			t.Fatal(err)
		}
		_, err = features.OpenSource(context.Background(), path, spec, features.SourceOptions{NeedTarget: true})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v\nwant %s", err, tt.want)
		}
	}
}

// FuzzSourceCSV: no CSV bytes make a researcher's spec read panic or hand
// back a record it should have refused: every record read has its
// numeric inputs finite and its fractions whole.
func FuzzSourceCSV(f *testing.F) {
	spec, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: 1}\nfeatures:\n  - column: ldh\n    kind: numeric\n    transforms: [log1p]\n  - column: site\n    kind: categorical\n  - derived: bed\n"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("id,ldh,site,rt_dose_gy,rt_fractions,y\na,210,1,24,3,1\nb,NA,x,30,5.0,0\n"))
	f.Add([]byte("id,ldh,site,rt_dose_gy,rt_fractions,y\na,inf,1,24,3.5,1\nb,-4,,,,\n"))
	f.Add([]byte("\ufeffid,ldh,site,rt_dose_gy,rt_fractions,y\n\"a\nb\",1e308,01,0,0,1\n"))
	f.Add([]byte("id;ldh;site;rt_dose_gy;rt_fractions;y\na;210,5;1;24;3;1\nb;1.5;x;30;5,0;0\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "f.csv")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, skip := range []bool{false, true} {
			var opts features.SourceOptions
			if skip {
				opts.OnInvalid = func(*data.RowError) {}
			}
			src, err := features.OpenSource(context.Background(), path, spec, opts)
			if err != nil {
				continue
			}
			rs, _ := src.All(context.Background())
			src.Close()
			for _, r := range rs {
				if v := r.Value("ldh"); v.Valid && (math.IsInf(v.Num, 0) || math.IsNaN(v.Num) || v.Num <= -1) {
					t.Fatalf("ldh %v read", v.Num)
				}
				if v := r.Value("rt_fractions"); v.Valid && v.Num != math.Trunc(v.Num) {
					t.Fatalf("fractions %v read", v.Num)
				}
			}
		}
	})
}
