// Package matrixcsv writes design matrices as CSV for the Python peers of
// the benchmarks (bench/peers.py, bench/heldout.py).
package matrixcsv

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"

	"github.com/abscopal/abscopal/features"
)

// Write writes m with the header names, then a column y and, when truth is
// not nil, a column truth. Values are written in full precision.
func Write(path string, header []string, m *features.Matrix, y, truth []float64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	head := append(append([]string{}, header...), "y")
	if truth != nil {
		head = append(head, "truth")
	}
	if err := w.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	for i := 0; i < m.Rows; i++ {
		for j, x := range m.Row(i) {
			row[j] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		row[m.Cols] = strconv.FormatFloat(y[i], 'g', -1, 64)
		if truth != nil {
			row[m.Cols+1] = strconv.FormatFloat(truth[i], 'g', -1, 64)
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
