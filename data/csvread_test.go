package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// writeFile writes text to name in a new temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCSVColumnKinds(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []string // one per row
		kind   Kind
		typ    string
		want   []Value
	}{
		{"integers", []string{"5", "", "-3"}, KindInt, csvInteger, []Value{Float(5), Null, Float(-3)}},
		{"integers written as decimals are numbers", []string{"5.0", "3"}, KindFloat, csvNumber, []Value{Float(5), Float(3)}},
		{"numbers", []string{"0.5", "1e-3", "NaN", " 2 "}, KindFloat, csvNumber, []Value{Float(0.5), Float(0.001), Null, Float(2)}},
		{"R's NA and SQL's NULL are null", []string{"NA", "1.5", "NULL", "#N/A"}, KindFloat, csvNumber, []Value{Null, Float(1.5), Null, Null}},
		{"true and false in any case", []string{"true", "FALSE", "True", ""}, KindBool, csvBool, []Value{Bool(true), Bool(false), Bool(true), Null}},
		{"0 and 1 are integers, not booleans", []string{"0", "1"}, KindInt, csvInteger, []Value{Float(0), Float(1)}},
		{"text", []string{"high", "low", "", "5"}, KindString, csvText, []Value{String("high"), String("low"), Null, String("5")}},
		{"one word makes a number column text", []string{"5", "5%"}, KindString, csvText, []Value{String("5"), String("5%")}},
		{"an empty column", []string{"", "NA"}, KindString, csvEmpty, []Value{Null, Null}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text := "id,x\n"
			for i, v := range tt.values {
				text += string(rune('a'+i)) + "," + quoteCSV(v) + "\n"
			}
			path := writeFile(t, "t.csv", text)
			c, got := readColumn(t, path, "x")
			if c.Kind != tt.kind || c.Type != tt.typ || !c.Text {
				t.Errorf("column typed %v %q (text %v), want %v %q", c.Kind, c.Type, c.Text, tt.kind, tt.typ)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("read %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCSVByteOrderMark: the byte-order mark of Excel's "CSV UTF-8" and R's
// fileEncoding = "UTF-8-BOM" is skipped, before a quoted name too (where
// it made the quote a stray one).
func TestCSVByteOrderMark(t *testing.T) {
	for _, text := range []string{
		"\ufeffid,x\na,1\n",
		"\ufeff\"id\",\"x\"\n\"a\",1\n",
		"\ufeff\"id\";\"x\"\n\"a\";1,5\n",
	} {
		b, err := ReadTable(context.Background(), writeFile(t, "bom.csv", text), nil)
		if err != nil || len(b.Columns) != 2 || b.Columns[0].Name != "id" || b.Columns[0].Str[0] != "a" || b.Columns[1].Num[0] == 0 {
			t.Errorf("%q: %+v, %v", text, b, err)
		}
	}
}

// TestCSVUnnamedColumns: columns without a name (R's row names, Excel's
// cleared columns) are named by their place, not refused as duplicates.
func TestCSVUnnamedColumns(t *testing.T) {
	path := writeFile(t, "r.csv", "\"\",\"patient_id\",\"ici_class\",,\n\"1\",\"a\",\"pd1\",,\n")
	if names, want := schemaNames(t, path), []string{"(unnamed column 1)", "patient_id", "ici_class", "(unnamed column 4)", "(unnamed column 5)"}; !reflect.DeepEqual(names, want) {
		t.Errorf("columns %q, want %q", names, want)
	}
	if ps, err := ReadCohort(context.Background(), path); err != nil || len(ps) != 1 || ps[0].PatientID != "a" {
		t.Errorf("cohort %+v, %v", ps, err)
	}
}

// TestCSVCodes: a column named in Codes whose integers carry a leading zero
// anywhere is read as text; without one, or not named, it is integers.
func TestCSVCodes(t *testing.T) {
	path := writeFile(t, "codes.csv", "a,b,c,d\n007,7,007,0\n12,-05,12,10\n")
	r, err := OpenTable(context.Background(), path, TableOptions{Codes: []string{"a", "b", "d"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := []struct {
		kind Kind
		typ  string
	}{{KindString, csvCodes}, {KindString, csvCodes}, {KindInt, csvInteger}, {KindInt, csvInteger}}
	for i, c := range r.Columns() {
		if c.Kind != want[i].kind || c.Type != want[i].typ {
			t.Errorf("column %s: %v %q, want %v %q", c.Name, c.Kind, c.Type, want[i].kind, want[i].typ)
		}
	}
	b, err := r.Next(context.Background())
	if err != nil || b.Column("a").Str[0] != "007" || b.Column("b").Str[1] != "-05" || b.Column("c").Int[0] != 7 {
		t.Errorf("read %+v, %v", b, err)
	}
}

// TestCSVSemicolons: a file separated by semicolons (Excel where the
// decimal mark is a comma, R's write.csv2) is read as such, its numbers
// with a decimal comma; a number written with a point there is not taken
// for one, since the point may separate thousands.
func TestCSVSemicolons(t *testing.T) {
	for _, tt := range []struct {
		name   string
		values []string
		kind   Kind
		want   []Value
		notNum string
	}{
		{"integers", []string{"5", "", "-3"}, KindInt, []Value{Float(5), Null, Float(-3)}, ""},
		{"decimal commas", []string{"1,5", "2", "NA", "-0,25"}, KindFloat, []Value{Float(1.5), Float(2), Null, Float(-0.25)}, ""},
		{"a point is not a decimal mark", []string{"1,5", "1.234"}, KindString, []Value{String("1,5"), String("1.234")},
			`row 2: "1.234" is not a number in a semicolon-separated file, whose decimal mark is a comma (1234,5): a point may separate thousands`},
		{"nor a thousands separator", []string{"1.234,5"}, KindString, []Value{String("1.234,5")},
			`row 1: "1.234,5" is not a number in a semicolon-separated file, whose decimal mark is a comma (1234,5): a point may separate thousands`},
		{"text holds commas and semicolons", []string{"a, b", `"c; d"`}, KindString, []Value{String("a, b"), String("c; d")}, `row 1: "a, b" is not a number`},
	} {
		for _, header := range []string{"id;x", `"id";"x"`} { // Excel's and R's write.csv2
			t.Run(tt.name+" "+header, func(t *testing.T) {
				text := header + "\r\n"
				for i, v := range tt.values {
					text += string(rune('a'+i)) + ";" + v + "\r\n"
				}
				path := writeFile(t, "t.csv", text)
				c, got := readColumn(t, path, "x")
				if c.Kind != tt.kind || !c.DecimalComma || c.NotNumber != tt.notNum {
					t.Errorf("column typed %v (decimal comma %v, not a number at %q), want %v (true, %q)", c.Kind, c.DecimalComma, c.NotNumber, tt.kind, tt.notNum)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("read %v, want %v", got, tt.want)
				}
			})
		}
	}
	// A comma-separated file whose names hold semicolons stays one.
	path := writeFile(t, "c.csv", "id,\"dose; Gy\"\na,1.5\n")
	b, err := ReadTable(context.Background(), path, nil)
	if err != nil || len(b.Columns) != 2 || b.Columns[1].Name != "dose; Gy" || b.Columns[1].DecimalComma || b.Columns[1].Num[0] != 1.5 {
		t.Errorf("comma-separated with a semicolon in a name: %+v, %v", b, err)
	}

	// A cohort file as R's write.csv2 writes it.
	path = writeFile(t, "cohort.csv", `"patient_id";"ici_class";"rt_dose_gy";"rt_fractions";"rt_site";"alc"`+"\n"+
		`"p1";"pd1";24;3;"lung";1,2`+"\n"+
		`"p2";"pdl1";NA;NA;NA;0,85`+"\n"+
		`"p3";"pd1";24;3;"lung";1.2`+"\n"+
		`"p4";"pd1";7,5;3,0;"bone";1`+"\n")
	var problems []string
	got, _, err := readAll(t, path, CohortOptions{Policy: SkipInvalid, OnInvalid: func(e *RowError) { problems = append(problems, e.Error()) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || *got[0].ALC != 1.2 || *got[1].ALC != 0.85 || got[1].RTDoseGy != nil || *got[2].RTDoseGy != 7.5 || *got[2].RTFractions != 3 {
		t.Errorf("read %d patients: %+v", len(got), got)
	}
	want := []string{path + `: row 3, column alc: wrong type: "1.2" (allowed: a number in [0, 50] 10^9/L, in a semicolon-separated file, whose decimal mark is a comma (1234,5): a point may separate thousands)`}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// readColumn reads one column of a file whole, and its values.
func readColumn(t *testing.T, path, name string) (Column, []Value) {
	t.Helper()
	b, err := ReadTable(context.Background(), path, []string{name})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Columns[0]
	var vals []Value
	for i := range b.Len {
		vals = append(vals, c.Value(i))
	}
	return c, vals
}

// quoteCSV quotes a field that needs it (the spaces of " 2 " do not, but
// keep them visible).
func quoteCSV(s string) string {
	if strings.ContainsAny(s, ",\"\n ") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func TestCSVTableReader(t *testing.T) {
	ctx := context.Background()
	// A byte-order mark (Excel), a quoted field with a comma and a line
	// break, and batches of two rows.
	path := writeFile(t, "t.csv", "\ufeffid,n,note\nr1,1,plain\nr2,2,\"a, b\nc\"\nr3,3,x\n")
	if err := os.WriteFile(path+".meta.json", []byte(`{"abscopal.synthetic": "true"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := OpenTable(ctx, path, TableOptions{BatchSize: 2, Kinds: map[string]Kind{"n": KindString}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Text() || r.NumRows() != 3 || r.Metadata()["abscopal.synthetic"] != "true" {
		t.Errorf("text %v, rows %d, metadata %v; want text, 3 rows, the sidecar's label", r.Text(), r.NumRows(), r.Metadata())
	}
	if names := []string{r.Schema()[0].Name, r.Schema()[1].Name}; names[0] != "id" || names[1] != "n" {
		t.Errorf("header read as %q", names)
	}
	var ids, ns, notes []string
	var firsts []int64
	for {
		b, err := r.Next(ctx)
		if err != nil {
			break
		}
		firsts = append(firsts, b.FirstRow)
		for i := range b.Len {
			ids, ns, notes = append(ids, b.Columns[0].Str[i]), append(ns, b.Column("n").Str[i]), append(notes, b.Columns[2].Str[i])
		}
	}
	if !reflect.DeepEqual(ids, []string{"r1", "r2", "r3"}) || !reflect.DeepEqual(ns, []string{"1", "2", "3"}) ||
		notes[1] != "a, b\nc" || !reflect.DeepEqual(firsts, []int64{1, 3}) {
		t.Errorf("ids %q, raw n %q, notes %q, batches from rows %v", ids, ns, notes, firsts)
	}
}

// TestTabSeparated: a tab-separated file (cBioPortal's, R's write.table)
// reads as the same table as its comma-separated twin, named .tsv, .tsv.gz
// or even .csv; names may hold commas and semicolons, and a value a comma
// between quotes.
func TestTabSeparated(t *testing.T) {
	want, err := ReadTable(context.Background(), writeFile(t, "c.csv", "id,\"dose, Gy\",site;code,note\na,24,1,\"x, y\"\nb,NA,2,\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tsv := "id\tdose, Gy\tsite;code\tnote\na\t24\t1\t\"x, y\"\nb\tNA\t2\t\n"
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write([]byte(tsv))
	z.Close()
	for name, text := range map[string]string{"t.tsv": tsv, "T.TSV": tsv, "t.tsv.gz": gz.String(), "t.csv": tsv, "quoted.tsv": strings.ReplaceAll(tsv, "id\t", "\"id\"\t")} {
		got, err := ReadTable(context.Background(), writeFile(t, name, text), nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: read %+v, want %+v", name, got, want)
		}
	}
	// cBioPortal's clinical file: its '#' lines above the header are
	// skipped, a row that starts with '#' is data, and lines keep their
	// numbers in errors.
	cbio := "#Patient Identifier\tDose\tSite\tNote\n#Identifier\tGy\tcode\tfree text\n#STRING\tNUMBER\tNUMBER\tSTRING\n#1\t1\t1\t1\n" +
		"id\tdose, Gy\tsite;code\tnote\na\t24\t1\t\"x, y\"\nb\tNA\t2\t\n"
	got, err := ReadTable(context.Background(), writeFile(t, "data_clinical_patient.txt", cbio), nil)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("cBioPortal's file: read %+v, %v; want %+v", got, err, want)
	}
	got, err = ReadTable(context.Background(), writeFile(t, "hash.txt", cbio+"#c\t3\t3\tz\n"), nil)
	if err != nil || got.Len != 3 || got.Columns[0].Str[2] != "#c" {
		t.Errorf("a row starting with '#': %+v, %v", got, err)
	}
	_, err = OpenTable(context.Background(), writeFile(t, "short.txt", cbio+"c\t1\n"), TableOptions{})
	if !errors.Is(err, ErrCSV) || !strings.Contains(err.Error(), "line 8: wrong number of fields") {
		t.Errorf("a short row below the '#' lines: %v", err)
	}
	// One '#' line is the header itself, as some tools write it.
	got, err = ReadTable(context.Background(), writeFile(t, "h.tsv", "#id\tdose\na\t1\n"), nil)
	if err != nil || got.Len != 1 || got.Columns[0].Name != "#id" {
		t.Errorf("a tab-separated header starting with '#': %+v, %v", got, err)
	}
	// A comma-separated header may start with '#'.
	got, err = ReadTable(context.Background(), writeFile(t, "n.csv", "#,id\n1,a\n"), nil)
	if err != nil || got.Len != 1 || got.Columns[0].Name != "#" {
		t.Errorf("a comma-separated header starting with '#': %+v, %v", got, err)
	}

	// A .tsv file's rows are checked as a CSV file's.
	_, err = OpenTable(context.Background(), writeFile(t, "short.tsv", "id\talc\na\t1\nb\n"), TableOptions{})
	if !errors.Is(err, ErrCSV) || !strings.Contains(err.Error(), "line 3: wrong number of fields") {
		t.Errorf("a short row in a .tsv file: %v", err)
	}
}

func TestCSVMalformed(t *testing.T) {
	for _, tt := range []struct {
		name, text, want string
	}{
		{"empty", "", "empty (no header line)"},
		{"duplicate column", "id,alc,alc\na,1,2\n", `column "alc" appears twice in the header (columns 2 and 3)`},
		{"short row", "id,alc\na,1\nb\n", "line 3: wrong number of fields"},
		{"stray quote", "id,alc\na\"b,1\n", "line 2: bare \""},
		{"Windows-1252 header", "id,gr\xf6\xdfe\na,1\n", "the header's column 2 is not UTF-8 text"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "bad.csv", tt.text)
			_, err := OpenTable(context.Background(), path, TableOptions{})
			if !errors.Is(err, ErrCSV) || !strings.Contains(err.Error(), path+": malformed CSV file") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrCSV naming the file and %q", err, tt.want)
			}
		})
	}
	path := writeFile(t, "noici.csv", "patient_id,alc\na,1\n")
	want := path + ": column ici_class: missing (required, category: one of pd1, pdl1, ctla4, pd1_ctla4); the file has 2 of the cohort schema's 35 columns (abscopal schema)"
	if _, err := ReadCohort(context.Background(), path); !errors.Is(err, ErrSchema) || err.Error() != want {
		t.Errorf("a cohort CSV without ici_class: err = %v", err)
	}
	path = writeFile(t, "t.csv", "id\na\n")
	if err := os.WriteFile(path+".meta.json", []byte(`["not", "an object"]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTable(context.Background(), path, TableOptions{}); err == nil || !strings.Contains(err.Error(), "t.csv.meta.json: not the JSON object") {
		t.Errorf("a broken sidecar: err = %v", err)
	}
}

// TestCohortCSVRoundTrip writes a cohort file's patients as CSV with the CSV
// writer and reads them back as the same patients.
func TestCohortCSVRoundTrip(t *testing.T) {
	ctx := context.Background()
	want, err := ReadCohort(ctx, "testdata/small_cohort.parquet")
	if err != nil {
		t.Fatal(err)
	}
	fields := CohortFields()
	cols := make([]ColumnSpec, len(fields))
	for i, f := range fields {
		cols[i] = ColumnSpec{Name: f.Name, Kind: f.Kind, Optional: !f.Required}
	}
	// Comma-separated, and semicolon-separated with decimal commas.
	for _, decimalComma := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "cohort.csv")
		w, err := CreateCSV(path, cols, WriteOptions{DecimalComma: decimalComma})
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			vals := make([]Value, len(fields))
			for j := range fields {
				vals[j] = fields[j].Get(&want[i])
			}
			if err := w.WriteRow(vals); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		text, _ := os.ReadFile(path)
		header, _, _ := strings.Cut(string(text), "\n")
		if got := strings.Contains(header, ";"); got != decimalComma {
			t.Errorf("decimal comma %v: header %q", decimalComma, header)
		}
		if got := regexp.MustCompile(`;\d+,\d+;`).Match(text); got != decimalComma {
			t.Errorf("decimal comma %v: numbers with decimal commas %v", decimalComma, got)
		}
		got, err := ReadCohort(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("decimal comma %v: read back %d patients unlike the %d written", decimalComma, len(got), len(want))
		}
	}
}

// TestCohortCSVFromOtherTools reads the spellings pandas and R write:
// True/False and TRUE/FALSE, 1/0 for booleans (REDCap), 5.0 for an integer
// column with nulls (pandas), NA and empty fields for nulls; and lists a row
// of each wrong value as invalid, naming row, column and allowed values.
func TestCohortCSVFromOtherTools(t *testing.T) {
	const header = "patient_id,ici_class,rt_dose_gy,rt_fractions,rt_site,hla_loh,alc\n"
	path := writeFile(t, "c.csv", header+
		"pandas,pd1,24.0,3.0,lung,True,1.2\n"+
		"r,pdl1,NA,NA,NA,FALSE,NA\n"+
		"redcap,pd1,24,3,lung,1,\n"+
		"frac,pd1,24,3.5,lung,0,1\n"+
		"pct,pd1,24,3,lung,0,1.2%\n"+
		"yes,pd1,24,3,lung,yes,1\n")
	got, rep, err := readAll(t, path, CohortOptions{Policy: SkipInvalid})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || rep.Invalid != 3 || rep.ByReason[ReasonType] != 3 {
		t.Fatalf("read %d patients, %d invalid (%v); want 3 and 3 of the wrong type", len(got), rep.Invalid, rep.ByReason)
	}
	p := got[0]
	if *p.RTDoseGy != 24 || *p.RTFractions != 3 || !*p.HLALOH || *p.ALC != 1.2 {
		t.Errorf("pandas row read as %+v", p)
	}
	if p := got[1]; p.RTDoseGy != nil || p.RTFractions != nil || p.ALC != nil || *p.HLALOH {
		t.Errorf("R row read as %+v", p)
	}
	if p := got[2]; !*p.HLALOH || p.ALC != nil {
		t.Errorf("REDCap row read as %+v", p)
	}

	_, err = ReadCohort(context.Background(), path)
	if !errors.Is(err, ErrInvalidValue) || err.Error() != path+": row 4, column rt_fractions: wrong type: 3.5 (allowed: a whole number in [0, 60] fractions)" {
		t.Errorf("err = %v", err)
	}
	var problems []string
	if _, _, err := readAll(t, path, CohortOptions{Policy: SkipInvalid, OnInvalid: func(e *RowError) { problems = append(problems, e.Error()) }}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		path + ": row 4, column rt_fractions: wrong type: 3.5 (allowed: a whole number in [0, 60] fractions)",
		path + `: row 5, column alc: wrong type: "1.2%" (allowed: a number in [0, 50] 10^9/L)`,
		path + `: row 6, column hla_loh: wrong type: "yes" (allowed: true or false (or 1 or 0))`,
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// TestNullSpellings: isNullText's switch is the exported list.
func TestNullSpellings(t *testing.T) {
	for _, s := range NullSpellings {
		if !isNullText(s) {
			t.Errorf("%q is in NullSpellings but not read as null", s)
		}
	}
	for _, s := range []string{"0", "None", "na", "-", " "} {
		if isNullText(s) {
			t.Errorf("%q is read as null", s)
		}
	}
}

// TestCSVNumRows: a reader that typed no column counts the rows when asked.
func TestCSVNumRows(t *testing.T) {
	path := writeFile(t, "t.csv", "id,x\na,1\nb,\"2\n\"\nc,3\n")
	for _, kinds := range []map[string]Kind{nil, {"id": KindString, "x": KindString}} {
		r, err := OpenTable(context.Background(), path, TableOptions{Kinds: kinds})
		if err != nil {
			t.Fatal(err)
		}
		if n := r.NumRows(); n != 3 {
			t.Errorf("kinds %v: %d rows, want 3", kinds, n)
		}
		r.Close()
	}
}

// FuzzReadCohortCSV: no bytes make the CSV reader panic or loop; what it
// reads through the cohort reader is valid.
func FuzzReadCohortCSV(f *testing.F) {
	dir := f.TempDir()
	f.Add([]byte("patient_id,ici_class,rt_dose_gy,rt_fractions,hla_loh\na,pd1,24,3,true\nb,pdl1,NA,,0\n"))
	f.Add([]byte("\ufeffpatient_id,ici_class,centre\n\"a\nb\",pd1,1\n"))
	f.Add([]byte("patient_id;ici_class;alc;rt_dose_gy\na;pd1;1,5;NA\nb;pdl1;1.5;\n"))
	f.Add([]byte("patient_id,ici_class\na,\"pd1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{nil, {"centre"}} {
			r, err := OpenCohort(context.Background(), path, CohortOptions{Policy: SkipInvalid, BatchSize: 4, Extra: extra})
			if err != nil {
				continue
			}
			for i := 0; i < 1000; i++ {
				ps, err := r.Next(context.Background())
				if err != nil {
					break
				}
				for k := range ps {
					if errs := ps[k].Validate(); len(errs) > 0 {
						t.Errorf("read an invalid patient: %v", errs[0])
					}
				}
			}
			r.Close()
		}
	})
}

// TestCSVNamedOtherwise: a CSV file not named .csv is read as Parquet and
// refused, with the way out.
func TestCSVNamedOtherwise(t *testing.T) {
	for _, text := range []string{"patient_id,ici_class\na,pd1\n", "id\n"} {
		path := writeFile(t, "cohort.dat", text)
		_, err := OpenTable(context.Background(), path, TableOptions{})
		if !errors.Is(err, ErrNotParquet) || !strings.HasSuffix(err.Error(), "read as such when its name ends in .csv, .tsv or .txt (or any of them with .gz)") {
			t.Errorf("%q: err = %v", text, err)
		}
	}
}

// TestCSVTypesWhatIsRead: a CSV file's columns are typed only when asked
// for: a probe reading none costs no pass, a reader types its own.
func TestCSVTypesWhatIsRead(t *testing.T) {
	ctx := context.Background()
	path := writeFile(t, "t.csv", "id,n,flag\na,1,true\nb,2,false\n")
	probe, err := OpenTable(ctx, path, TableOptions{Columns: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range probe.Schema() {
		if c.Kind != KindUnsupported || c.Type != csvNotRead {
			t.Errorf("probe: %s typed %v %q", c.Name, c.Kind, c.Type)
		}
	}
	probe.Close()
	r, err := OpenTable(ctx, path, TableOptions{Columns: []string{"n"}, Kinds: map[string]Kind{"id": KindString}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[string]Kind{}
	for _, c := range r.Schema() {
		got[c.Name] = c.Kind
	}
	if want := map[string]Kind{"id": KindString, "n": KindInt, "flag": KindUnsupported}; !reflect.DeepEqual(got, want) || r.NumRows() != 2 {
		t.Errorf("kinds %v, %d rows; want %v, 2 rows", got, r.NumRows(), want)
	}
}

// TestCohortCSVExtraColumns: a cohort CSV's columns outside the schema come
// typed from their values when asked for, and untyped otherwise.
func TestCohortCSVExtraColumns(t *testing.T) {
	path := writeFile(t, "c.csv", "patient_id,ici_class,centre,site_name\na,pd1,1,x\nb,pd1,2,y\n")
	r, err := OpenCohort(context.Background(), path, CohortOptions{Extra: []string{"centre"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ps, extras, err := r.NextExtra(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cols := r.ExtraColumns()
	if len(ps) != 2 || len(cols) != 1 || cols[0].Kind != KindInt || extras[1][0] != Float(2) || !reflect.DeepEqual(r.Report().Ignored, []string{"site_name"}) {
		t.Errorf("patients %d, extra columns %+v, values %v, ignored %v", len(ps), cols, extras, r.Report().Ignored)
	}
}

// TestCSVNotUTF8: a text field in a Windows code page (an "é" in
// Windows-1252) is refused naming row, line and column, and the way out.
func TestCSVNotUTF8(t *testing.T) {
	path := writeFile(t, "t.csv", "patient_id,ici_class\nok,pd1\nren\xe9,pd1\n")
	_, err := ReadCohort(context.Background(), path)
	if !errors.Is(err, ErrCSV) || !strings.Contains(err.Error(), `row 2 (line 3), column patient_id: not UTF-8 text`) || !strings.Contains(err.Error(), `save it as "CSV UTF-8"`) ||
		strings.Contains(err.Error(), "changed since") {
		t.Errorf("err = %v", err)
	}
}

// TestCSVGzip: a .csv.gz file reads as the CSV it holds, typing pass and
// all; a .csv.gz file that is not gzip is refused, naming it.
func TestCSVGzip(t *testing.T) {
	text := "patient_id,ici_class,rt_dose_gy,rt_fractions,rt_site,centre\na,pd1,24,3,lung,1\nb,pdl1,NA,,,2\n"
	plain := writeFile(t, "c.csv", text)
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	z.Write([]byte(text))
	z.Close()
	gz := filepath.Join(t.TempDir(), "c.CSV.gz")
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(path string) ([]Patient, [][]Value, int64) {
		r, err := OpenCohort(context.Background(), path, CohortOptions{Extra: []string{"centre"}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		ps, extras, err := r.NextExtra(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return ps, extras, r.NumRows()
	}
	wantPs, wantExtras, wantRows := read(plain)
	gotPs, gotExtras, gotRows := read(gz)
	if !IsCSV(gz) || !reflect.DeepEqual(gotPs, wantPs) || !reflect.DeepEqual(gotExtras, wantExtras) || gotRows != 2 || wantRows != 2 {
		t.Errorf("gzip: %d rows %v %v; plain: %d rows %v %v", gotRows, gotPs, gotExtras, wantRows, wantPs, wantExtras)
	}
	notGz := writeFile(t, "x.csv.gz", text)
	if _, err := OpenTable(context.Background(), notGz, TableOptions{}); !errors.Is(err, ErrCSV) || !strings.Contains(err.Error(), "x.csv.gz: malformed CSV file: not gzip-compressed") {
		t.Errorf("plain text named .csv.gz: %v", err)
	}
}
