package data

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// ColumnInfo describes a column of a Parquet file as abscopal sees it.
type ColumnInfo struct {
	Name     string
	Kind     Kind   // KindUnsupported for nested, repeated, temporal or binary columns
	Type     string // the Parquet type as written, e.g. "DOUBLE", "INT32", "STRING", "DECIMAL(5,2)"
	Optional bool   // may hold nulls
	// Text marks a column of a CSV file, whose Kind is inferred from its
	// values: integers written 50 and 50.0 are the same measurement there,
	// so callers may take either numeric kind for the other.
	Text bool
	// NotNumber is, for a CSV column typed as text, which value first is
	// not a number and why (`row 17: "n/a" is not a number`): what to
	// correct if the column was meant to hold numbers.
	NotNumber string
	// DecimalComma marks a column of a semicolon-separated CSV file, whose
	// numbers are written with a decimal comma (1,5).
	DecimalComma bool

	index    int  // leaf index in the file
	scale    int  // decimal scale: the stored integer is value * 10^scale
	unsigned bool // unsigned integer logical type
}

// Column holds one column of a batch. Numeric columns (float and int) fill Num;
// int columns also fill Int, exactly. Bool and string columns fill Bool and Str.
// Valid[i] is false where row i is null. A NaN in a floating-point column is
// read as null: it is how numpy and pandas spell a missing value.
type Column struct {
	ColumnInfo
	Valid []bool
	Num   []float64
	Int   []int64
	Bool  []bool
	Str   []string

	intern map[string]string // shares the text of repeated strings (levels, sites)
}

// maxInterned bounds the strings a column shares; unique ids stop filling it.
const maxInterned = 1024

// Value returns row i of the column as a Value.
func (c *Column) Value(i int) Value {
	if !c.Valid[i] {
		return Null
	}
	switch c.Kind {
	case KindFloat, KindInt:
		return Float(c.Num[i])
	case KindBool:
		return Bool(c.Bool[i])
	default:
		return String(c.Str[i])
	}
}

// NullCount returns the number of null rows in the column.
func (c *Column) NullCount() int {
	n := 0
	for _, ok := range c.Valid {
		if !ok {
			n++
		}
	}
	return n
}

func (c *Column) reset() {
	c.Valid, c.Num, c.Int, c.Bool, c.Str = c.Valid[:0], c.Num[:0], c.Int[:0], c.Bool[:0], c.Str[:0]
}

// Batch is a run of consecutive rows of a table, column by column.
type Batch struct {
	FirstRow int64 // number of the first row of the batch in the file, counted from 1
	Len      int
	Columns  []Column // in the order the reader was asked for
}

// Clone returns a deep copy of the batch, which outlives the reader's next call.
func (b *Batch) Clone() *Batch {
	out := &Batch{FirstRow: b.FirstRow, Len: b.Len, Columns: make([]Column, len(b.Columns))}
	for i, c := range b.Columns {
		out.Columns[i] = Column{ColumnInfo: c.ColumnInfo, Valid: slices.Clone(c.Valid), Num: slices.Clone(c.Num),
			Int: slices.Clone(c.Int), Bool: slices.Clone(c.Bool), Str: slices.Clone(c.Str)}
	}
	return out
}

// Column returns the named column of the batch, or nil.
func (b *Batch) Column(name string) *Column {
	for i := range b.Columns {
		if b.Columns[i].Name == name {
			return &b.Columns[i]
		}
	}
	return nil
}

// TableOptions configure a TableReader.
type TableOptions struct {
	// Columns to read, in this order; nil reads every column of a supported kind.
	Columns []string
	// BatchSize is the number of rows per batch (default 8192). Memory is
	// bounded by one batch plus one decoded page per column.
	BatchSize int
	// Kinds gives the kinds to read a CSV file's columns as, sparing them
	// the pass that types the others: KindString delivers a column's text,
	// for a caller that parses each value against a schema of its own;
	// another kind is what an earlier reader of the same file found
	// (Schema). Parquet columns carry their types: it does not apply.
	// A CSV column neither given a kind nor among Columns is not typed:
	// Schema reports it KindUnsupported, its Type saying so.
	Kinds map[string]Kind
	// Codes names CSV columns that may hold codes: one whose integers are
	// written with a leading zero anywhere (007, 01) is read as text,
	// which keeps every digit, where typed as integers it would not.
	Codes []string
}

