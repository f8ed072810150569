package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plot.svg")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new content")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(b) != "new content" || fi.Mode().Perm() != 0o644 {
		t.Errorf("got %q, mode %v", b, fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}

	// Errors name the file and what is wrong, never the temporary file.
	missing := filepath.Join(dir, "no", "such", "dir", "plot.svg")
	for _, tt := range []struct{ path, want string }{
		{missing, "write " + missing + ": no directory " + filepath.Dir(missing)},
		{dir, "write " + dir + ": it is a directory"},
	} {
		for _, err := range []error{WriteFileAtomic(tt.path, []byte("x")), CheckWritable(tt.path)} {
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		}
	}
	if err := CheckWritable(filepath.Join(dir, "new.svg")); err != nil {
		t.Errorf("a writable path: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("CheckWritable left %v", entries)
	}
}

// TestCSVSidecar: a CSV file's metadata (the synthetic label among it) goes
// to PATH.meta.json, written on Close only, never for an aborted file.
func TestCSVSidecar(t *testing.T) {
	dir := t.TempDir()
	cols := []ColumnSpec{{Name: "patient_id", Kind: KindString}, {Name: "p", Kind: KindFloat, Optional: true}}
	tests := []struct {
		name    string
		meta    map[string]string
		abort   bool
		sidecar string // "" for none
	}{
		{"labelled", map[string]string{"abscopal.synthetic": "true"}, false, "{\n  \"abscopal.synthetic\": \"true\"\n}"},
		{"no metadata", nil, false, ""},
		{"aborted", map[string]string{"abscopal.synthetic": "true"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".csv")
			w, err := CreateCSV(path, cols, WriteOptions{Metadata: tt.meta})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteRow([]Value{String("a, \"quoted\""), Null}); err != nil {
				t.Fatal(err)
			}
			if tt.abort {
				w.Abort()
			} else if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path + ".meta.json")
			if got := string(b); got != tt.sidecar || (tt.sidecar == "") != os.IsNotExist(err) {
				t.Errorf("sidecar %q (%v), want %q", got, err, tt.sidecar)
			}
			csvb, err := os.ReadFile(path)
			if want := "patient_id,p\n\"a, \"\"quoted\"\"\",\n"; !tt.abort && string(csvb) != want {
				t.Errorf("csv %q, want %q", csvb, want)
			} else if tt.abort && !os.IsNotExist(err) {
				t.Errorf("an aborted CSV is in place (%v)", err)
			}
		})
	}
}

// TestDistinctColumnPlain: a Distinct string column (an id) is written
// plain, the other string columns as a dictionary, and both read back.
func TestDistinctColumnPlain(t *testing.T) {
	ids := []string{"p1", "p2", "p3"}
	var rows [][]Value
	for _, id := range ids {
		rows = append(rows, []Value{String(id), String("gbm")})
	}
	path := writeTableGroups(t, []ColumnSpec{{Name: "id", Kind: KindString, Distinct: true}, {Name: "model", Kind: KindString}}, rows, DefaultRowGroupSize)
	for col, wantDict := range map[string]bool{"id": false, "model": true} {
		if encs, dict := encodings(t, path, col); dict != wantDict {
			t.Errorf("column %s encodings %v, want a dictionary %v", col, encs, wantDict)
		}
	}
	// A cohort's id, the field without levels, too; its levels not.
	cohort := filepath.Join(t.TempDir(), "cohort.parquet")
	if err := WriteCohort(cohort, []Patient{{PatientID: "a", ICIClass: new("pd1")}}, CohortWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for col, wantDict := range map[string]bool{"patient_id": false, "ici_class": true} {
		if encs, dict := encodings(t, cohort, col); dict != wantDict {
			t.Errorf("cohort column %s encodings %v, want a dictionary %v", col, encs, wantDict)
		}
	}
	tr, err := OpenTable(t.Context(), path, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	b, err := tr.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if got := b.Columns[0].Value(i); got.Str != id || b.Columns[1].Value(i).Str != "gbm" {
			t.Errorf("row %d read back %v, %v", i, got, b.Columns[1].Value(i))
		}
	}
}

// encodings returns the encodings of column col in the first row group of
// the Parquet file at path, and whether one is a dictionary.
func encodings(t *testing.T, path, col string) (encs []string, dict bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pf.Metadata().RowGroups[0].Columns {
		if len(c.MetaData.PathInSchema) == 1 && c.MetaData.PathInSchema[0] == col {
			for _, e := range c.MetaData.Encoding {
				encs = append(encs, e.String())
				dict = dict || e == format.RLEDictionary || e == format.PlainDictionary
			}
			return encs, dict
		}
	}
	t.Fatalf("%s has no column %s", path, col)
	return nil, false
}
