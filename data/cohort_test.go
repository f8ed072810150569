package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// minimalSpecs are the columns of a small valid cohort: the required fields
// and an RT course.
var minimalSpecs = []ColumnSpec{
	{Name: "patient_id", Kind: KindString},
	{Name: "ici_class", Kind: KindString, Optional: true},
	{Name: "rt_dose_gy", Kind: KindFloat, Optional: true},
	{Name: "rt_fractions", Kind: KindInt, Optional: true},
	{Name: "rt_site", Kind: KindString, Optional: true},
	{Name: "alc", Kind: KindFloat, Optional: true},
}

func minimalRow(id string) []Value {
	return []Value{String(id), String("pd1"), Float(24), Float(3), String("lung"), Float(1.2)}
}

// writeTable writes rows with the given columns, in row groups of 3, and
// returns the path.
func writeTable(t testing.TB, specs []ColumnSpec, rows [][]Value) string {
	t.Helper()
	return writeTableGroups(t, specs, rows, 3)
}

// writeTableGroups is writeTable in row groups of the given size.
func writeTableGroups(t testing.TB, specs []ColumnSpec, rows [][]Value, groupRows int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort.parquet")
	w, err := CreateTable(path, specs, WriteOptions{RowGroupSize: groupRows})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(t *testing.T, path string, opts CohortOptions) ([]Patient, Report, error) {
	t.Helper()
	r, err := OpenCohort(context.Background(), path, opts)
	if err != nil {
		return nil, Report{}, err
	}
	defer r.Close()
	var all []Patient
	for {
		ps, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return all, r.Report(), nil
		}
		if err != nil {
			return all, r.Report(), err
		}
		all = append(all, ps...)
	}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeTable(t, minimalSpecs, [][]Value{minimalRow("a"), minimalRow("b")})
	content, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		wantErr error
		wantMsg []string
	}{
		{"not parquet", write("notes.parquet", []byte("patient_id,alc\nP1,1.2\n")), ErrNotParquet, []string{"notes.parquet", "not a Parquet file"}},
		{"empty", write("empty.parquet", nil), ErrNotParquet, []string{"empty.parquet"}},
		{"truncated", write("cut.parquet", content[:len(content)/2]), ErrCorrupt, []string{"cut.parquet", "truncated"}},
		{"footer cut", write("footer.parquet", append(append([]byte{}, content[:len(content)-40]...), content[len(content)-4:]...)), ErrCorrupt, []string{"footer.parquet"}},
		{"missing file", filepath.Join(dir, "nope.parquet"), os.ErrNotExist, []string{"nope.parquet"}},
		{"footer length beyond the file", write("huge.parquet", []byte("PAR1\x00\x00\x00\x00\xff\xff\xff\xffPAR1")), ErrCorrupt, []string{"footer length 4294967295 exceeds the file size 16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readAll(t, tt.path, CohortOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	replace := func(name string, kind Kind) []ColumnSpec {
		out := append([]ColumnSpec(nil), minimalSpecs...)
		for i := range out {
			if out[i].Name == name {
				out[i].Kind = kind
			}
		}
		return out
	}
	without := func(name string) []ColumnSpec {
		var out []ColumnSpec
		for _, s := range minimalSpecs {
			if s.Name != name {
				out = append(out, s)
			}
		}
		return out
	}
	tests := []struct {
		name   string
		specs  []ColumnSpec
		row    []Value
		column string
		want   []string
	}{
		{"missing required column", without("ici_class"), []Value{String("a"), Float(24), Float(3), String("lung"), Float(1)},
			"ici_class", []string{"column ici_class: missing"}},
		{"BOOLEAN where INT64 is expected", replace("rt_fractions", KindBool), []Value{String("a"), String("pd1"), Float(24), Bool(true), String("lung"), Float(1.2)},
			"rt_fractions", []string{"wrong type BOOLEAN", "INT32 or INT64), or DOUBLE holding whole numbers"}},
		{"INT64 where DOUBLE is expected", replace("rt_dose_gy", KindInt), minimalRow("a"),
			"rt_dose_gy", []string{"wrong type INT64", "DOUBLE or FLOAT", "CAST(rt_dose_gy AS DOUBLE)"}},
		{"string where bool is expected", append(minimalSpecs, ColumnSpec{Name: "hla_loh", Kind: KindString}), append(minimalRow("a"), String("yes")),
			"hla_loh", []string{"wrong type STRING", "BOOLEAN"}},
		{"a schema column in other case", append(minimalSpecs, ColumnSpec{Name: "ECOG", Kind: KindInt}), append(minimalRow("a"), Float(1)),
			"ecog", []string{`column "ECOG": not in the cohort schema, but ecog is: rename it to ecog`}},
		{"a schema column with a space", append(without("alc"), ColumnSpec{Name: "alc ", Kind: KindFloat}), minimalRow("a"),
			"alc", []string{`column "alc ": not in the cohort schema, but alc is`, "alc read as missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeTable(t, tt.specs, [][]Value{tt.row})
			_, _, err := readAll(t, path, CohortOptions{})
			var se *SchemaError
			if !errors.As(err, &se) || !errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v, want a *SchemaError", err)
			}
			if se.Column != tt.column || se.File != path {
				t.Errorf("error names column %q of %q, want %q of %q", se.Column, se.File, tt.column, path)
			}
			for _, m := range tt.want {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestInvalidValues(t *testing.T) {
	row := func(edit func([]Value)) []Value {
		r := minimalRow("x")
		edit(r)
		return r
	}
	tests := []struct {
		name   string
		row    []Value
		column string
		reason Reason
		want   []string
	}{
		{"negative dose", row(func(r []Value) { r[2] = Float(-8) }), "rt_dose_gy", ReasonRange, []string{"-8", "[0, 150] Gy"}},
		{"200 fractions", row(func(r []Value) { r[3] = Float(200) }), "rt_fractions", ReasonRange, []string{"200", "[0, 60] fractions"}},
		{"ALC of 500", row(func(r []Value) { r[5] = Float(500) }), "alc", ReasonRange, []string{"500", "[0, 50] 10^9/L"}},
		{"infinite ALC", row(func(r []Value) { r[5] = Float(posInf()) }), "alc", ReasonRange, []string{"+Inf"}},
		{"null patient_id", row(func(r []Value) { r[0] = Null }), "patient_id", ReasonNull, nil},
		{"null ici_class", row(func(r []Value) { r[1] = Null }), "ici_class", ReasonNull, []string{"one of pd1, pdl1, ctla4, pd1_ctla4"}},
		{"unknown level", row(func(r []Value) { r[1] = String("PD1") }), "ici_class", ReasonLevel, []string{`"PD1"`, "one of pd1"}},
		{"RT without fractions", row(func(r []Value) { r[3] = Null }), "rt_fractions", ReasonNull, []string{"required when rt_dose_gy > 0"}},
		{"RT without site", row(func(r []Value) { r[4] = Null }), "rt_site", ReasonNull, []string{"required when rt_dose_gy > 0"}},
		{"zero fractions with dose", row(func(r []Value) { r[3] = Float(0) }), "rt_fractions", ReasonInconsistent, []string{"at least 1"}},
		{"fractions without dose", row(func(r []Value) { r[2] = Float(0) }), "rt_fractions", ReasonInconsistent, []string{"rt_dose_gy is 0 or null"}},
		{"40 Gy in one fraction", row(func(r []Value) { r[2], r[3] = Float(40), Float(1) }), "rt_dose_gy", ReasonInconsistent, []string{"dose per fraction 40 Gy exceeds 35 Gy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := [][]Value{minimalRow("ok1"), minimalRow("ok2"), tt.row, minimalRow("ok3")}
			specs := append([]ColumnSpec(nil), minimalSpecs...)
			specs[0].Optional = true // so that a null patient_id can be written
			path := writeTable(t, specs, rows)

			// FailFast: the error names file, row, column and range.
			_, _, err := readAll(t, path, CohortOptions{})
			var re *RowError
			if !errors.As(err, &re) || !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("err = %v, want a *RowError", err)
			}
			if re.File != path || re.Row != 3 || re.Field != tt.column || re.Reason != tt.reason {
				t.Errorf("got file %s row %d column %s reason %q; want %s row 3 column %s reason %q",
					re.File, re.Row, re.Field, re.Reason, path, tt.column, tt.reason)
			}
			for _, m := range append([]string{path, "row 3", "column " + tt.column}, tt.want...) {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}

			// SkipInvalid: the other rows come through and the reason is counted.
			var seen []*RowError
			ps, rep, err := readAll(t, path, CohortOptions{Policy: SkipInvalid, OnInvalid: func(e *RowError) { seen = append(seen, e) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 3 || rep.Rows != 4 || rep.Valid != 3 || rep.Invalid != 1 || rep.ByReason[tt.reason] != 1 {
				t.Errorf("got %d patients, report %+v; want 3 valid, 1 invalid for %q", len(ps), rep, tt.reason)
			}
			if len(seen) != 1 || seen[0].Row != 3 {
				t.Errorf("OnInvalid saw %v, want one problem in row 3", seen)
			}
		})
	}
}

func posInf() float64 { var z float64; return 1 / z }

// TestWholeNumbersOfADoubleColumn (issue 17, item 1): an integer field in
// a DOUBLE column (pandas writes an integer column with nulls so) is read
// when its values are whole, and a fraction is refused naming the row, the
// column and the value: 3.9 fractions were never 3. A CSV file's the same.
func TestWholeNumbersOfADoubleColumn(t *testing.T) {
	specs := append([]ColumnSpec(nil), minimalSpecs...)
	specs[3].Kind = KindFloat // rt_fractions
	rows := [][]Value{minimalRow("a"), minimalRow("b"), minimalRow("c")}
	rows[1][3] = Float(3.9)
	rows[2][2], rows[2][3], rows[2][4] = Null, Null, Null // no RT: a null in the column
	csvPath := filepath.Join(t.TempDir(), "cohort.csv")
	os.WriteFile(csvPath, []byte("patient_id,ici_class,rt_dose_gy,rt_fractions,rt_site,alc\na,pd1,24,3.0,lung,1.2\nb,pd1,24,3.9,lung,1.2\nc,pd1,,,,1.2\n"), 0o644)
	for _, path := range []string{writeTable(t, specs, rows), csvPath} {
		var seen []*RowError
		ps, _, err := readAll(t, path, CohortOptions{Policy: SkipInvalid, OnInvalid: func(e *RowError) { seen = append(seen, e) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].RTFractions == nil || *ps[0].RTFractions != 3 || ps[1].RTFractions != nil {
			t.Errorf("%s: read %+v", path, ps)
		}
		if len(seen) != 1 || seen[0].Row != 2 || seen[0].Field != "rt_fractions" || !strings.Contains(seen[0].Error(), "3.9") || !strings.Contains(seen[0].Error(), "a whole number") {
			t.Errorf("%s: refused %v, want row 2's rt_fractions 3.9", path, seen)
		}
	}
}

func TestRoundTripAndNulls(t *testing.T) {
	ctx := context.Background()
	dose, frac, site, ici, alc := 50.0, 4, "liver", "pdl1", 0.9
	yes := true
	ps := []Patient{
		{PatientID: "p1", ICIClass: &ici},
		{PatientID: "p2", ICIClass: &ici, RTDoseGy: &dose, RTFractions: &frac, RTSite: &site, ALC: &alc, AbscopalResponse: &yes},
	}
	path := filepath.Join(t.TempDir(), "c.parquet")
	if err := WriteCohort(path, ps, CohortWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	got, rep, err := readAll(t, path, CohortOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ps) {
		t.Errorf("read back %+v, want %+v", got, ps)
	}
	if rep.Nulls["alc"] != 1 || rep.Nulls["rt_dose_gy"] != 1 || rep.Nulls["patient_id"] != 0 {
		t.Errorf("nulls %v, want alc 1, rt_dose_gy 1, patient_id 0", rep.Nulls)
	}
	// The writer refuses an invalid patient and leaves nothing behind.
	bad := ps[1]
	neg := -1.0
	bad.ALC = &neg
	path2 := filepath.Join(t.TempDir(), "bad.parquet")
	err = WriteCohort(path2, []Patient{ps[0], bad}, CohortWriteOptions{})
	if !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), "row 2, column alc") {
		t.Fatalf("err = %v, want an invalid-value error at row 2, column alc", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path2)); len(entries) != 0 {
		t.Errorf("a failed write left %v", entries)
	}
	_ = ctx
}

// schemaNames returns the names of a file's columns, in the file's order.
func schemaNames(t *testing.T, path string) []string {
	t.Helper()
	r, err := OpenTable(context.Background(), path, TableOptions{Columns: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var names []string
	for _, c := range r.Schema() {
		names = append(names, c.Name)
	}
	return names
}

func TestColumnOrderIsKept(t *testing.T) {
	path := writeTable(t, minimalSpecs, [][]Value{minimalRow("a")})
	names := schemaNames(t, path)
	want := []string{"patient_id", "ici_class", "rt_dose_gy", "rt_fractions", "rt_site", "alc"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
}

func TestDuplicateIDs(t *testing.T) {
	path := writeTable(t, minimalSpecs, [][]Value{minimalRow("a"), minimalRow("b"), minimalRow("a")})
	_, _, err := readAll(t, path, CohortOptions{CheckDuplicateIDs: true})
	if err == nil || !strings.Contains(err.Error(), "row 3, column patient_id: duplicate id") || !strings.Contains(err.Error(), "first seen in row 1") {
		t.Fatalf("err = %v, want a duplicate id in row 3", err)
	}
}

func TestTableReaderBatches(t *testing.T) {
	var rows [][]Value
	for i := 0; i < 10; i++ {
		r := minimalRow(string(rune('a' + i)))
		if i%4 == 0 {
			r[5] = Null
		}
		rows = append(rows, r)
	}
	path := writeTable(t, minimalSpecs, rows) // row groups of 3
	r, err := OpenTable(context.Background(), path, TableOptions{Columns: []string{"alc", "patient_id"}, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ids []string
	var nulls int
	var first []int64
	for {
		b, err := r.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Len > 2 {
			t.Fatalf("batch of %d rows, want at most 2", b.Len)
		}
		first = append(first, b.FirstRow)
		ids = append(ids, b.Column("patient_id").Str...)
		nulls += b.Column("alc").NullCount()
	}
	if strings.Join(ids, "") != "abcdefghij" || nulls != 3 {
		t.Errorf("ids %v, %d nulls; want a..j and 3", ids, nulls)
	}
	if !reflect.DeepEqual(first, []int64{1, 3, 4, 6, 7, 9, 10}) {
		t.Errorf("batch first rows %v", first)
	}
	_, err = OpenTable(context.Background(), path, TableOptions{Columns: []string{"alc_baseline"}})
	if err == nil || !strings.Contains(err.Error(), "column alc_baseline: missing") {
		t.Errorf("err = %v, want the unknown column named", err)
	}
}

// FuzzReadCohort feeds arbitrary bytes to the reader: it must return rows or
// an error, never panic or hang, and every patient it returns is valid.
// The seeds are small files (about 1 KB: a few rows of a few columns, of
// each kind) and damaged copies of them: the fuzzer mutates, and minimizes
// what it finds, in proportion to an input's size, and a file of the
// testdata (11-35 KB) made it run 3 inputs a second. The README's command
// bounds minimizing too (-fuzzminimizetime).
func FuzzReadCohort(f *testing.F) {
	dir := f.TempDir()
	specs := append(append([]ColumnSpec(nil), minimalSpecs...), ColumnSpec{Name: "hla_loh", Kind: KindBool, Optional: true},
		ColumnSpec{Name: "ecog", Kind: KindInt, Optional: true})
	rows := [][]Value{append(minimalRow("a"), Bool(true), Float(1)), append(minimalRow("b"), Null, Null),
		{String("c"), String("ctla4"), Null, Null, Null, Float(0.4), Bool(false), Float(2)}}
	for _, rg := range []int64{1, 3} {
		path := filepath.Join(dir, fmt.Sprintf("seed%d.parquet", rg))
		w, err := CreateTable(path, specs, WriteOptions{RowGroupSize: rg})
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range rows {
			if err := w.WriteRow(r); err != nil {
				f.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-9])
		mid := append([]byte(nil), b...)
		for i := len(mid) / 3; i < len(mid)/2; i += 7 {
			mid[i] ^= 0x5a
		}
		f.Add(mid)
	}
	f.Add([]byte("PAR1PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00\xff\xff\xff\xffPAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.parquet")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := OpenCohort(context.Background(), path, CohortOptions{Policy: SkipInvalid, BatchSize: 64})
		if err != nil {
			return
		}
		defer r.Close()
		for i := 0; i < 1000; i++ {
			ps, err := r.Next(context.Background())
			if err != nil {
				return
			}
			for k := range ps {
				if errs := ps[k].Validate(); len(errs) > 0 {
					t.Fatalf("read an invalid patient: %v", errs[0])
				}
			}
		}
	})
}

// TestExtraColumns: columns outside the schema asked for come with each
// valid patient, in step when invalid rows are skipped and across batches;
// a schema column or an absent one is refused.
func TestExtraColumns(t *testing.T) {
	specs := append(append([]ColumnSpec{}, minimalSpecs...), ColumnSpec{Name: "centre", Kind: KindString, Optional: true},
		ColumnSpec{Name: "ldh", Kind: KindFloat, Optional: true})
	row := func(id, centre string, alc float64) []Value {
		return append(minimalRow(id)[:5], Float(alc), String(centre), Float(alc*100))
	}
	path := writeTable(t, specs, [][]Value{row("a", "Leiden", 1), row("b", "Houston", -1), row("c", "Leiden", 2),
		row("d", "Lyon", 3), row("e", "Houston", 4)}) // b's lymphocyte count is out of range
	ctx := context.Background()
	r, err := OpenCohort(ctx, path, CohortOptions{Policy: SkipInvalid, BatchSize: 2, Extra: []string{"ldh", "centre"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []string
	for {
		ps, extras, err := r.NextExtra(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			got = append(got, fmt.Sprintf("%s %s %g", p.PatientID, extras[i][1].Str, extras[i][0].Num))
		}
	}
	want := []string{"a Leiden 100", "c Leiden 200", "d Lyon 300", "e Houston 400"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("patients with their extra columns %q, want %q", got, want)
	}
	if rep := r.Report(); len(rep.Ignored) != 0 {
		t.Errorf("ignored %v: the extra columns were read", rep.Ignored)
	}

	for _, tt := range []struct{ extra, want string }{
		{"alc", "cohort.parquet: column alc is in the cohort schema"},
		{"site", "cohort.parquet: column site: missing (required, asked for by the caller)"},
	} {
		if _, err := OpenCohort(ctx, path, CohortOptions{Extra: []string{tt.extra}}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("extra %s: %v, want %q", tt.extra, err, tt.want)
		}
	}
}