// DefaultBatchSize is the number of rows a reader returns per batch unless told otherwise.
const DefaultBatchSize = 8192

// TableReader streams a Parquet file in batches of rows, column by column. It
// reads flat files written by any tool (pyarrow, pandas, DuckDB, polars,
// Spark, parquet-go): INT32/INT64 (with or without integer or decimal logical
// types), FLOAT/DOUBLE, BOOLEAN and strings, plain or dictionary encoded,
// required or optional. A path ending in .csv is read as CSV instead, each
// column typed by its values (see csvSource).
type TableReader struct {
	path string
	f    *os.File
	file tableFormat // Parquet's or CSV's
	all  []ColumnInfo
	cols []ColumnInfo
	// batches alternate: Next fills batches[turn].
	batches [2]Batch
	turn    int
	size    int
	row     int64 // the number, in the file, of the last row returned
	// read is whether Next has been called: Select and Shard come before.
	read bool
}

// tableFormat is a file format's side of a TableReader: parquetTable or
// csvSource.
type tableFormat interface {
	// numRows is the file's row count.
	numRows() int64
	// text reports a text format, whose columns have no type of their own.
	text() bool
	// metadata is the file's key-value metadata.
	metadata() map[string]string
	// read fills b's columns, which are cols, with up to n rows (reset
	// first), the first of them the file's row firstRow (counted from 1);
	// it returns how many, 0 at the end.
	read(cols []ColumnInfo, b *Batch, firstRow int64, n int) (int, error)
	close()
}

// OpenTable opens a Parquet file for streaming. It reads only the footer; a
// column that does not exist, or whose kind is unsupported, is an error
// naming it. A .csv file is read through once to type its columns.
func OpenTable(ctx context.Context, path string, opts TableOptions) (*TableReader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open cohort: %w", err)
	}
	r, err := newTableReader(path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func newTableReader(path string, f *os.File, opts TableOptions) (r *TableReader, err error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r = &TableReader{path: path, f: f, size: opts.BatchSize}
	if r.size <= 0 {
		r.size = DefaultBatchSize
	}
	if IsCSV(path) {
		var cs *csvSource
		if cs, r.all, err = openCSV(path, f); err != nil {
			return nil, err
		}
		r.file = cs
	} else {
		pf, all, err := openParquet(path, f, st.Size())
		if err != nil {
			return nil, err
		}
		r.file, r.all = &parquetTable{path: path, pf: pf, rg: -1, rgEnd: len(pf.RowGroups())}, all
	}
	if err := r.Select(opts); err != nil {
		return nil, err
	}
	return r, nil
}

// ErrSelectAfterRead is the error of a Select after the first Next.
var ErrSelectAfterRead = errors.New("columns selected after reading began")

// Select chooses the columns Next returns, as TableOptions' Columns, Kinds
// and Codes say (its BatchSize is the open's), before the first Next: a
// caller reads a file's schema, opened with Columns []string{} (a Parquet
// file's footer, a CSV file's header), then asks for what it needs, without
// opening the file again. A CSV file's columns are typed here, by a pass
// over its rows, when some selected column is given no kind.
func (r *TableReader) Select(opts TableOptions) error {
	if r.read {
		return ErrSelectAfterRead
	}
	if cs, ok := r.file.(*csvSource); ok {
		all, err := cs.types(r.all, opts)
		if err != nil {
			return err
		}
		r.all = all
	}
	byName := make(map[string]int, len(r.all))
	for i, c := range r.all {
		byName[c.Name] = i
	}
	r.cols = nil
	if opts.Columns == nil {
		for _, c := range r.all {
			if c.Kind != KindUnsupported {
				r.cols = append(r.cols, c)
			}
		}
	} else {
		for _, name := range opts.Columns {
			i, ok := byName[name]
			if !ok {
				return &SchemaError{File: r.path, Column: name, Reason: ReasonMissingColumn, Want: "asked for by the caller"}
			}
			if r.all[i].Kind == KindUnsupported {
				return &SchemaError{File: r.path, Column: name, Reason: ReasonType, Found: r.all[i].Type,
					Want: "a flat numeric, boolean or string column"}
			}
			r.cols = append(r.cols, r.all[i])
		}
	}
	for k := range r.batches {
		r.batches[k].Columns = make([]Column, len(r.cols))
		for i, c := range r.cols {
			r.batches[k].Columns[i].ColumnInfo = c
		}
	}
	return nil
}

// openParquet opens the footer and describes the columns. parquet-go
// reports most bad files as errors but panics on some malformed footers (a
// leaf column annotated MAP, which FuzzReadCohort found), so a panic here is
// caught and reported as a corrupt file: a bad upload must never bring the
// process down.
func openParquet(path string, f io.ReaderAt, size int64) (pf *parquet.File, cols []ColumnInfo, err error) {
	// A CSV file named otherwise (.dat) lands here.
	const csvHint = "; a file of comma- or tab-separated values is read as such when its name ends in .csv, .tsv or .txt (or any of them with .gz)"
	if size < 12 { // "PAR1" + footer length + "PAR1"
		return nil, nil, fmt.Errorf("%s: %w: %d bytes is too short%s", path, ErrNotParquet, size, csvHint)
	}
	var head [4]byte
	var tail [8]byte // footer length (little endian) + "PAR1"
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if string(head[:]) != "PAR1" {
		return nil, nil, fmt.Errorf("%s: %w (it does not start with PAR1)%s", path, ErrNotParquet, csvHint)
	}
	if string(tail[4:]) != "PAR1" {
		return nil, nil, fmt.Errorf("%s: %w: truncated or not finished (it does not end with PAR1)", path, ErrCorrupt)
	}
	// parquet-go allocates the declared footer length before reading it: a
	// damaged length would cost up to 4 GiB of memory before the error.
	if footer := int64(binary.LittleEndian.Uint32(tail[:4])); footer > size-12 {
		return nil, nil, fmt.Errorf("%s: %w: footer length %d exceeds the file size %d", path, ErrCorrupt, footer, size)
	}
	defer func() {
		if p := recover(); p != nil {
			pf, cols, err = nil, nil, fmt.Errorf("%s: %w: footer cannot be decoded (%v)", path, ErrCorrupt, p)
		}
	}()
	pf, err = parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %v", path, ErrCorrupt, err)
	}
	if err := checkFooter(pf, size); err != nil {
		return nil, nil, fmt.Errorf("%s: %w: %v", path, ErrCorrupt, err)
	}
	return pf, describeColumns(pf), nil
}

