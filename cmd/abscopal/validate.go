package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

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
			opts := workflow.ValidateOptions{Data: path, SpecPath: specPath, MaxProblems: maxProblem, NoDuplicateCheck: noDupCheck, Out: out}
			if specPath != "" {
				if out != "" {
					return usageError{errors.New("--out writes cohort files; with --spec, abscopal features exports the spec's columns")}
				}
				spec, err := features.LoadSpec(specPath)
				if err != nil {
					return failed(cmd.OutOrStdout(), asJSON, path, err)
				}
				opts.Spec = spec
			} else if out != "" && !strings.EqualFold(filepath.Ext(out), ".parquet") {
				return usageError{fmt.Errorf("--out %s: a cohort file is written as Parquet: name it .parquet", out)}
			}
			v, err := workflow.ValidateFile(cmd.Context(), opts)
			if err != nil && !errors.Is(err, workflow.ErrInvalidRows) {
				return failed(cmd.OutOrStdout(), asJSON, path, err)
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), v); err != nil {
					return err
				}
			} else {
				printValidation(cmd.OutOrStdout(), v)
			}
			switch {
			case v.Invalid > 0:
				if out != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s not written: %d invalid %s\n", out, v.Invalid, plural(int(v.Invalid), "row", "rows"))
				}
				return exitError{1}
			case v.Written:
				label := ""
				if v.Synthetic {
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

// failed reports a file that could not be validated at all: as JSON on w
// with --json ({"file", "error"}), for a scheduled job that reads it, and
// always on stderr with exit status 1 (run's way).
func failed(w io.Writer, asJSON bool, path string, err error) error {
	if asJSON {
		printJSON(w, struct {
			File  string `json:"file"`
			Error string `json:"error"`
		}{path, err.Error()})
	}
	return err
}

func printValidation(w io.Writer, v *workflow.FileValidation) {
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
