package features

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
)

// ExportOptions configure Export.
type ExportOptions struct {
	// Matrix writes the fitted design matrix (imputed, one-hot, scaled, as a
	// model sees it, fitted on the whole input) instead of the engineered
	// values. It holds the input in memory; the default streams.
	Matrix bool
	// Version is the abscopal version recorded in the file's metadata.
	Version string
	// DecimalComma writes a CSV output separated by semicolons, with
	// decimal commas (data.WriteOptions.DecimalComma).
	DecimalComma bool
}

// ExportResult summarizes an export.
type ExportResult struct {
	Rows    int64
	Columns []string
	// Dropped lists built-in features left out because the input file lacks
	// every column they are computed from.
	Dropped []string
}

// FeatureInfo documents an exported column: it is written, per feature, into
// the Parquet key-value metadata ("abscopal.feature.<name>") and, for CSV,
// into a sidecar "<out>.meta.json".
type FeatureInfo struct {
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Unit       string `json:"unit,omitempty"`
	Definition string `json:"definition"`
	Source     string `json:"source"`
}

// Source gives the Records of a data file: a cohort-schema file, validated
// row by row like "abscopal validate" does, when the spec is the built-in
// one; any Parquet table otherwise.
type Source struct {
	spec      *Spec                                       // the spec read, trimmed to the file
	kindOf    func(col string) data.Kind                  // kind of a column in the output
	next      func(ctx context.Context) ([]Record, error) // a batch of records, io.EOF at the end
	synthetic bool
	dropped   []string // built-in features whose inputs the file lacks
	columns   []data.ColumnInfo
	close     func() error
	fieldInfo func(col string) (unit, definition string, ok bool)
}

// All returns every remaining record.
func (s *Source) All(ctx context.Context) ([]Record, error) {
	var all []Record
	err := s.Each(ctx, func(r Record) error { all = append(all, r); return nil })
	return all, err
}

