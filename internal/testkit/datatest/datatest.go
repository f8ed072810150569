// Package datatest writes small Parquet and CSV files for tests: the bad
// inputs and odd tables that the cohort generator never makes, and copies.
package datatest

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// WriteTable writes rows (one Value per column) to a Parquet file at path
// and returns path; any error fails the test.
func WriteTable(t testing.TB, path string, cols []data.ColumnSpec, rows [][]data.Value) string {
	t.Helper()
	w, err := data.CreateTable(path, cols, data.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			w.Abort()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// AddColumn copies the table at in to out with one more column, whose value
// in row i (counted from 0) is value(i), keeping the file's metadata (the
// synthetic label among it); it returns out.
func AddColumn(t testing.TB, in, out string, col data.ColumnSpec, value func(i int) data.Value) string {
	t.Helper()
	return copyTable(t, in, out, &col, value)
}

// Copy copies the table at in to out, Parquet or CSV by out's extension (a
// CSV's metadata, the synthetic label among it, in its sidecar), and
// returns out.
func Copy(t testing.TB, in, out string) string {
	t.Helper()
	return copyTable(t, in, out, nil, nil)
}

func copyTable(t testing.TB, in, out string, col *data.ColumnSpec, value func(i int) data.Value) string {
	t.Helper()
	ctx := context.Background()
	r, err := data.OpenTable(ctx, in, data.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var cols []data.ColumnSpec
	for _, c := range r.Schema() {
		cols = append(cols, data.ColumnSpec{Name: c.Name, Kind: c.Kind, Optional: true})
	}
	if col != nil {
		cols = append(cols, *col)
	}
	w, err := data.CreateRows(out, cols, data.WriteOptions{Metadata: r.Metadata()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	row := make([]data.Value, len(cols))
	for i := 0; ; {
		b, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < b.Len; k, i = k+1, i+1 {
			for c := range b.Columns {
				row[c] = b.Columns[c].Value(k)
			}
			if col != nil {
				row[len(cols)-1] = value(i)
			}
			if err := w.WriteRow(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}
