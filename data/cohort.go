package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/abscopal/abscopal/internal/parallel"
)

// Policy says what a CohortReader does with a row that breaks the schema.
type Policy int

const (
	// FailFast stops at the first invalid row with a *RowError.
	FailFast Policy = iota
	// SkipInvalid drops invalid rows, counts them per reason in the Report
	// and passes each problem to CohortOptions.OnInvalid.
	SkipInvalid
)

// CohortOptions configure a CohortReader.
type CohortOptions struct {
	Policy    Policy
	BatchSize int // rows per batch; default DefaultBatchSize
	// OnInvalid, if set, is called with every problem of every invalid row
	// (SkipInvalid only). It must not keep the error beyond the call's needs:
	// it may hold patient values.
	OnInvalid func(*RowError)
	// CheckDuplicateIDs reports a patient_id seen before as invalid. It keeps
	// every id in memory (about 50 bytes a row).
	CheckDuplicateIDs bool
	// Extra names columns outside the schema (a centre, a site) to read
	// along with each patient, for NextExtra; each must be in the file.
	Extra []string
}

// Report summarizes what a CohortReader has read so far.
type Report struct {
	File     string            `json:"file"`
	Rows     int64             `json:"rows"`      // rows read
	Valid    int64             `json:"valid"`     // rows returned
	Invalid  int64             `json:"invalid"`   // rows rejected (SkipInvalid)
	ByReason map[Reason]int64  `json:"by_reason"` // problems per reason; a row may have several
	Nulls    map[string]int64  `json:"nulls"`     // nulls per cohort column present in the file
	Present  []string          `json:"present"`   // cohort columns found in the file, in schema order
	Absent   []string          `json:"absent"`    // optional cohort columns not in the file (all null)
	Ignored  []string          `json:"ignored"`   // columns of the file that are not in the cohort schema
	Types    map[string]string `json:"types"`     // Parquet type of each cohort column present
}

// CohortReader streams a cohort file as validated Patients.
type CohortReader struct {
	tr     *TableReader
	opts   CohortOptions
	fields []Field // the schema, in order
	col    []int   // per field: its column in the batch, or -1
	report Report
	nulls  []int64 // per field, its nulls so far: Report's Nulls
	ids    map[string]int64
	extra  []int // per CohortOptions.Extra: its column in the batch
	text   bool  // CSV: the schema's columns come as text, parsed here
	// ahead delivers the batch after the one being converted, read on
	// another goroutine meanwhile; nil when none is being read.
	ahead chan readAhead
}

// readAhead is the result of a TableReader.Next.
type readAhead struct {
	b   *Batch
	err error
}

// nextBatch returns the table's next batch and starts reading the one
// after it, which the TableReader keeps in its other buffer.
func (r *CohortReader) nextBatch(ctx context.Context) (*Batch, error) {
	var next readAhead
	if r.ahead != nil {
		next = <-r.ahead
		r.ahead = nil
	} else {
		next.b, next.err = r.tr.Next(ctx)
	}
	if next.err == nil {
		r.ahead = make(chan readAhead, 1)
		go func(ch chan<- readAhead) {
			b, err := r.tr.Next(ctx)
			ch <- readAhead{b, err}
		}(r.ahead)
	}
	return next.b, next.err
}

// OpenCohort opens a cohort file and checks its columns against the schema:
// a missing required column, or a column of the wrong type, is a
// *SchemaError (wrapping ErrSchema). Columns that are not in the schema are
// ignored and listed in the Report.
func OpenCohort(ctx context.Context, path string, opts CohortOptions) (*CohortReader, error) {
	tr, err := OpenTable(ctx, path, TableOptions{Columns: []string{}, BatchSize: opts.BatchSize})
	if err != nil {
		return nil, err
	}
	r, err := NewCohortReader(tr, opts)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return r, nil
}