// Each calls fn on every remaining record, batch by batch, and stops at the
// first error, from the file or from fn.
func (s *Source) Each(ctx context.Context, fn func(Record) error) error {
	return s.eachBatch(ctx, func(batch []Record) error {
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// EachAhead is Each with the file read on another goroutine, a batch or two
// ahead, while fn runs on the caller's: for work that costs as much as the
// reading (scoring), it overlaps the two. fn sees the records in file order;
// its first error stops the reading and is returned.
func (s *Source) EachAhead(ctx context.Context, fn func(Record) error) error {
	return s.EachBatchAhead(ctx, func(batch []Record) error {
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// EachBatchAhead is EachAhead a batch of records at a time: fn may work
// on a batch's records side by side. A batch and its records stay valid
// after fn returns.
func (s *Source) EachBatchAhead(ctx context.Context, fn func([]Record) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Record, 2)
	var readErr error
	go func() {
		defer close(batches)
		readErr = s.eachBatch(ctx, func(batch []Record) error {
			select {
			case batches <- batch:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var fnErr error
	for batch := range batches { // ranged to the end, so that the reader is done
		if fnErr != nil {
			continue
		}
		if fnErr = fn(batch); fnErr != nil {
			cancel()
		}
	}
	if fnErr != nil {
		return fnErr // the reader's error is then the cancellation
	}
	return readErr
}

// eachBatch calls fn on every remaining batch of records, in file order,
// and stops at the first error, from the file or from fn. A batch and its
// records stay valid after the next is read.
func (s *Source) eachBatch(ctx context.Context, fn func([]Record) error) error {
	for {
		batch, err := s.next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(batch); err != nil {
			return err
		}
	}
}

// Synthetic reports whether the file is synthetic: labelled so in its
// metadata, or holding a generator's ground-truth column (true_p_abscopal,
// true_p_response), which a synthetic cohort keeps when it passes through a
// tool that drops Parquet metadata (DuckDB's COPY, pandas).
func (s *Source) Synthetic() bool { return s.synthetic }

// isSynthetic reports whether a file of these columns and metadata is
// synthetic, as Source.Synthetic says.
func isSynthetic(cols []data.ColumnInfo, md map[string]string) bool {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return data.Synthetic(names, md)
}

// Dropped lists the built-in features left out because the file lacks every
// column they are computed from.
func (s *Source) Dropped() []string { return s.dropped }

// Spec is the spec the source reads: the one OpenSource was given, less
// the built-in features whose columns the file lacks (Dropped) and the
// kept columns it lacks. Fit a pipeline with it.
func (s *Source) Spec() *Spec { return s.spec }

// Close releases the file.
func (s *Source) Close() error { return s.close() }

// Columns describes the columns read from the file, with their types there.
func (s *Source) Columns() []data.ColumnInfo { return slices.Clone(s.columns) }

// Kind returns the kind of a column of the file.
func (s *Source) Kind(col string) data.Kind { return s.kindOf(col) }

// Export writes, for every row of the input file, its id, its features, the
// spec's kept columns (outcomes) and its target to out (.parquet or .csv),
// atomically.
// The Parquet file carries the spec, the abscopal version and, per feature,
// its unit, definition and source as key-value metadata; a synthetic input
// stays labelled synthetic.
func Export(ctx context.Context, in, out string, spec *Spec, opts ExportOptions) (*ExportResult, error) {
	if err := data.CheckExtension(out); err != nil {
		return nil, err
	}
	src, err := OpenSource(ctx, in, spec, SourceOptions{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	spec = src.Spec()
	if len(spec.Features) == 0 {
		return nil, fmt.Errorf("%s has none of the columns the built-in features are computed from", in)
	}

	var pipe *Pipeline
	var records []Record
	if opts.Matrix {
		if records, err = src.All(ctx); err != nil {
			return nil, err
		}
		if pipe, err = Fit(spec, records); err != nil {
			return nil, err
		}
	}

	// Columns: id, features (or the matrix), kept columns.
	var cols []data.ColumnSpec
	var infos []FeatureInfo
	if spec.ID != "" {
		cols = append(cols, data.ColumnSpec{Name: spec.ID, Kind: src.kindOf(spec.ID), Optional: true, Distinct: true})
	}
	ab := spec.alphaBeta()
	if pipe != nil {
		for _, o := range pipe.Outputs {
			cols = append(cols, data.ColumnSpec{Name: o, Kind: data.KindFloat})
			infos = append(infos, FeatureInfo{Name: o, Kind: "float", Definition: "fitted design-matrix column (imputed, one-hot, scaled) of " + OutputFeature(o), Source: "abscopal fitted pipeline"})
		}
	} else {
		for i := range spec.Features {
			f := &spec.Features[i]
			info := featureInfo(f, ab, src.fieldInfo)
			infos = append(infos, info)
			kind := kindToData(spec.featureKind(f))
			d, derived := LookupDerived(f.Derived)
			switch {
			case kind == data.KindString && f.Column != "" && src.kindOf(f.Column) == data.KindInt:
				kind = data.KindInt // a categorical feature of integer codes goes out as it came in
			case kind == data.KindFloat && f.Column != "" && src.kindOf(f.Column) == data.KindInt:
				kind = data.KindInt // so does a number of an integer column (ECOG): its values are the column's
			case kind == data.KindFloat && derived && d.Whole:
				kind = data.KindInt // and a grade
			}
			cols = append(cols, data.ColumnSpec{Name: info.Name, Kind: kind, Optional: true})
		}
	}
	// The kept columns, and the target when the file has it: features are
	// exported to model it, so they go with their label. (The built-in
	// spec keeps every outcome the file has already.)
	keep := slices.Clone(spec.Keep)
	for _, t := range spec.Target.Columns() {
		if !spec.ReadsPatients() && t != "" && !slices.Contains(keep, t) && src.kindOf(t) != data.KindUnsupported {
			keep = append(keep, t)
		}
	}
	keep = slices.DeleteFunc(keep, func(k string) bool { return k == spec.ID })
	for _, k := range keep {
		cols = append(cols, data.ColumnSpec{Name: k, Kind: src.kindOf(k), Optional: true})
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if dup := firstDuplicate(names); dup != "" {
		return nil, fmt.Errorf("export: column %s would appear twice (a feature and a kept column share the name)", dup)
	}

	md, err := exportMetadata(spec, infos, opts, src.Synthetic())
	if err != nil {
		return nil, err
	}
	w, err := createWriter(out, cols, md, opts.DecimalComma)
	if err != nil {
		return nil, err
	}
	res := &ExportResult{Columns: names, Dropped: src.dropped}
	vals := make([]data.Value, len(cols))
	present := make([]int64, len(spec.Features)) // non-null values per feature
	var vec []float64
	if pipe != nil {
		vec = make([]float64, pipe.NumOutputs())
	}
	write := func(r Record) error {
		j := 0
		if spec.ID != "" {
			vals[0] = r.Value(spec.ID)
			j = 1
		}
		if pipe != nil {
			pipe.Transform(r, vec, nil)
			for _, x := range vec {
				vals[j] = data.Float(x)
				j++
			}
		} else {
			rw := readRow(r)
			for i := range spec.Features {
				vals[j] = spec.Features[i].value(rw, ab)
				if vals[j].Valid {
					present[i]++
				}
				j++
			}
		}
		for _, k := range keep {
			vals[j] = r.Value(k)
			j++
		}
		res.Rows++
		return w.WriteRow(vals)
	}
	fail := func(err error) (*ExportResult, error) { w.Abort(); return nil, err }
	if pipe != nil {
		for _, r := range records {
			if err := write(r); err != nil {
				return fail(err)
			}
		}
	} else if err := src.Each(ctx, write); err != nil {
		return fail(err)
	}
	if pipe == nil && res.Rows > 0 {
		// Fit refuses such a feature; an export of it would hold nothing.
		for i, n := range present {
			if n == 0 {
				f := &spec.Features[i]
				return fail(&FitError{Feature: f.Name(ab), Message: fmt.Sprintf("null in all %d rows of %s: check the column name or the file", res.Rows, in)})
			}
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return res, nil
}

// value returns the feature's engineered value for r: the column's value, or
// the derived feature computed; transforms are the pipeline's business.
func (f *FeatureSpec) value(r row, specAlphaBeta float64) data.Value {
	if d, ok := LookupDerived(f.Derived); ok {
		return d.compute(r, f.AlphaBeta(specAlphaBeta))
	}
	return r.r.Value(f.Column)
}

func featureInfo(f *FeatureSpec, ab float64, fieldInfo func(string) (string, string, bool)) FeatureInfo {
	if d, ok := LookupDerived(f.Derived); ok {
		def := d.Definition
		if d.UsesAlphaBeta {
			def += fmt.Sprintf(" (alpha/beta = %g Gy)", f.AlphaBeta(ab))
		}
		return FeatureInfo{Name: d.OutputName(f.AlphaBeta(ab)), Kind: string(d.Kind), Unit: d.Unit, Definition: def, Source: d.Source}
	}
	info := FeatureInfo{Name: f.Column, Kind: string(f.Kind), Unit: f.Unit, Definition: f.Description, Source: "input column " + f.Column}
	if unit, def, ok := fieldInfo(f.Column); ok {
		if info.Unit == "" {
			info.Unit = unit
		}
		if info.Definition == "" {
			info.Definition = def
		}
	}
	if info.Definition == "" {
		info.Definition = "column " + f.Column + " of the input, as read"
	}
	return info
}

func kindToData(k Kind) data.Kind {
	switch k {
	case Numeric:
		return data.KindFloat
	case Boolean:
		return data.KindBool
	default:
		return data.KindString
	}
}

func firstDuplicate(names []string) string {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			return n
		}
		seen[n] = true
	}
	return ""
}

func exportMetadata(spec *Spec, infos []FeatureInfo, opts ExportOptions, synthetic bool) (map[string]string, error) {
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	all, err := json.Marshal(infos)
	if err != nil {
		return nil, err
	}
	md := map[string]string{
		"abscopal.version":  opts.Version,
		"abscopal.spec":     string(specJSON),
		"abscopal.features": string(all),
	}
	if opts.Matrix {
		md["abscopal.content"] = "fitted design matrix"
	} else {
		md["abscopal.content"] = "engineered features"
	}
	for _, fi := range infos {
		b, _ := json.Marshal(map[string]string{"unit": fi.Unit, "definition": fi.Definition, "source": fi.Source})
		md["abscopal.feature."+fi.Name] = string(b)
	}
	if synthetic {
		md["abscopal.synthetic"] = "true"
		md["abscopal.synth.note"] = "features of SYNTHETIC DATA; not patient data; not clinical evidence"
	}
	return md, nil
}

func createWriter(out string, cols []data.ColumnSpec, md map[string]string, decimalComma bool) (data.RowWriter, error) {
	return data.CreateRows(out, cols, data.WriteOptions{Metadata: md, CreatedBy: "abscopal " + md["abscopal.version"], DecimalComma: decimalComma})
}

// SourceOptions are the options of OpenSource.
type SourceOptions struct {
	NeedTarget bool // the file must have the target column (training)
	// Shard, when its n (Shard[1]) is set, reads only the Shard[0]-th of
	// n parts of a Parquet file (data.TableReader.Shard).
	Shard [2]int
	// Also names columns to read besides the spec's (a subgroup column),
	// which the records then give. Each must be in the file; with the
	// built-in spec it may be outside the cohort schema (a centre).
	Also []string
	// OnInvalid, when set, is given every problem of every row with a value
	// the spec cannot take (or, with the built-in spec, that breaks the
	// cohort schema), and such rows are left out; without it the first
	// ends the read. It must not keep the error: it holds patient values.
	OnInvalid func(*data.RowError)
}

// OpenSource opens a cohort file (built-in spec) or any table (a
// researcher's spec) and checks the spec against its columns. With the
// built-in spec, kept columns and features the file cannot provide are left
// out of the spec the source reads (Source.Spec), a copy: spec itself is
// not changed.
func OpenSource(ctx context.Context, path string, spec *Spec, opts SourceOptions) (*Source, error) {
	spec = spec.Clone()
	// The file is opened once: its schema first (a Parquet file's footer,
	// a CSV file's header), then the columns chosen from it (Select).
	tr, err := data.OpenTable(ctx, path, data.TableOptions{Columns: []string{}})
	if err != nil {
		return nil, err
	}
	if opts.Shard[1] > 0 {
		if err := tr.Shard(opts.Shard[0], opts.Shard[1]); err != nil {
			tr.Close()
			return nil, err
		}
	}
	src, err := openSource(ctx, tr, spec, opts)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return src, nil
}

// openSource is OpenSource on the table tr, whose schema only is read yet;
// the source returned owns it.
func openSource(ctx context.Context, tr *data.TableReader, spec *Spec, opts SourceOptions) (*Source, error) {
	path, cols, md, text := tr.Path(), tr.Schema(), tr.Metadata(), tr.Text()
	// A researcher's spec is checked against the kinds of the columns it
	// reads: a CSV file's are typed by a pass over them, and only them (the
	// cohort reader types a cohort file's itself).
	if text && !spec.ReadsPatients() {
		// Kept and subgroup columns pass through: their codes keep their
		// leading zeros ("007" stays "007" in an export or a fold's name).
		codes := append(slices.Clone(spec.Keep), opts.Also...)
		var read []string
		for _, c := range append(spec.Columns(), opts.Also...) {
			if slices.ContainsFunc(cols, func(ci data.ColumnInfo) bool { return ci.Name == c }) && !slices.Contains(read, c) {
				read = append(read, c)
			}
		}
		if err := tr.Select(data.TableOptions{Columns: read, Codes: codes}); err != nil {
			return nil, err
		}
		cols = tr.Schema()
	}
	needTarget := opts.NeedTarget
	byName := map[string]data.ColumnInfo{}
	var names []string
	for _, c := range cols {
		byName[c.Name] = c
		names = append(names, c.Name)
	}
	for _, a := range opts.Also {
		c, ok := byName[a]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s: no column %s (it has %s)", path, a, strings.Join(names, ", "))
		case c.Kind == data.KindUnsupported && !c.Text: // a CSV column is typed when read
			return nil, fmt.Errorf("%s: column %s has unsupported type %s", path, a, c.Type)
		}
	}

	var dropped []string
	if spec.ReadsPatients() {
		// First whether this is a cohort file at all (its required columns,
		// their types): a file of other columns is told so, with the way out.
		// Columns outside the schema asked for (a centre to group by) are
		// read along with each patient.
		var extra []string
		for _, a := range opts.Also {
			if _, ok := data.CohortField(a); !ok {
				extra = append(extra, a)
			}
		}
		co := data.CohortOptions{Extra: extra}
		if opts.OnInvalid != nil {
			co.Policy, co.OnInvalid = data.SkipInvalid, opts.OnInvalid
		}
		cr, err := data.NewCohortReader(tr, co)
		if err != nil {
			return nil, err
		}
		extraCols := cr.ExtraColumns()
		spec.KeepPresent(cols)
		dropped = spec.DropAbsent(cols)
		// Cohort columns absent from the file read as null: check the spec
		// against the full schema, the file's own types having been checked
		// by OpenCohort.
		var schemaCols []data.ColumnInfo
		for _, f := range data.CohortFields() {
			schemaCols = append(schemaCols, data.ColumnInfo{Name: f.Name, Kind: f.Kind, Type: f.Kind.String()})
		}
		if err := spec.Check("the cohort schema", schemaCols, needTarget); err != nil {
			cr.Close()
			return nil, err
		}
		// The target is optional in a cohort file, but not to train or
		// validate on: its absence would read as a null in every row.
		for _, t := range spec.Target.Columns() {
			if needTarget && !slices.ContainsFunc(cols, func(c data.ColumnInfo) bool { return c.Name == t }) {
				cr.Close()
				return nil, fmt.Errorf("%s: no column %s, the outcome to learn or to check against (abscopal schema: column %s)", path, t, t)
			}
		}
		next := func(ctx context.Context) ([]Record, error) {
			ps, extras, err := cr.NextExtra(ctx)
			if err != nil {
				return nil, err
			}
			rs := make([]Record, len(ps))
			for i := range ps {
				if extras != nil {
					rs[i] = patientExtra{PatientRecord{P: &ps[i]}, extra, extras[i]}
				} else {
					rs[i] = PatientRecord{P: &ps[i]}
				}
			}
			return rs, nil
		}
		return &Source{
			spec: spec,
			kindOf: func(c string) data.Kind {
				if f, ok := data.CohortField(c); ok {
					return f.Kind
				}
				if i := slices.Index(extra, c); i >= 0 {
					return extraCols[i].Kind
				}
				return data.KindUnsupported // not a column read
			},
			next:      next,
			synthetic: isSynthetic(cols, md),
			dropped:   dropped,
			columns:   cr.Columns(),
			close:     cr.Close,
			fieldInfo: func(c string) (string, string, bool) {
				f, ok := data.CohortField(c)
				return f.Unit, f.Description, ok
			},
		}, nil
	}

	if err := spec.Check(path, cols, needTarget); err != nil {
		return nil, err
	}
	var read []string
	have := map[string]bool{}
	for _, c := range cols {
		have[c.Name] = true
	}
	for _, c := range append(spec.Columns(), opts.Also...) {
		if have[c] && !slices.Contains(read, c) { // the target may be absent when exporting
			read = append(read, c)
		}
	}
	// A CSV file's columns keep the kinds the probe found (sparing a pass
	// over the file), but for an id, which is text whatever its characters:
	// "007" is not 7.
	given := map[string]data.Kind{}
	byText := map[string]bool{}
	for _, c := range cols {
		if c.Text && c.Kind != data.KindUnsupported { // typed above; the others are not read
			given[c.Name], byText[c.Name] = c.Kind, true
		}
	}
	if spec.ID != "" {
		given[spec.ID] = data.KindString
	}
	// So is a categorical feature's column: its levels are its text ("01"
	// stays "01"), whatever the digits would make of it.
	for _, f := range spec.Features {
		if f.Kind == Categorical && f.Column != "" && byText[f.Column] {
			given[f.Column] = data.KindString
		}
	}
	if err := tr.Select(data.TableOptions{Columns: read, Kinds: given}); err != nil {
		return nil, err
	}
	kinds := map[string]data.Kind{}
	for _, c := range cols {
		kinds[c.Name] = c.Kind
	}
	for _, c := range tr.Columns() {
		kinds[c.Name] = c.Kind
	}
	// A feature's input may not be infinite: NaN reads as null, but an
	// infinity (a ratio over a zero, most often) would be clipped or imputed
	// in silence, and a model's recorded ranges cannot hold it.
	var finite, domain, whole []int
	inputs, logged, derived := spec.inputColumns(), spec.DomainColumns(), spec.derivedInputs()
	for i, c := range tr.Columns() {
		if f, ok := data.CohortField(c.Name); ok && f.Kind == data.KindInt && c.Kind == data.KindFloat && slices.Contains(derived, c.Name) {
			whole = append(whole, i) // only a CSV file's numbers get here: see Check
		}
		if c.Kind == data.KindFloat && slices.Contains(inputs, c.Name) {
			finite = append(finite, i)
		}
		if (c.Kind == data.KindFloat || c.Kind == data.KindInt) && slices.Contains(logged, c.Name) {
			domain = append(domain, i)
		}
	}
	next := func(ctx context.Context) ([]Record, error) {
		b, err := tr.Next(ctx)
		if err != nil {
			return nil, err
		}
		var bad []*data.RowError
		problem := func(i int, fe *data.FieldError) {
			bad = append(bad, &data.RowError{File: path, Row: b.FirstRow + int64(i), FieldError: fe})
		}
		for _, ci := range finite {
			c := &b.Columns[ci]
			for i, x := range c.Num {
				if c.Valid[i] && math.IsInf(x, 0) {
					problem(i, &data.FieldError{Field: c.Name, Reason: data.ReasonRange, Value: strconv.FormatFloat(x, 'g', -1, 64), Allowed: "a finite number; NaN or null for a missing value"})
				}
			}
		}
		// Nor a fraction where a derived feature takes whole numbers
		// (fractions of RT from a CSV file).
		for _, ci := range whole {
			c := &b.Columns[ci]
			for i, x := range c.Num {
				if c.Valid[i] && x != math.Trunc(x) {
					problem(i, &data.FieldError{Field: c.Name, Reason: data.ReasonType, Value: strconv.FormatFloat(x, 'g', -1, 64), Allowed: "a whole number"})
				}
			}
		}
		// Nor outside a transform's domain (the log1p of -5 would be NaN,
		// then imputed as if missing).
		for _, ci := range domain {
			c := &b.Columns[ci]
			for i, x := range c.Num {
				if c.Valid[i] {
					if fe := spec.CheckValue(c.Name, x); fe != nil {
						problem(i, fe)
					}
				}
			}
		}
		slices.SortStableFunc(bad, func(x, y *data.RowError) int { return cmp.Compare(x.Row, y.Row) })
		skip := map[int64]bool{}
		for _, e := range bad {
			if opts.OnInvalid == nil {
				return nil, e // the first row's first problem
			}
			opts.OnInvalid(e)
			skip[e.Row] = true
		}
		// The reader reuses its batch: copy it, so that records outlive it.
		br := NewBatchRecords(b.Clone())
		rs := make([]Record, 0, br.Len())
		for i := range br.Len() {
			if !skip[b.FirstRow+int64(i)] {
				rs = append(rs, br.Row(i))
			}
		}
		return rs, nil
	}
	return &Source{
		spec:      spec,
		kindOf:    func(c string) data.Kind { return kinds[c] },
		next:      next,
		synthetic: isSynthetic(cols, md),
		columns:   tr.Columns(),
		close:     tr.Close,
		fieldInfo: func(string) (string, string, bool) { return "", "", false },
	}, nil
}