// checkFooter rejects footers whose numbers cannot be right, before any page
// is read from the offsets they give.
func checkFooter(pf *parquet.File, size int64) error {
	md := pf.Metadata()
	var rows int64
	leaves := len(pf.Schema().Columns())
	for i, rg := range md.RowGroups {
		if rg.NumRows < 0 {
			return fmt.Errorf("row group %d has %d rows", i, rg.NumRows)
		}
		rows += rg.NumRows
		if len(rg.Columns) != leaves {
			return fmt.Errorf("row group %d has %d column chunks for %d columns", i, len(rg.Columns), leaves)
		}
		for j, cc := range rg.Columns {
			m := cc.MetaData
			if m.DataPageOffset < 4 || m.DataPageOffset >= size || m.TotalCompressedSize < 0 ||
				m.DataPageOffset+m.TotalCompressedSize > size || (m.DictionaryPageOffset != 0 && (m.DictionaryPageOffset < 4 || m.DictionaryPageOffset >= size)) {
				return fmt.Errorf("row group %d column %d points outside the file", i, j)
			}
		}
	}
	if rows != md.NumRows {
		return fmt.Errorf("row groups hold %d rows, footer says %d", rows, md.NumRows)
	}
	return nil
}

// describeColumns maps the file's top-level fields to ColumnInfo. Only flat
// leaves directly under the root are readable; anything nested is listed as
// unsupported so that it can be named in errors.
func describeColumns(pf *parquet.File) []ColumnInfo {
	var out []ColumnInfo
	for _, c := range pf.Root().Columns() {
		info := ColumnInfo{Name: c.Name(), Optional: c.Optional(), index: -1}
		if !c.Leaf() || c.Repeated() {
			info.Type = "nested or repeated"
			out = append(out, info)
			continue
		}
		info.index = c.Index()
		info.Kind, info.Type, info.scale, info.unsigned = classify(c.Type())
		out = append(out, info)
	}
	return out
}

