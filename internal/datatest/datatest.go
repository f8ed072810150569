// Package datatest writes small Parquet files for tests: the bad inputs and
// odd tables that the cohort generator never makes.
package datatest

import (
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
