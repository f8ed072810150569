package data

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// everyKindRow has a column of each physical type and encoding the table
// reader decodes from typed pages: required and optional, plain and
// dictionary, decimals, narrow and unsigned integers, NaN.
type everyKindRow struct {
	ID       string   `parquet:"id"`
	IDDict   string   `parquet:"id_dict,dict"`
	Level    *string  `parquet:"level,optional,dict"`
	Note     *string  `parquet:"note,optional"`
	Dose     float64  `parquet:"dose"`
	DoseOpt  *float64 `parquet:"dose_opt,optional,split"`
	DoseDict *float64 `parquet:"dose_dict,optional,dict"`
	Single   *float32 `parquet:"single,optional"`
	Dec32    *int32   `parquet:"dec32,optional,decimal(2:9)"`
	Dec64    int64    `parquet:"dec64,decimal(3:18)"`
	Small    *int8    `parquet:"small,optional"`
	Count    int64    `parquet:"count,optional,delta"` // zero is null
	CountDic *int32   `parquet:"count_dict,optional,dict"`
	Unsigned uint32   `parquet:"unsigned,uint(32)"`
	Flag     bool     `parquet:"flag"`
	FlagOpt  *bool    `parquet:"flag_opt,optional"`
}

// writeRows writes rows to a Parquet file at path with parquet-go's
// generic writer, as other tools' files are written.
func writeRows[T any](t *testing.T, path string, rows []T, opts ...parquet.WriterOption) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeEveryKind(t *testing.T, path string, rows int, opts ...parquet.WriterOption) {
	t.Helper()
	levels := []string{"low", "high", "", "loss"}
	var out []everyKindRow
	for i := range rows {
		s := func(x string) *string { return &x }
		r := everyKindRow{ID: "P" + itoa(i), IDDict: "D" + itoa(i%50), Dose: float64(i) / 7,
			Dec64: int64(i) * -1001, Unsigned: uint32(math.MaxUint32 - i), Flag: i%3 == 0}
		if i%4 != 1 {
			r.Level = s(levels[i%4])
		}
		if i%5 != 0 {
			r.Note = s("n" + itoa(i%9))
		}
		if i%6 != 0 {
			x := float64(i) / 3
			if i%11 == 0 {
				x = math.NaN() // read as null
			}
			r.DoseOpt = &x
			y := float64(i % 13)
			r.DoseDict = &y
			z := float32(i) / 8
			r.Single = &z
		}
		if i%7 != 0 {
			d := int32(i * 37)
			r.Dec32 = &d
			r.Count = int64(i) << 33
			m := int32(i % 5)
			r.CountDic = &m
			k := int8(i % 120)
			r.Small = &k
			b := i%2 == 0
			r.FlagOpt = &b
		}
		out = append(out, r)
	}
	writeRows(t, path, out, opts...)
}

// readBatches reads the whole table in batches of size, value by value when
// generic, and returns the batches.
func readBatches(t *testing.T, path string, size int, generic bool) []*Batch {
	t.Helper()
	ctx := context.Background()
	r, err := OpenTable(ctx, path, TableOptions{BatchSize: size})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.file.(*parquetTable).generic = generic
	var out []*Batch
	for {
		b, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		c := b.Clone()
		for i := range c.Columns {
			c.Columns[i].intern = nil
		}
		out = append(out, c)
	}
}

// TestTypedPagesMatchValues reads files of every kind, layout and writer the
// reader meets, page by page from typed buffers and value by value through
// parquet-go's ValueReader, and checks the batches are equal: the value by
// value path is the one the reader had before, and still the one it falls
// back to.
func TestTypedPagesMatchValues(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"duckdb":   filepath.Join("testdata", "duckdb_cohort.parquet"),
		"abscopal": filepath.Join("testdata", "small_cohort.parquet"),
	}
	for name, opts := range map[string][]parquet.WriterOption{
		"v2, small pages and row groups": {parquet.DataPageVersion(2), parquet.PageBufferSize(512), parquet.MaxRowsPerRowGroup(700)},
		"v1, small pages":                {parquet.DataPageVersion(1), parquet.PageBufferSize(300)},
		"v2, one page":                   {parquet.DataPageVersion(2)},
	} {
		path := filepath.Join(dir, name+".parquet")
		writeEveryKind(t, path, 2000, opts...)
		files[name] = path
	}
	for name, path := range files {
		for _, size := range []int{7, 1000, 8192} {
			typed, generic := readBatches(t, path, size, false), readBatches(t, path, size, true)
			if len(typed) == 0 || len(typed) != len(generic) {
				t.Fatalf("%s, batches of %d: %d batches typed, %d value by value", name, size, len(typed), len(generic))
			}
			for i := range typed {
				for j := range typed[i].Columns {
					a, b := typed[i].Columns[j], generic[i].Columns[j]
					if !reflect.DeepEqual(numBits(a.Num), numBits(b.Num)) || !reflect.DeepEqual(a.Valid, b.Valid) ||
						!reflect.DeepEqual(a.Int, b.Int) || !reflect.DeepEqual(a.Bool, b.Bool) || !reflect.DeepEqual(a.Str, b.Str) ||
						a.ColumnInfo != b.ColumnInfo {
						t.Fatalf("%s, batches of %d, batch %d, column %s: typed %+v, value by value %+v", name, size, i, a.Name, a, b)
					}
				}
			}
		}
	}
}

// numBits is xs as bits, so that a NaN equals itself.
func numBits(xs []float64) []uint64 {
	out := make([]uint64, len(xs))
	for i, x := range xs {
		out[i] = math.Float64bits(x)
	}
	return out
}

// TestTypedPagesNotUTF8 checks that text that is not UTF-8, plain or in a
// dictionary, is the same error, at the same row, from typed pages as
// value by value.
func TestTypedPagesNotUTF8(t *testing.T) {
	type row struct {
		Plain *string `parquet:"plain,optional"`
		Dict  *string `parquet:"dict,optional,dict"`
	}
	for _, col := range []string{"plain", "dict"} {
		path := filepath.Join(t.TempDir(), col+".parquet")
		var rows []row
		for i := range 500 {
			s := "ok" + itoa(i%3)
			r := row{Plain: &s, Dict: &s}
			if i == 321 {
				bad := "caf\xe9"
				if col == "plain" {
					r.Plain = &bad
				} else {
					r.Dict = &bad
				}
			}
			if i%10 == 0 {
				r.Plain, r.Dict = nil, nil
			}
			rows = append(rows, r)
		}
		writeRows(t, path, rows, parquet.PageBufferSize(256))
		var msgs [2]string
		for k, generic := range []bool{false, true} {
			ctx := context.Background()
			r, err := OpenTable(ctx, path, TableOptions{Columns: []string{col}, BatchSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			r.file.(*parquetTable).generic = generic
			for err == nil {
				_, err = r.Next(ctx)
			}
			r.Close()
			var re *RowError
			if !errors.As(err, &re) || re.Row != 322 || re.Field != col {
				t.Fatalf("%s, value by value %v: got %v, want the error of row 322, column %s", col, generic, err, col)
			}
			msgs[k] = err.Error()
		}
		if msgs[0] != msgs[1] {
			t.Errorf("%s: typed %q, value by value %q", col, msgs[0], msgs[1])
		}
	}
}