// NewCohortReader reads a cohort from tr, a table opened with no column
// selected (its schema only: TableOptions.Columns []string{}), which it
// takes over: the reader's Close closes it. It checks the file's columns
// as OpenCohort does; on error, tr is the caller's to close.
func NewCohortReader(tr *TableReader, opts CohortOptions) (*CohortReader, error) {
	fields := CohortFields()
	// A CSV file's schema columns come as text, each value parsed as its
	// field's kind when read: a bad one makes its row invalid, not the file.
	asText := make(map[string]Kind, len(fields))
	for _, f := range fields {
		asText[f.Name] = KindString
	}
	path, fileCols, text := tr.Path(), tr.Schema(), tr.Text()

	byName := map[string]ColumnInfo{}
	for _, c := range fileCols {
		byName[c.Name] = c
	}
	// A schema column's name in other case or with spaces (a spreadsheet's
	// "RT_dose_gy", " alc") is surely that column: ignored, it would leave
	// the field null, imputed in every row without a word.
	for _, c := range fileCols {
		if _, ok := CohortField(c.Name); ok {
			continue
		}
		for _, f := range fields {
			if strings.EqualFold(strings.TrimSpace(c.Name), f.Name) {
				return nil, &SchemaError{File: path, Column: f.Name, Reason: ReasonMisnamed, Found: c.Name}
			}
		}
	}
	// A file that shares few of the schema's columns is likely a file of
	// other columns, not a cohort file missing one: tell its owner the way.
	shared := 0
	for _, f := range fields {
		if _, ok := byName[f.Name]; ok {
			shared++
		}
	}
	var hint string
	foreign := 2*shared <= len(fields)
	if foreign {
		hint = fmt.Sprintf("the file has %d of the cohort schema's %d columns (abscopal schema)", shared, len(fields))
	}
	r := &CohortReader{opts: opts, fields: fields, col: make([]int, len(fields)), nulls: make([]int64, len(fields)), text: text}
	r.report = Report{File: path, ByReason: map[Reason]int64{}, Types: map[string]string{}}
	var read []string
	for i, f := range fields {
		c, ok := byName[f.Name]
		if !ok {
			if f.Required {
				want := kindWant(f)
				if text {
					want = f.KindName() + ": " + f.Allowed() // a CSV column has no type to name
				}
				return nil, &SchemaError{File: path, Column: f.Name, Reason: ReasonMissingColumn, Want: want, Hint: hint, Foreign: foreign}
			}
			r.col[i] = -1
			if !f.Synthetic {
				r.report.Absent = append(r.report.Absent, f.Name)
			}
			continue
		}
		if !text {
			if err := checkColumnType(path, f, c); err != nil {
				return nil, err
			}
		}
		r.col[i] = len(read)
		read = append(read, f.Name)
		r.report.Present = append(r.report.Present, f.Name)
		r.report.Types[f.Name] = c.Type
	}
	for _, name := range opts.Extra {
		if _, ok := CohortField(name); ok {
			return nil, fmt.Errorf("%s: column %s is in the cohort schema: it is read as a patient field, not an extra column", path, name)
		}
		if _, ok := byName[name]; !ok {
			return nil, &SchemaError{File: path, Column: name, Reason: ReasonMissingColumn, Want: "asked for by the caller"}
		}
		r.extra = append(r.extra, len(read))
		read = append(read, name)
	}
	for _, c := range fileCols {
		if _, ok := CohortField(c.Name); !ok && !slices.Contains(opts.Extra, c.Name) {
			r.report.Ignored = append(r.report.Ignored, c.Name)
		}
	}
	if err := tr.Select(TableOptions{Columns: read, Kinds: asText}); err != nil {
		return nil, err
	}
	r.tr = tr
	if opts.CheckDuplicateIDs {
		r.ids = map[string]int64{}
	}
	return r, nil
}

func kindWant(f Field) string {
	switch f.Kind {
	case KindFloat:
		return "DOUBLE or FLOAT"
	case KindInt:
		return "an integer type (INT32 or INT64), or DOUBLE holding whole numbers"
	case KindBool:
		return "BOOLEAN"
	default:
		return "STRING"
	}
}

// checkColumnType refuses every conversion that could change a value. A
// floating-point column where the schema wants integers is read, each
// value checked to be whole (Field.Check refuses 45.5, naming the row, the
// column and the value, rather than truncating it): pandas writes an
// integer column with nulls as DOUBLE. An integer column where the schema
// wants a float usually means the wrong column was exported, and is
// refused rather than guessed at. DECIMAL is accepted for float fields:
// converting it loses no more than writing the number as a double would.
func checkColumnType(path string, f Field, c ColumnInfo) error {
	ok := false
	switch f.Kind {
	case KindFloat:
		ok = c.Kind == KindFloat
	case KindInt:
		ok = c.Kind == KindInt || c.Kind == KindFloat
	default:
		ok = c.Kind == f.Kind
	}
	if ok {
		return nil
	}
	e := &SchemaError{File: path, Column: f.Name, Reason: ReasonType, Found: c.Type, Want: kindWant(f)}
	if f.Kind == KindFloat && c.Kind == KindInt {
		e.Hint = "cast the column to DOUBLE (e.g. CAST(" + f.Name + " AS DOUBLE) in DuckDB, .astype('float64') in pandas)"
	}
	return e
}