func classify(t parquet.Type) (k Kind, name string, scale int, unsigned bool) {
	var lt format.LogicalTypeValue
	if l := t.LogicalType(); l != nil {
		lt = l.Value
	}
	switch lt.(type) {
	case *format.MapType, *format.ListType:
		// A group's annotation on a leaf: a malformed file, whose type
		// parquet-go cannot name (its Kind panics).
		return KindUnsupported, "a leaf annotated as a map or list", 0, false
	}
	var ct *deprecated.ConvertedType
	if lt == nil {
		ct = t.ConvertedType() // files from writers older than logical types
	}
	switch t.Kind() {
	case parquet.Boolean:
		return KindBool, "BOOLEAN", 0, false
	case parquet.Float:
		return KindFloat, "FLOAT", 0, false
	case parquet.Double:
		return KindFloat, "DOUBLE", 0, false
	case parquet.Int32, parquet.Int64:
		phys := "INT32"
		if t.Kind() == parquet.Int64 {
			phys = "INT64"
		}
		switch l := lt.(type) {
		case nil:
			if ct != nil {
				switch *ct {
				case deprecated.Int8, deprecated.Int16, deprecated.Int32, deprecated.Int64:
					return KindInt, phys, 0, false
				case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
					return KindInt, "U" + phys, 0, true
				default:
					return KindUnsupported, phys + " (" + t.String() + ")", 0, false
				}
			}
			return KindInt, phys, 0, false
		case *format.DecimalType:
			return KindFloat, fmt.Sprintf("DECIMAL(%d,%d)", l.Precision, l.Scale), int(l.Scale), false
		case *format.IntType:
			if !l.IsSigned {
				return KindInt, fmt.Sprintf("UINT%d", l.BitWidth), 0, true
			}
			return KindInt, fmt.Sprintf("INT%d", l.BitWidth), 0, false
		default:
			return KindUnsupported, phys + " (" + t.String() + ")", 0, false
		}
	case parquet.ByteArray:
		switch lt.(type) {
		case *format.StringType, *format.EnumType, *format.JsonType:
			return KindString, "STRING", 0, false
		case nil:
			if ct == nil || *ct == deprecated.UTF8 || *ct == deprecated.Enum || *ct == deprecated.Json {
				return KindString, "STRING", 0, false
			}
		}
		return KindUnsupported, t.String(), 0, false
	default:
		return KindUnsupported, t.String(), 0, false
	}
}

// Path returns the file the reader reads.
func (r *TableReader) Path() string { return r.path }

// NumRows returns the number of rows the footer declares; a CSV file's
// rows are counted by the pass that typed its columns, or when first asked.
func (r *TableReader) NumRows() int64 { return r.file.numRows() }

// Text reports whether the file is text (CSV), whose columns have no type
// of their own.
func (r *TableReader) Text() bool { return r.file.text() }

// Schema returns every top-level column of the file, including unsupported ones.
func (r *TableReader) Schema() []ColumnInfo { return append([]ColumnInfo(nil), r.all...) }

// Columns returns the columns the reader returns, in batch order.
func (r *TableReader) Columns() []ColumnInfo { return append([]ColumnInfo(nil), r.cols...) }

// Metadata returns the file's key-value metadata (a CSV file's sidecar,
// PATH.meta.json, when it has one).
func (r *TableReader) Metadata() map[string]string { return r.file.metadata() }

// Next returns the next batch of rows, or io.EOF after the last. The batch and
// its slices are reused by the second call to Next after it (not the
// first, so that a caller may read a batch ahead while it works on one):
// copy what you keep.
func (r *TableReader) Next(ctx context.Context) (*Batch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.read = true
	b := &r.batches[r.turn]
	r.turn ^= 1
	n, err := r.file.read(r.cols, b, r.row+1, r.size)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, io.EOF
	}
	b.FirstRow, b.Len = r.row+1, n
	r.row += int64(n)
	return b, nil
}

