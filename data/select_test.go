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

// TestShard: 8 rows in row groups of 3 (3, 3, 2) read in 2 parts: the
// first group, then the other two, the rows keeping their numbers in the
// file; a part outside 1..n, a shard after reading began, and a CSV file
// are refused.
func TestShard(t *testing.T) {
	ctx := context.Background()
	var rows [][]Value
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		rows = append(rows, minimalRow(id))
	}
	path := writeTable(t, minimalSpecs, rows)
	read := func(i, n int) (ids []string, first []int64) {
		r, err := OpenTable(ctx, path, TableOptions{Columns: []string{"patient_id"}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := r.Shard(i, n); err != nil {
			t.Fatal(err)
		}
		for {
			b, err := r.Next(ctx)
			if err != nil {
				break
			}
			first = append(first, b.FirstRow)
			for k := range b.Len {
				ids = append(ids, b.Columns[0].Str[k])
			}
		}
		return ids, first
	}
	if ids, first := read(1, 2); !reflect.DeepEqual(ids, []string{"a", "b", "c"}) || !reflect.DeepEqual(first, []int64{1}) {
		t.Errorf("part 1/2: %v from rows %v", ids, first)
	}
	if ids, first := read(2, 2); !reflect.DeepEqual(ids, []string{"d", "e", "f", "g", "h"}) || !reflect.DeepEqual(first, []int64{4, 7}) {
		t.Errorf("part 2/2: %v from rows %v", ids, first)
	}
	if ids, _ := read(4, 4); len(ids) != 2 {
		t.Errorf("part 4/4 of 3 row groups: %v, want the last group", ids)
	}
	r, _ := OpenTable(ctx, path, TableOptions{})
	defer r.Close()
	if err := r.Shard(3, 2); !errors.Is(err, ErrShard) {
		t.Errorf("part 3/2: %v", err)
	}
	r.Next(ctx)
	if err := r.Shard(1, 2); !errors.Is(err, ErrShard) {
		t.Errorf("a shard after reading: %v", err)
	}
	c, _ := OpenTable(ctx, writeFile(t, "c.csv", "patient_id\na\n"), TableOptions{})
	defer c.Close()
	if err := c.Shard(1, 2); !errors.Is(err, ErrShard) {
		t.Errorf("a CSV shard: %v", err)
	}
}