// Next returns the next batch of valid patients, or io.EOF after the last.
// With FailFast the first invalid row ends the read with a *RowError.
// Patients of a batch may point to the same value (the same level of a
// categorical field): give a patient a new value by setting its pointer,
// not by writing through it.
func (r *CohortReader) Next(ctx context.Context) ([]Patient, error) {
	ps, _, err := r.NextExtra(ctx)
	return ps, err
}

// NextExtra is Next, with each patient's values of the CohortOptions.Extra
// columns, in their order (nil without extra columns).
func (r *CohortReader) NextExtra(ctx context.Context) ([]Patient, [][]Value, error) {
	words := (len(r.fields) + 63) / 64
	for {
		b, err := r.nextBatch(ctx)
		if err != nil {
			return nil, nil, err
		}
		// Each row is converted and checked on its own, in fixed chunks of
		// the batch side by side; then, in row order, what needs the rows
		// before it: the duplicate ids, the counts, the first invalid row.
		ps, problemsOf := make([]Patient, b.Len), make([][]*FieldError, b.Len)
		nulls := make([]uint64, b.Len*words) // per row, a bit per null field
		chunks := 1
		if b.Len >= convertChunkRows {
			chunks = convertChunks
		}
		parallel.For(ctx, chunks, func(c int) error {
			r.convert(b, ps, problemsOf, nulls, words, c*b.Len/chunks, (c+1)*b.Len/chunks)
			return nil
		})
		out := ps[:0] // the valid patients, moved down in place
		var extras [][]Value
		for i := range ps {
			row := b.FirstRow + int64(i)
			r.report.Rows++
			for w, set := range nulls[i*words : (i+1)*words] {
				for ; set != 0; set &= set - 1 {
					r.nulls[w*64+bits.TrailingZeros64(set)]++
				}
			}
			p, problems := &ps[i], problemsOf[i]
			if r.ids != nil && p.PatientID != "" {
				if first, dup := r.ids[p.PatientID]; dup {
					problems = append(problems, &FieldError{Field: "patient_id", Reason: ReasonDuplicateID,
						Value: fmt.Sprintf("%q", p.PatientID), Detail: fmt.Sprintf("first seen in row %d", first)})
				} else {
					r.ids[p.PatientID] = row
				}
			}
			if len(problems) == 0 {
				r.report.Valid++
				if len(out) < i { // not in place: a row before it was invalid
					out = append(out, *p)
				} else {
					out = out[:i+1]
				}
				if len(r.extra) > 0 {
					vs := make([]Value, len(r.extra))
					for k, ci := range r.extra {
						vs[k] = b.Columns[ci].Value(i)
					}
					extras = append(extras, vs)
				}
				continue
			}
			if r.opts.Policy == FailFast {
				return nil, nil, &RowError{File: r.tr.Path(), Row: row, FieldError: problems[0]}
			}
			r.report.Invalid++
			for _, pr := range problems {
				r.report.ByReason[pr.Reason]++
				if r.opts.OnInvalid != nil {
					r.opts.OnInvalid(&RowError{File: r.tr.Path(), Row: row, FieldError: pr})
				}
			}
		}
		if len(out) > 0 {
			return out, extras, nil
		}
	}
}

// convertChunks is the number of chunks of a batch of at least
// convertChunkRows rows converted side by side: fixed, so that nothing
// depends on the number of cores.
const (
	convertChunks    = 4
	convertChunkRows = 512
)

// convertBlock is the number of rows convert takes a column at a time: the
// block's patients (about 400 bytes each) and its column values stay in
// the cache while every column is set, where row by row each patient read
// from some 30 columns at once and missed the cache on most.
const convertBlock = 256

// convert converts rows lo to hi of b into ps, with the problems of each
// row's own values in problemsOf (in field order), and marks their null
// fields in nulls (words per row).
func (r *CohortReader) convert(b *Batch, ps []Patient, problemsOf [][]*FieldError, nulls []uint64, words, lo, hi int) {
	var values slab
	for blo := lo; blo < hi; blo += convertBlock {
		bhi := min(blo+convertBlock, hi)
		for fi := range r.fields {
			if ci := r.col[fi]; ci >= 0 { // an absent column is optional: OpenCohort checked
				r.convertColumn(fi, &b.Columns[ci], ps, problemsOf, nulls, words, blo, bhi, &values)
			}
		}
		for i := blo; i < bhi; i++ {
			if len(problemsOf[i]) == 0 {
				problemsOf[i] = ps[i].checkConsistency()
			}
		}
	}
}