// ErrShard is a shard that cannot be read: a CSV file (no row groups), a
// part outside 1..n, or a shard asked for after reading began.
var ErrShard = errors.New("shard")

// Shard restricts the reader, before its first Next, to the i-th of n
// parts of a Parquet file (i from 1): its row groups from (i-1)*G/n to
// i*G/n of G, so that n processes score a file between them and their
// outputs, in order, are the whole file's. Rows keep their numbers in the
// whole file. A part may hold no row group (n above G).
func (r *TableReader) Shard(i, n int) error {
	t, ok := r.file.(*parquetTable)
	switch {
	case !ok:
		return fmt.Errorf("%s: %w: a CSV file has no row groups to share out: convert it to Parquet (abscopal validate --data FILE.csv --out FILE.parquet) to score it in parts", r.path, ErrShard)
	case n < 1 || i < 1 || i > n:
		return fmt.Errorf("%s: %w %d/%d: want i/n with 1 <= i <= n", r.path, ErrShard, i, n)
	case r.read || t.rg >= 0:
		return fmt.Errorf("%s: %w asked for after reading began", r.path, ErrShard)
	}
	groups := t.pf.RowGroups()
	from, to := (i-1)*len(groups)/n, i*len(groups)/n
	for _, g := range groups[:from] {
		r.row += g.NumRows() // the part's rows keep their numbers
	}
	t.rg, t.rgEnd = from-1, to
	return nil
}

// Close releases the file.
func (r *TableReader) Close() error {
	r.file.close()
	return r.f.Close()
}

// parquetTable is a Parquet file's side of a TableReader: it reads row
// group by row group, a batch never crossing one.
type parquetTable struct {
	path    string
	pf      *parquet.File
	rgEnd   int               // the row group after the last to read (Shard)
	rg      int               // current row group
	rgLeft  int64             // rows left in the current row group
	cursors []*columnCursor   // one per selected column, for the current row group
	values  [][]parquet.Value // per selected column, a scratch buffer for decoding
	// generic reads every page value by value (columnCursor.generic).
	generic bool
}

func (t *parquetTable) numRows() int64 { return t.pf.NumRows() }

func (t *parquetTable) text() bool { return false }

func (t *parquetTable) metadata() map[string]string {
	m := map[string]string{}
	for _, kv := range t.pf.Metadata().KeyValueMetadata {
		m[kv.Key] = kv.Value
	}
	return m
}

func (t *parquetTable) read(cols []ColumnInfo, b *Batch, firstRow int64, size int) (n int, err error) {
	// Malformed pages can make parquet-go's decoders panic; see openParquet.
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("%s: %w: row group %d cannot be decoded (%v)", t.path, ErrCorrupt, t.rg, p)
		}
	}()
	for t.rgLeft == 0 {
		if err := t.nextRowGroup(cols); errors.Is(err, io.EOF) {
			return 0, nil
		} else if err != nil {
			return 0, err
		}
	}
	n = int(min(int64(size), t.rgLeft))
	if len(t.values) < len(b.Columns) {
		t.values = make([][]parquet.Value, len(b.Columns))
	}
	// The columns are decoded side by side; the error is that of the
	// first column that fails, as one pass would report.
	if err := parallel.For(context.Background(), len(b.Columns), func(i int) error {
		return t.readColumn(i, &b.Columns[i], n, firstRow)
	}); err != nil {
		return 0, err
	}
	t.rgLeft -= int64(n)
	return n, nil
}

// readColumn reads the next n values of the i-th column into c.
func (t *parquetTable) readColumn(i int, c *Column, n int, firstRow int64) (err error) {
	// Malformed pages can make parquet-go's decoders panic (see
	// openParquet); each column's goroutine recovers its own.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: %w: row group %d cannot be decoded (%v)", t.path, ErrCorrupt, t.rg, p)
		}
	}()
	c.reset()
	if err := t.cursors[i].read(c, n, &t.values[i]); err != nil {
		var bad *notUTF8Error
		if errors.As(err, &bad) {
			return &RowError{File: t.path, Row: firstRow + int64(bad.index), FieldError: &FieldError{
				Field: c.Name, Reason: ReasonType, Value: fmt.Sprintf("%q", bad.value), Allowed: "UTF-8 text (re-encode the column from its code page)"}}
		}
		return fmt.Errorf("%s: %w: row group %d, column %s: %v", t.path, ErrCorrupt, t.rg, c.Name, err)
	}
	return nil
}

