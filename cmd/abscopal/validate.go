package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/spf13/cobra"
)

// validation is what "abscopal validate --json" prints.
type validation struct {
	data.Report
	Spec     string        `json:"spec,omitempty"` // checked against this spec, not the cohort schema
	Target   *targetCounts `json:"target,omitempty"`
	Problems []problem     `json:"problems"`
	Omitted  int64         `json:"problems_omitted,omitempty"`
}

// targetCounts are a spec's target column's values in the valid rows.
type targetCounts struct {
	Column    string `json:"column"`
	Positive  string `json:"positive"` // the value that counts as positive
	Positives int64  `json:"positives"`
	Negatives int64  `json:"negatives"`
	Nulls     int64  `json:"nulls"`
}

// add records a problem of a row, listing at most max (0: all) of them, and
// counts the row invalid the first time one of its problems comes.
func (v *validation) add(e *data.RowError, max int64) {
	if max > 0 && int64(len(v.Problems)) >= max {
		v.Omitted++
	} else {
		v.Problems = append(v.Problems, problem{Row: e.Row, Column: e.Field, Reason: string(e.Reason),
			Value: e.Value, Allowed: e.Allowed, Detail: e.Detail, Message: e.Error()})
	}
}

type problem struct {
	Row     int64  `json:"row"`
	Column  string `json:"column"`
	Reason  string `json:"reason"`
	Value   string `json:"value,omitempty"`
	Allowed string `json:"allowed,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Message string `json:"message"`
}

func newValidateCmd() *cobra.Command {
	var (
		path       string
		asJSON     bool
		maxProblem int64
		noDupCheck bool
		out        string
		specPath   string
	)
	cmd := &cobra.Command{
		Use:   "validate --data FILE [--spec S] [--out COHORT.parquet]",
		Short: "Check a cohort file against the cohort schema (or a file against its spec)",
		Long: `validate reads a cohort file (Parquet or CSV) and reports its rows, its columns,
the nulls in each column, and every invalid row with the column, the value and
the allowed range. The exit status is 1 if the file cannot be read, does not
have the required columns, or holds any invalid row.

With --out FILE.parquet, a file with no invalid row is also written there as a
cohort Parquet file, each column of the schema's own type (a CSV's text
parsed; FLOAT and DECIMAL columns widened to DOUBLE, INT32 to INT64): the
form to keep a cohort in. Columns outside the schema are left out; the
synthetic label and abscopal's metadata go along. With any invalid row,
nothing is written.