// convertColumn sets field fi of patients lo to hi from column c. Each
// value is checked as it is set, rather than by Patient.Validate, which
// would read every field back; a value that fails is left unset, its
// problem appended to its row's.
func (r *CohortReader) convertColumn(fi int, c *Column, ps []Patient, problemsOf [][]*FieldError, nulls []uint64, words, lo, hi int, values *slab) {
	f := &r.fields[fi]
	word, bit := fi/64, uint64(1)<<(fi%64)
	null := func(i int) {
		nulls[i*words+word] |= bit
		if f.Required {
			problemsOf[i] = append(problemsOf[i], f.Check(Null).(*FieldError))
		}
	}
	fail := func(i int, v Value) bool {
		if err := f.Check(v); err != nil {
			problemsOf[i] = append(problemsOf[i], err.(*FieldError))
			return true
		}
		return false
	}
	switch {
	case r.text:
		// Each value is parsed as its field's kind first.
		for i := lo; i < hi; i++ {
			v := c.Value(i)
			if v.Valid {
				var fe *FieldError
				if v, fe = f.ParseText(v.Str, c.DecimalComma); fe != nil {
					problemsOf[i] = append(problemsOf[i], fe)
					continue
				}
			}
			if !v.Valid {
				null(i)
			} else if !fail(i, v) {
				f.set(&ps[i], v, values)
			}
		}
	case f.Kind == KindFloat || f.Kind == KindInt:
		// A value in range is finite; one outside, or not whole for an
		// integer field, gets Check's error.
		lower, upper := math.Inf(-1), math.Inf(1)
		if f.HasRange {
			lower, upper = f.Min, f.Max
		}
		floatAt, isFloat := f.at.(func(*Patient) **float64)
		intAt, _ := f.at.(func(*Patient) **int)
		for i := lo; i < hi; i++ {
			if !c.Valid[i] {
				null(i)
				continue
			}
			x := c.Num[i]
			if !(x >= lower && x <= upper) || math.IsInf(x, 0) || (f.Kind == KindInt && x != math.Trunc(x)) {
				fail(i, Float(x))
				continue
			}
			if isFloat {
				*floatAt(&ps[i]) = values.float(x)
			} else {
				*intAt(&ps[i]) = values.int(int(x))
			}
		}
	case f.Kind == KindBool:
		at := f.at.(func(*Patient) **bool)
		var shared [2]*bool // false and true, stored once for the block
		for i := lo; i < hi; i++ {
			if !c.Valid[i] {
				null(i)
				continue
			}
			b := c.Bool[i]
			k := 0
			if b {
				k = 1
			}
			if shared[k] == nil {
				shared[k] = values.bool(b)
			}
			*at(&ps[i]) = shared[k]
		}
	default:
		if idAt, isID := f.idAt(); isID {
			for i := lo; i < hi; i++ {
				if !c.Valid[i] {
					null(i)
				} else if s := c.Str[i]; !fail(i, String(s)) {
					*idAt(&ps[i]) = s
				}
			}
			return
		}
		// A level is checked, and stored, once for the block: its
		// patients share it. Checking and storing every value was a
		// third of setting a block's columns.
		enumAt := f.at.(func(*Patient) **string)
		var known [8]struct {
			s  string
			at *string
		}
		n := 0
	rows:
		for i := lo; i < hi; i++ {
			if !c.Valid[i] {
				null(i)
				continue
			}
			s := c.Str[i]
			for _, k := range known[:n] {
				if k.s == s {
					*enumAt(&ps[i]) = k.at
					continue rows
				}
			}
			if fail(i, String(s)) {
				continue
			}
			at := values.string(s)
			if n < len(known) {
				known[n].s, known[n].at = s, at
				n++
			}
			*enumAt(&ps[i]) = at
		}
	}
}

// Report returns the counts so far; after io.EOF they cover the whole file.
func (r *CohortReader) Report() Report {
	rep := r.report
	rep.ByReason = maps.Clone(r.report.ByReason)
	rep.Nulls = map[string]int64{}
	for fi, n := range r.nulls {
		if n > 0 {
			rep.Nulls[r.fields[fi].Name] = n
		}
	}
	return rep
}

// Synthetic reports whether a file of these columns and key-value metadata
// is synthetic: labelled so (abscopal.synthetic=true), or holding a
// generator's ground-truth column (true_p_abscopal, true_p_response), which
// a synthetic cohort keeps when it passes through a tool that drops Parquet
// metadata (DuckDB's COPY, pandas) or through CSV.
func Synthetic(columns []string, md map[string]string) bool {
	if md["abscopal.synthetic"] == "true" {
		return true
	}
	for _, c := range columns {
		if f, ok := CohortField(c); ok && f.Synthetic {
			return true
		}
	}
	return false
}