func (t *parquetTable) nextRowGroup(cols []ColumnInfo) error {
	old := t.cursors
	t.closeCursors()
	groups := t.pf.RowGroups()
	t.rg++
	if t.rg >= len(groups) || t.rg >= t.rgEnd {
		return io.EOF
	}
	rg := groups[t.rg]
	t.rgLeft = rg.NumRows()
	chunks := rg.ColumnChunks()
	t.cursors = make([]*columnCursor, len(cols))
	for i, c := range cols {
		cc := &columnCursor{}
		if i < len(old) { // the decoding buffers, at their grown size
			*cc = columnCursor{typed: old[i].typed, dict: old[i].dict}
			cc.dict.of = nil
		}
		cc.pages, cc.generic = chunks[c.index].Pages(), t.generic
		t.cursors[i] = cc
	}
	return nil
}

func (t *parquetTable) closeCursors() {
	for _, c := range t.cursors {
		c.close()
	}
	t.cursors = nil
}

func (t *parquetTable) close() { t.closeCursors() }

// ReadTable reads the named columns (nil: all supported ones) of a whole file
// into memory. It suits files of thousands of rows, such as a research cohort;
// stream large files with a TableReader.
func ReadTable(ctx context.Context, path string, columns []string) (*Batch, error) {
	r, err := OpenTable(ctx, path, TableOptions{Columns: columns})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := &Batch{FirstRow: 1, Columns: make([]Column, len(r.cols))}
	for i, c := range r.cols {
		out.Columns[i].ColumnInfo = c
	}
	for {
		b, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out.Len += b.Len
		for i := range b.Columns {
			src, dst := &b.Columns[i], &out.Columns[i]
			dst.Valid = append(dst.Valid, src.Valid...)
			dst.Num = append(dst.Num, src.Num...)
			dst.Int = append(dst.Int, src.Int...)
			dst.Bool = append(dst.Bool, src.Bool...)
			dst.Str = append(dst.Str, src.Str...)
		}
	}
}

// columnCursor reads one column chunk page by page: a page it can decode
// whole into the column's kind (decodePage) row by row from that, any
// other value by value through parquet-go's ValueReader.
type columnCursor struct {
	pages  parquet.Pages
	page   parquet.Page
	values parquet.ValueReader // the page read value by value, or nil
	typed  typedPage           // the page decoded, when values is nil and page is not
	dict   pageDict
	// generic reads every page value by value, as tests do to compare.
	generic bool
}

// read appends n values to c. Values are decoded into c before their page is
// released: byte-array values point into page buffers that get reused.
func (cc *columnCursor) read(c *Column, n int, scratch *[]parquet.Value) error {
	for n > 0 {
		if cc.page == nil {
			page, err := cc.pages.ReadPage()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return fmt.Errorf("%d values missing", n)
				}
				return err
			}
			cc.page = page
			if cc.generic || !decodePage(page, c, &cc.typed, &cc.dict) {
				cc.values = page.Values()
			}
		}
		if cc.values != nil {
			k, err := cc.readValues(c, n, scratch)
			if err != nil {
				return err
			}
			n -= k
			continue
		}
		k, err := cc.typed.appendRows(c, n)
		if err != nil {
			return err
		}
		n -= k
		if cc.typed.row == cc.typed.rows {
			cc.releasePage()
		} else if k == 0 {
			return fmt.Errorf("page yields no values")
		}
	}
	return nil
}

// readValues appends up to n values of the page read value by value, and
// returns how many; it releases the page at its end.
func (cc *columnCursor) readValues(c *Column, n int, scratch *[]parquet.Value) (int, error) {
	if cap(*scratch) < 1024 {
		*scratch = make([]parquet.Value, 1024)
	}
	buf := (*scratch)[:cap(*scratch)]
	k, err := cc.values.ReadValues(buf[:min(n, len(buf))])
	for _, v := range buf[:k] {
		if v.RepetitionLevel() != 0 {
			return 0, fmt.Errorf("repeated values in a flat column")
		}
		if !c.append(v) {
			return 0, notUTF8(len(c.Valid), v.ByteArray())
		}
	}
	if err != nil {
		if !errors.Is(err, io.EOF) {
			return 0, err
		}
		cc.releasePage()
	} else if k == 0 {
		return 0, fmt.Errorf("page yields no values")
	}
	return k, nil
}

