package data

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestSelect: a table opened for its schema alone and then given its
// columns reads what a table opened with them does, in Parquet and in CSV
// (typed by the Select, not by the open); and columns cannot change once
// reading has begun.
func TestSelect(t *testing.T) {
	ctx := context.Background()
	parquetPath := writeTable(t, minimalSpecs, [][]Value{minimalRow("a"), minimalRow("b")})
	csvPath := writeFile(t, "c.csv", "patient_id,rt_fractions,alc,site\na,3,1.2,lung\nb,,0.8,\n")
	for _, tt := range []struct {
		path string
		cols []string
	}{
		{parquetPath, []string{"alc", "patient_id"}},
		{csvPath, []string{"alc", "patient_id", "rt_fractions"}},
	} {
		direct, err := ReadTable(ctx, tt.path, tt.cols)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := OpenTable(ctx, tt.path, TableOptions{Columns: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		if IsCSV(tt.path) {
			for _, c := range tr.Schema() {
				if c.Kind != KindUnsupported {
					t.Errorf("%s: column %s typed by the open (%v): the schema alone costs no pass", tt.path, c.Name, c.Kind)
				}
			}
		}
		if err := tr.Select(TableOptions{Columns: tt.cols}); err != nil {
			t.Fatal(err)
		}
		b, err := tr.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Len != direct.Len || !reflect.DeepEqual(b.Columns[0].Num, direct.Columns[0].Num) || !reflect.DeepEqual(b.Columns[1].Str, direct.Columns[1].Str) {
			t.Errorf("%s: selected %+v, opened with the columns %+v", tt.path, b, direct)
		}
		if err := tr.Select(TableOptions{Columns: tt.cols[:1]}); !errors.Is(err, ErrSelectAfterRead) {
			t.Errorf("%s: a Select after reading: %v", tt.path, err)
		}
		tr.Close()
	}
}