// Synthetic reports whether the file is synthetic (see the function
// Synthetic).
func (r *CohortReader) Synthetic() bool { return Synthetic(r.report.Present, r.tr.Metadata()) }

// Metadata returns the file's key-value metadata (a CSV file's sidecar).
func (r *CohortReader) Metadata() map[string]string { return r.tr.Metadata() }

// Columns describes the columns read, in the batch's order: the schema's
// present in the file, then the extra ones. A CSV file's schema columns are
// read as text.
func (r *CohortReader) Columns() []ColumnInfo { return r.tr.Columns() }

// ExtraColumns describes the CohortOptions.Extra columns, in their order:
// their kinds as read (a CSV file's typed from their values).
func (r *CohortReader) ExtraColumns() []ColumnInfo {
	cols := r.tr.Columns()
	out := make([]ColumnInfo, len(r.extra))
	for k, ci := range r.extra {
		out[k] = cols[ci]
	}
	return out
}

// NumRows returns the number of rows the file declares.
func (r *CohortReader) NumRows() int64 { return r.tr.NumRows() }

// Close releases the file.
func (r *CohortReader) Close() error {
	if r.ahead != nil {
		<-r.ahead // the file stays open until the batch read ahead is in
		r.ahead = nil
	}
	return r.tr.Close()
}

// ReadCohort reads a whole cohort file with FailFast. Use it for files that fit
// in memory (training sets); stream larger ones with OpenCohort.
func ReadCohort(ctx context.Context, path string) ([]Patient, error) {
	r, err := OpenCohort(ctx, path, CohortOptions{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var all []Patient
	for {
		ps, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			return all, nil
		}
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
}

// CohortWriteOptions configure WriteCohort and CreateCohort.
type CohortWriteOptions struct {
	WriteOptions
	// Synthetic adds the ground-truth columns (true_p_*) and labels the file
	// "abscopal.synthetic=true" in its metadata.
	Synthetic bool
}

// CohortWriter writes Patients to a cohort file atomically.
type CohortWriter struct {
	tw     RowWriter
	path   string
	rows   int64
	fields []Field
	vals   []Value
}

// CreateCohort starts a cohort file at path: Parquet, or CSV for a .csv
// path (its metadata, the synthetic label among it, in PATH.meta.json), as
// CreateRows does; another extension is an error wrapping ErrExtension.
func CreateCohort(path string, opts CohortWriteOptions) (*CohortWriter, error) {
	var fields []Field
	for _, f := range CohortFields() {
		if f.Synthetic && !opts.Synthetic {
			continue
		}
		fields = append(fields, f)
	}
	specs := make([]ColumnSpec, len(fields))
	for i, f := range fields {
		_, id := f.idAt()
		specs[i] = ColumnSpec{Name: f.Name, Kind: f.Kind, Optional: !f.Required, Distinct: id}
	}
	md := maps.Clone(opts.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	md["abscopal.schema"] = "cohort/v1"
	if opts.Synthetic {
		md["abscopal.synthetic"] = "true"
	}
	opts.Metadata = md
	tw, err := CreateRows(path, specs, opts.WriteOptions)
	if err != nil {
		return nil, err
	}
	return &CohortWriter{tw: tw, path: path, fields: fields, vals: make([]Value, len(fields))}, nil
}

// Write validates and appends patients. An invalid patient is an error naming
// the row and the field; nothing is written for it.
func (w *CohortWriter) Write(ps []Patient) error {
	for i := range ps {
		p := &ps[i]
		if errs := p.Validate(); len(errs) > 0 {
			return &RowError{File: w.path, Row: w.rows + 1, FieldError: errs[0]}
		}
		for j := range w.fields {
			w.vals[j] = w.fields[j].get(p)
		}
		if err := w.tw.WriteRow(w.vals); err != nil {
			return err
		}
		w.rows++
	}
	return nil
}

// Close finishes the file and moves it into place.
func (w *CohortWriter) Close() error { return w.tw.Close() }

// Abort discards the file.
func (w *CohortWriter) Abort() { w.tw.Abort() }

// WriteCohort writes patients to path in one call.
func WriteCohort(path string, ps []Patient, opts CohortWriteOptions) error {
	w, err := CreateCohort(path, opts)
	if err != nil {
		return err
	}
	if err := w.Write(ps); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
