package data

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"

	"github.com/parquet-go/parquet-go"
)

// ColumnSpec declares a column to write.
type ColumnSpec struct {
	Name     string
	Kind     Kind
	Optional bool // may hold nulls
	// Distinct marks a string column whose values all differ (an id): it
	// is written plain. Other string columns are dictionary-encoded, which
	// for an id only builds a dictionary as large as the column, at a map
	// insert per row.
	Distinct bool
}

// WriteOptions configure a TableWriter.
type WriteOptions struct {
	// RowGroupSize is the number of rows per row group (default 65,536): small
	// enough that readers stream in bounded memory, large enough for good
	// compression and few footer entries.
	RowGroupSize int64
	// Metadata is written as Parquet key-value metadata.
	Metadata map[string]string
	// CreatedBy names the writing application and its version in the footer.
	CreatedBy string
	// DecimalComma writes a CSV file separated by semicolons, its numbers
	// with a decimal comma (1,5), as Excel where the decimal mark is a
	// comma and R's read.csv2 read it; abscopal reads it back. Parquet
	// files have no use for it.
	DecimalComma bool
}

// DefaultRowGroupSize is the number of rows per row group unless told otherwise.
const DefaultRowGroupSize = 65536

// TableWriter writes rows to a Parquet file (zstd, strings dictionary-encoded unless Distinct)
// through a temporary file in the same directory, renamed into place by Close:
// a reader never sees a half-written file, and a failed write leaves nothing.
type TableWriter struct {
	path string
	tmp  *os.File
	w    *parquet.Writer
	cols []ColumnSpec
	rows []parquet.Row
	n    int64
	done bool
}

// CreateTable starts writing a Parquet file with the given columns.
func CreateTable(path string, cols []ColumnSpec, opts WriteOptions) (*TableWriter, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("write %s: no columns", path)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if c.Name == "" || seen[c.Name] {
			return nil, fmt.Errorf("write %s: column name %q is empty or repeated", path, c.Name)
		}
		seen[c.Name] = true
	}
	schema, err := schemaOf(cols)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	if opts.RowGroupSize <= 0 {
		opts.RowGroupSize = DefaultRowGroupSize
	}
	wopts := []parquet.WriterOption{
		schema,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(opts.RowGroupSize),
	}
	if opts.CreatedBy != "" {
		wopts = append(wopts, parquet.CreatedBy(opts.CreatedBy, "", ""))
	}
	for _, k := range sortedKeys(opts.Metadata) {
		wopts = append(wopts, parquet.KeyValueMetadata(k, opts.Metadata[k]))
	}
	return &TableWriter{path: path, tmp: tmp, w: parquet.NewWriter(tmp, wopts...), cols: cols}, nil
}

// WriteRow appends one row; vals holds one Value per column, in column order.
func (w *TableWriter) WriteRow(vals []Value) error {
	if len(vals) != len(w.cols) {
		return fmt.Errorf("write %s: row %d has %d values for %d columns", w.path, w.n+1, len(vals), len(w.cols))
	}
	// The rows of a flush are reused by the next: WriteRows copies their
	// values into its column buffers.
	var row parquet.Row
	if k := len(w.rows); k < cap(w.rows) {
		row = w.rows[:k+1][k] // nil where no flush has been yet
	}
	if row == nil {
		row = make(parquet.Row, len(vals))
	}
	for i, v := range vals {
		c := w.cols[i]
		def := 0
		if c.Optional {
			def = 1
		}
		if !v.Valid {
			if !c.Optional {
				return fmt.Errorf("write %s: row %d, column %s: null in a required column", w.path, w.n+1, c.Name)
			}
			row[i] = parquet.Value{}.Level(0, 0, i)
			continue
		}
		var pv parquet.Value
		switch c.Kind {
		case KindFloat:
			pv = parquet.DoubleValue(v.Num)
		case KindInt:
			pv = parquet.Int64Value(int64(v.Num))
		case KindBool:
			pv = parquet.BooleanValue(v.Bool)
		default:
			pv = parquet.ByteArrayValue([]byte(v.Str))
		}
		row[i] = pv.Level(0, def, i)
	}
	w.rows = append(w.rows, row)
	w.n++
	if len(w.rows) >= 1024 {
		return w.flushRows()
	}
	return nil
}