With --spec, a researcher's file is checked against the spec instead: the
columns it names and their types, and every value a feature cannot take (an
infinity, a value outside a transform's domain, a fraction of a fraction),
the target's positives, negatives and nulls, and ids given twice.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageError{errors.New("--data is required")}
			}
			if specPath != "" {
				if out != "" {
					return usageError{errors.New("--out writes cohort files; with --spec, abscopal features exports the spec's columns")}
				}
				return validateSpec(cmd, path, specPath, maxProblem, !noDupCheck, asJSON)
			}
			if out != "" {
				if !strings.EqualFold(filepath.Ext(out), ".parquet") {
					return usageError{fmt.Errorf("--out %s: a cohort file is written as Parquet: name it .parquet", out)}
				}
				if err := data.CheckWritable(out); err != nil {
					return err
				}
			}
			v := validation{Problems: []problem{}}
			r, err := data.OpenCohort(cmd.Context(), path, data.CohortOptions{
				Policy:            data.SkipInvalid,
				CheckDuplicateIDs: !noDupCheck,
				OnInvalid:         func(e *data.RowError) { v.add(e, maxProblem) },
			})
			if err != nil {
				return err
			}
			defer r.Close()
			var w *data.CohortWriter
			if out != "" {
				md := map[string]string{}
				for k, val := range r.Metadata() { // not pandas' or Spark's: they describe other columns
					if strings.HasPrefix(k, "abscopal.") {
						md[k] = val
					}
				}
				if w, err = data.CreateCohort(out, data.CohortWriteOptions{Synthetic: r.Synthetic(), WriteOptions: data.WriteOptions{Metadata: md}}); err != nil {
					return err
				}
				defer w.Abort() // a no-op once closed
			}
			for {
				ps, err := r.Next(cmd.Context())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return err
				}
				if w != nil {
					if err := w.Write(ps); err != nil {
						return err
					}
				}
			}
			v.Report = r.Report()
			if err := v.print(cmd.OutOrStdout(), asJSON); err != nil {
				return err
			}
			if v.Invalid > 0 {
				if w != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s not written: %d invalid rows\n", out, v.Invalid)
				}
				return exitError{1}
			}
			if w != nil {
				if err := w.Close(); err != nil {
					return err
				}
				label := ""
				if r.Synthetic() {
					label = " SYNTHETIC"
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d%s patients to %s (Parquet, the cohort schema's types)\n", v.Valid, label, out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "data", "", "cohort file (Parquet or CSV)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Int64Var(&maxProblem, "max-problems", 0, "list at most this many problems (0: all); all are counted")
	cmd.Flags().BoolVar(&noDupCheck, "no-duplicate-check", false, "do not check that patient_id values are unique (saves memory on huge files)")
	cmd.Flags().StringVar(&specPath, "spec", "", "check a researcher's file against this feature spec (YAML or JSON) instead of the cohort schema")
	cmd.Flags().StringVar(&out, "out", "", "also write the file, if it has no invalid row, as a cohort Parquet file (the schema's types) to this .parquet path")
	return cmd
}

// print writes the report as a table, or as JSON.
func (v *validation) print(w io.Writer, asJSON bool) error {
	if asJSON {
		return printJSON(w, v)
	}
	printValidation(w, v)
	return nil
}

func printValidation(w io.Writer, v *validation) {
	fmt.Fprintf(w, "file:    %s\n", v.File)
	if v.Spec != "" {
		fmt.Fprintf(w, "spec:    %s\n", v.Spec)
	}
	fmt.Fprintf(w, "rows:    %d (%d valid, %d invalid)\n", v.Rows, v.Valid, v.Invalid)
	if t := v.Target; t != nil {
		fmt.Fprintf(w, "target:  %s (positive: %s): %d positive, %d negative, %d null (left out of training)\n", t.Column, t.Positive, t.Positives, t.Negatives, t.Nulls)
	}
	if v.Spec != "" {
		fmt.Fprintf(w, "columns: %d of the spec's present", len(v.Present))
	} else {
		fmt.Fprintf(w, "columns: %d of the cohort schema present", len(v.Present))
	}
	if len(v.Absent) > 0 {
		fmt.Fprintf(w, "; absent (read as null): %v", v.Absent)
	}
	if len(v.Ignored) > 0 {
		fmt.Fprintf(w, "; ignored (not in the schema): %v", v.Ignored)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "column\ttype\tnulls\tnull %")
	for _, c := range v.Present {
		pct := 0.0
		if v.Rows > 0 {
			pct = 100 * float64(v.Nulls[c]) / float64(v.Rows)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\n", c, v.Types[c], v.Nulls[c], pct)
	}
	tw.Flush()
	if v.Invalid == 0 {
		fmt.Fprintln(w, "\nno invalid rows")
		return
	}
	fmt.Fprintf(w, "\ninvalid rows (%d):\n", v.Invalid)
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  %s\n", p.Message)
	}
	if v.Omitted > 0 {
		fmt.Fprintf(w, "  ... and %d more problems (raise --max-problems to list them)\n", v.Omitted)
	}
	fmt.Fprintln(w, "\nproblems by reason:")
	reasons := make([]string, 0, len(v.ByReason))
	for r := range v.ByReason {
		reasons = append(reasons, string(r))
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(w, "  %-24s %d\n", r+":", v.ByReason[data.Reason(r)])
	}
}

// validateSpec checks a researcher's file against a feature spec: the
// columns the spec reads and every row's values, as train would take them,
// with every problem listed rather than the first.
func validateSpec(cmd *cobra.Command, path, specPath string, maxProblem int64, checkIDs, asJSON bool) error {
	spec, err := features.LoadSpec(specPath)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	v := validation{Spec: specPath, Problems: []problem{}}
	v.Report = data.Report{File: path, ByReason: map[data.Reason]int64{}, Nulls: map[string]int64{}, Types: map[string]string{}}
	lastBad := int64(0)
	src, err := features.OpenSource(ctx, path, spec, features.SourceOptions{OnInvalid: func(e *data.RowError) {
		v.add(e, maxProblem)
		v.ByReason[e.Reason]++
		if e.Row != lastBad {
			v.Invalid++
			lastBad = e.Row
		}
	}})
	if err != nil {
		return err
	}
	defer src.Close()
	cols := src.Columns()
	for _, c := range cols {
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
		v.Target = &targetCounts{Column: t, Positive: fmt.Sprint(spec.Target.Positive)}
		if a := spec.Target.AtLeast; a != nil {
			v.Target.Positive = ">= " + strconv.FormatFloat(*a, 'g', -1, 64)
		}
	}
	seen := map[string]int64{} // id: its first row
	err = src.Each(ctx, func(r features.Record) error {
		if id := r.Value(spec.ID); checkIDs && spec.ID != "" && id.Valid {
			key := id.Format(src.Kind(spec.ID))
			var row int64
			if n, ok := r.(features.Numbered); ok {
				row = n.RowNumber()
			}
			if first, dup := seen[key]; dup {
				v.add(&data.RowError{File: path, Row: row, FieldError: &data.FieldError{Field: spec.ID, Reason: data.ReasonDuplicateID,
					Value: strconv.Quote(key), Detail: fmt.Sprintf("first seen in row %d", first)}}, maxProblem)
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
		return err
	}
	v.Rows = v.Valid + v.Invalid
	// Ids given twice come to light after their batch's other problems.
	slices.SortStableFunc(v.Problems, func(a, b problem) int { return cmp.Compare(a.Row, b.Row) })
	if err := v.print(cmd.OutOrStdout(), asJSON); err != nil {
		return err
	}
	if v.Invalid > 0 {
		return exitError{1}
	}
	return nil
}