func (cc *columnCursor) releasePage() {
	if cc.page != nil {
		parquet.Release(cc.page)
	}
	cc.page, cc.values = nil, nil
}

func (cc *columnCursor) close() {
	cc.releasePage()
	cc.pages.Close()
}

// append decodes one Parquet value into the column; it is false, and
// appends nothing, for text that is not UTF-8.
func (c *Column) append(v parquet.Value) bool {
	if v.IsNull() {
		c.appendNull()
		return true
	}
	switch c.Kind {
	case KindFloat:
		var x float64
		switch v.Kind() {
		case parquet.Float:
			x = float64(v.Float())
		case parquet.Double:
			x = v.Double()
		case parquet.Int32:
			x = float64(v.Int32()) / math.Pow10(c.scale)
		case parquet.Int64:
			x = float64(v.Int64()) / math.Pow10(c.scale)
		}
		c.Valid, c.Num = append(c.Valid, !math.IsNaN(x)), append(c.Num, x)
	case KindInt:
		var i int64
		switch {
		case v.Kind() == parquet.Int32 && c.unsigned:
			i = int64(uint32(v.Int32()))
		case v.Kind() == parquet.Int32:
			i = int64(v.Int32())
		default:
			i = v.Int64()
		}
		c.Valid, c.Int, c.Num = append(c.Valid, true), append(c.Int, i), append(c.Num, float64(i))
	case KindBool:
		c.Valid, c.Bool = append(c.Valid, true), append(c.Bool, v.Boolean())
	case KindString:
		b := v.ByteArray()
		s, ok := c.intern[string(b)] // the conversion in a map index does not allocate; interned text is UTF-8
		if !ok {
			if !utf8.Valid(b) {
				return false
			}
			s = c.share(string(b))
		}
		c.Valid, c.Str = append(c.Valid, true), append(c.Str, s)
	}
	return true
}

// notUTF8Error is a text value that is not UTF-8, the index-th of its
// batch. Parquet's strings are UTF-8 (a writer given Latin-1 bytes, or an
// unannotated BYTE_ARRAY column, can break that), and passed on such text
// would make Parquet outputs, an id among their columns, that DuckDB and
// Arrow refuse to read.
type notUTF8Error struct {
	index int
	value []byte
}

func (e *notUTF8Error) Error() string { return fmt.Sprintf("%q is not UTF-8 text", e.value) }

// notUTF8 is the error of text b, the index-th value of its batch, keeping
// at most 64 of its bytes.
func notUTF8(index int, b []byte) *notUTF8Error {
	return &notUTF8Error{index: index, value: bytes.Clone(b[:min(len(b), 64)])}
}

// appendNull appends a null: invalid, with its kind's zero value.
func (c *Column) appendNull() {
	c.Valid = append(c.Valid, false)
	switch c.Kind {
	case KindFloat:
		c.Num = append(c.Num, 0)
	case KindInt:
		c.Num, c.Int = append(c.Num, 0), append(c.Int, 0)
	case KindBool:
		c.Bool = append(c.Bool, false)
	case KindString:
		c.Str = append(c.Str, "")
	}
}

// internText returns the column's shared copy of s, keeping one while the
// column shares fewer than maxInterned strings.
func (c *Column) internText(s string) string {
	if t, ok := c.intern[s]; ok {
		return t
	}
	return c.share(strings.Clone(s)) // a CSV field is a slice of its whole line
}

// share keeps s, a string of the column's own not yet among its shared
// ones, as the shared copy of its text while there is room, and returns
// it. A value read from a page is a copy already (string(b)), looked up
// already: internText would look it up and copy it again, two map
// lookups and two allocations for each value of an id column.
func (c *Column) share(s string) string {
	if c.intern == nil {
		c.intern = map[string]string{}
	}
	if len(c.intern) < maxInterned {
		c.intern[s] = s
	}
	return s
}