func (w *TableWriter) flushRows() error {
	if _, err := w.w.WriteRows(w.rows); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.rows = w.rows[:0]
	return nil
}

// Rows returns the number of rows written so far.
func (w *TableWriter) Rows() int64 { return w.n }

// SetMetadata sets a key-value metadata entry; it may be called until Close.
func (w *TableWriter) SetMetadata(key, value string) { w.w.SetKeyValueMetadata(key, value) }

// Close finishes the file, syncs it and renames it into place.
func (w *TableWriter) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.flushRows()
	if err == nil {
		err = w.w.Close()
	}
	return finishTemp(w.tmp, w.path, err)
}

// WriteFileAtomic writes b to path through a temporary file in the same
// directory, renamed into place once synced: a reader sees the old file or
// the whole new one, never a part.
func WriteFileAtomic(path string, b []byte) error {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	return finishTemp(tmp, path, err)
}

// createTemp creates the temporary file that becomes path once written, in
// path's directory (a rename within one file system is atomic). Its errors
// name path and say what is wrong with it, not the temporary file.
func createTemp(path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("write %s: it is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	var pe *fs.PathError
	switch {
	case err == nil:
		return tmp, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("write %s: no directory %s", path, filepath.Dir(path))
	case errors.As(err, &pe):
		return nil, fmt.Errorf("write %s: %w", path, pe.Err) // "permission denied", without the temporary name
	}
	return nil, fmt.Errorf("write %s: %w", path, err)
}

// CheckWritable reports, with the error a write would give, whether a file
// can be written at path, creating and removing a temporary file there: a
// command checks its outputs so before long work rather than after it.
func CheckWritable(path string) error {
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// finishTemp moves a fully written temporary file to path: readable by all
// (CreateTemp makes files private), synced, closed, renamed. If err is set,
// or any step fails, the temporary file is removed and path left untouched.
func finishTemp(tmp *os.File, path string, err error) error {
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err // the rename's reason, without the temporary name
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Abort discards everything written; the destination is left untouched.
func (w *TableWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

func schemaOf(cols []ColumnSpec) (*parquet.Schema, error) {
	fields := make([]parquet.Field, len(cols))
	group := parquet.Group{}
	for i, c := range cols {
		var n parquet.Node
		switch c.Kind {
		case KindFloat:
			n = parquet.Leaf(parquet.DoubleType)
		case KindInt:
			n = parquet.Int(64)
		case KindBool:
			n = parquet.Leaf(parquet.BooleanType)
		case KindString:
			n = parquet.String()
			if !c.Distinct {
				n = parquet.Encoded(n, &parquet.RLEDictionary)
			}
		default:
			return nil, fmt.Errorf("column %s: cannot write kind %s", c.Name, c.Kind)
		}
		if c.Optional {
			n = parquet.Optional(n)
		}
		fields[i] = namedField{Node: n, name: c.Name}
		group[c.Name] = n
	}
	return parquet.NewSchema("schema", orderedGroup{Group: group, fields: fields}), nil
}

// orderedGroup keeps the columns in the order given. parquet.Group sorts its
// fields by name, which would put patient_id in the middle of a cohort and
// scatter related columns; the Parquet format itself has no such rule.
type orderedGroup struct {
	parquet.Group
	fields []parquet.Field
}

func (g orderedGroup) Fields() []parquet.Field { return g.fields }

type namedField struct {
	parquet.Node
	name string
}

func (f namedField) Name() string { return f.name }

// Value is only used when writing Go values, which TableWriter never does.
func (f namedField) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// AtomicFile is a file written as a stream through a temporary file in
// its directory, renamed into place by Close: a reader sees the old file
// or the whole new one (an NDJSON export too large to hold in memory).
type AtomicFile struct {
	tmp  *os.File
	buf  *bufio.Writer
	path string
	done bool
}

// CreateAtomic starts writing path atomically.
func CreateAtomic(path string) (*AtomicFile, error) {
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<16), path: path}, nil
}

// Write buffers b for the file.
func (f *AtomicFile) Write(b []byte) (int, error) { return f.buf.Write(b) }

// Close flushes, syncs and renames the file into place.
func (f *AtomicFile) Close() error {
	if f.done {
		return nil
	}
	f.done = true
	return finishTemp(f.tmp, f.path, f.buf.Flush())
}

// Abort discards what was written; the destination is left untouched.
func (f *AtomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}
