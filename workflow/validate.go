package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
)

// ValidateOptions are what ValidateFile takes.
type ValidateOptions struct {
	Data string
	// Spec, if set, checks a researcher's file against it (SpecPath names
	// it in the report) instead of the cohort schema.
	Spec     *features.Spec
	SpecPath string
	// MaxProblems lists at most this many problems (0: all); all are
	// counted.
	MaxProblems int64
	// NoDuplicateCheck skips the check that ids are unique (it holds every
	// id in memory).
	NoDuplicateCheck bool
	// Out, for a cohort file, also writes it, when no row is invalid, as a
	// cohort Parquet file (the schema's types); nothing is written
	// otherwise.
	Out string
}

// FileValidation is what ValidateFile found ("abscopal validate --json"
// prints it).
type FileValidation struct {
	data.Report
	Spec     string        `json:"spec,omitempty"` // checked against this spec, not the cohort schema
	Target   *TargetCounts `json:"target,omitempty"`
	Problems []Problem     `json:"problems"`
	Omitted  int64         `json:"problems_omitted,omitempty"`
	// Written says the cohort was written to ValidateOptions.Out;
	// Synthetic that the file is labelled synthetic.
	Written   bool `json:"-"`
	Synthetic bool `json:"-"`
}

// TargetCounts are a spec's target column's values in the valid rows.
type TargetCounts struct {
	Column    string `json:"column"`
	Positive  string `json:"positive"` // the value that counts as positive
	Positives int64  `json:"positives"`
	Negatives int64  `json:"negatives"`
	Nulls     int64  `json:"nulls"`
}

// Problem is one problem of a row.
type Problem struct {
	Row     int64  `json:"row"`
	Column  string `json:"column"`
	Reason  string `json:"reason"`
	Value   string `json:"value,omitempty"`
	Allowed string `json:"allowed,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Message string `json:"message"`
}

// add records a problem of a row, listing at most max (0: all) of them.
func (v *FileValidation) add(e *data.RowError, max int64) {
	if max > 0 && int64(len(v.Problems)) >= max {
		v.Omitted++
		return
	}
	v.Problems = append(v.Problems, Problem{Row: e.Row, Column: e.Field, Reason: string(e.Reason),
		Value: e.Value, Allowed: e.Allowed, Detail: e.Detail, Message: e.Error()})
}

// ErrInvalidRows is returned by ValidateFile, with the report, when a row
// is invalid.
var ErrInvalidRows = errors.New("invalid rows")

// ValidateFile checks a cohort file against the cohort schema (or, with a
// spec, a researcher's file against it): every column and row, every
// problem listed rather than the first. The report comes back whole with
// ErrInvalidRows when a row is invalid; a file that cannot be read at all
// is another error, and no report.
func ValidateFile(ctx context.Context, opts ValidateOptions) (*FileValidation, error) {
	if opts.Spec != nil {
		if opts.Out != "" {
			return nil, optionError("a cohort file is written from the cohort schema; with a spec, abscopal features exports the spec's columns")
		}
		return validateSpec(ctx, opts)
	}
	if opts.Out != "" {
		if !strings.EqualFold(filepath.Ext(opts.Out), ".parquet") {
			return nil, optionError("%s: a cohort file is written as Parquet: name it .parquet", opts.Out)
		}
		if err := data.CheckWritable(opts.Out); err != nil {
			return nil, err
		}
	}
	v := &FileValidation{Problems: []Problem{}}
	r, err := data.OpenCohort(ctx, opts.Data, data.CohortOptions{
		Policy:            data.SkipInvalid,
		CheckDuplicateIDs: !opts.NoDuplicateCheck,
		OnInvalid:         func(e *data.RowError) { v.add(e, opts.MaxProblems) },
	})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var w *data.CohortWriter
	if opts.Out != "" {
		md := map[string]string{}
		for k, val := range r.Metadata() { // not pandas' or Spark's: they describe other columns
			if strings.HasPrefix(k, "abscopal.") {
				md[k] = val
			}
		}
		if w, err = data.CreateCohort(opts.Out, data.CohortWriteOptions{Synthetic: r.Synthetic(), WriteOptions: data.WriteOptions{Metadata: md}}); err != nil {
			return nil, err
		}
		defer w.Abort() // a no-op once closed
	}
	for {
		ps, err := r.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if w != nil {
			if err := w.Write(ps); err != nil {
				return nil, err
			}
		}
	}
	v.Report, v.Synthetic = r.Report(), r.Synthetic()
	if v.Invalid > 0 {
		return v, ErrInvalidRows
	}
	if w != nil {
		if err := w.Close(); err != nil {
			return nil, err
		}
		v.Written = true
	}
	return v, nil
}

// validateSpec checks a researcher's file against a feature spec: the
// columns the spec reads and every row's values, as train would take them.
func validateSpec(ctx context.Context, opts ValidateOptions) (*FileValidation, error) {
	spec, path := opts.Spec, opts.Data
	v := &FileValidation{Spec: opts.SpecPath, Problems: []Problem{}}
	v.Report = data.Report{File: path, ByReason: map[data.Reason]int64{}, Nulls: map[string]int64{}, Types: map[string]string{}}
	lastBad := int64(0)
	src, err := features.OpenSource(ctx, path, spec, features.SourceOptions{OnInvalid: func(e *data.RowError) {
		v.add(e, opts.MaxProblems)
		v.ByReason[e.Reason]++
		if e.Row != lastBad {
			v.Invalid++
			lastBad = e.Row
		}
	}})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	for _, c := range src.Columns() {
		v.Present = append(v.Present, c.Name)
		v.Types[c.Name] = c.Type
	}
	for _, c := range spec.Columns() {
		if !slices.Contains(v.Present, c) {
			v.Absent = append(v.Absent, c)
		}
	}
	t := spec.Target.Column
	if slices.Contains(v.Present, t) {
		v.Target = &TargetCounts{Column: t, Positive: fmt.Sprint(spec.Target.Positive)}
		if a := spec.Target.AtLeast; a != nil {
			v.Target.Positive = ">= " + strconv.FormatFloat(*a, 'g', -1, 64)
		}
	}
	seen := map[string]int64{} // id: its first row
	err = src.Each(ctx, func(r features.Record) error {
		if id := r.Value(spec.ID); !opts.NoDuplicateCheck && spec.ID != "" && id.Valid {
			key := id.Format(src.Kind(spec.ID))
			var row int64
			if n, ok := r.(features.Numbered); ok {
				row = n.RowNumber()
			}
			if first, dup := seen[key]; dup {
				v.add(&data.RowError{File: path, Row: row, FieldError: &data.FieldError{Field: spec.ID, Reason: data.ReasonDuplicateID,
					Value: strconv.Quote(key), Detail: fmt.Sprintf("first seen in row %d", first)}}, opts.MaxProblems)
				v.ByReason[data.ReasonDuplicateID]++
				v.Invalid++
				return nil
			}
			seen[key] = row
		}
		v.Valid++
		for _, c := range v.Present {
			if !r.Value(c).Valid {
				v.Nulls[c]++
			}
		}
		if v.Target != nil {
			switch positive, ok := spec.Label(r); {
			case !ok:
				v.Target.Nulls++
			case positive:
				v.Target.Positives++
			default:
				v.Target.Negatives++
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Rows = v.Valid + v.Invalid
	// Ids given twice come to light after their batch's other problems.
	slices.SortStableFunc(v.Problems, func(a, b Problem) int { return cmp.Compare(a.Row, b.Row) })
	if v.Invalid > 0 {
		return v, ErrInvalidRows
	}
	return v, nil
}
