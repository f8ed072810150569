package data

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// RowWriter is implemented by TableWriter (Parquet) and CSVWriter.
type RowWriter interface {
	WriteRow(vals []Value) error
	Close() error
	Abort()
}

// CSVWriter writes rows as CSV (RFC 4180, a header line, nulls as empty
// fields; with WriteOptions.DecimalComma, semicolons and decimal commas)
// through a temporary file renamed into place by Close. CSV has no
// place for metadata: the key-value metadata a Parquet file would carry
// (the synthetic label among them) goes to a JSON sidecar, PATH.meta.json.
type CSVWriter struct {
	path  string
	meta  map[string]string
	tmp   *os.File
	buf   *bufio.Writer
	w     *csv.Writer
	cols  []ColumnSpec
	rec   []string
	n     int64
	comma bool // semicolons between fields, decimal commas in numbers
	done  bool
}

// CreateCSV starts a CSV file with the given columns. A non-empty
// opts.Metadata is written by Close to PATH.meta.json.
func CreateCSV(path string, cols []ColumnSpec, opts WriteOptions) (*CSVWriter, error) {
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriter(tmp)
	w := &CSVWriter{path: path, meta: opts.Metadata, tmp: tmp, buf: buf, w: csv.NewWriter(buf), cols: cols, rec: make([]string, len(cols)), comma: opts.DecimalComma}
	if w.comma {
		w.w.Comma = ';'
	}
	for i, c := range cols {
		w.rec[i] = c.Name
	}
	if err := w.w.Write(w.rec); err != nil {
		w.Abort()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return w, nil
}

// WriteRow appends one row; vals holds one Value per column.
func (w *CSVWriter) WriteRow(vals []Value) error {
	if len(vals) != len(w.cols) {
		return fmt.Errorf("write %s: row %d has %d values for %d columns", w.path, w.n+1, len(vals), len(w.cols))
	}
	for i, v := range vals {
		switch {
		case !v.Valid:
			w.rec[i] = ""
		case w.cols[i].Kind == KindFloat || w.cols[i].Kind == KindInt:
			w.rec[i] = strconv.FormatFloat(v.Num, 'g', -1, 64)
			if w.comma {
				w.rec[i] = strings.Replace(w.rec[i], ".", ",", 1)
			}
		case w.cols[i].Kind == KindBool:
			w.rec[i] = strconv.FormatBool(v.Bool)
		default:
			w.rec[i] = v.Str
		}
	}
	w.n++
	if err := w.w.Write(w.rec); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// Close flushes, syncs and renames the file into place.
func (w *CSVWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	w.w.Flush()
	err := w.w.Error()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil && len(w.meta) > 0 {
		// The sidecar first: a CSV in place is never without its labels.
		var b []byte
		if b, err = json.MarshalIndent(w.meta, "", "  "); err == nil {
			err = WriteFileAtomic(w.path+".meta.json", b)
		}
	}
	return finishTemp(w.tmp, w.path, err)
}

// Abort discards the file.
func (w *CSVWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

// ErrExtension is wrapped by CheckExtension and CreateRows for a path that
// ends in neither .parquet nor .csv.
var ErrExtension = errors.New("the extension must be .parquet or .csv")

// CheckExtension returns an error wrapping ErrExtension unless path ends in
// .parquet or .csv (any case): the formats CreateRows writes.
func CheckExtension(path string) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet", ".csv":
		return nil
	}
	return fmt.Errorf("%s: %w", path, ErrExtension)
}

// CreateRows starts writing path as Parquet or, for a .csv path, as CSV with
// its metadata in a sidecar: a writer of rows whatever the format the
// user's file name asks for. Both are written atomically.
func CreateRows(path string, cols []ColumnSpec, opts WriteOptions) (RowWriter, error) {
	if err := CheckExtension(path); err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return CreateCSV(path, cols, opts)
	}
	return CreateTable(path, cols, opts)
}
