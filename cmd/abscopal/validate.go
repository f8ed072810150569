package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/abscopal/abscopal/data"
	"github.com/spf13/cobra"
)

// validation is what "abscopal validate --json" prints.
type validation struct {
	data.Report
	Problems []problem `json:"problems"`
	Omitted  int64     `json:"problems_omitted,omitempty"`
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
	)
	cmd := &cobra.Command{
		Use:   "validate --data FILE",
		Short: "Check a cohort file against the cohort schema",
		Long: `validate reads a cohort file (Parquet or CSV) and reports its rows, its columns,
the nulls in each column, and every invalid row with the column, the value and
the allowed range. The exit status is 1 if the file cannot be read, does not
have the required columns, or holds any invalid row.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return usageError{errors.New("--data is required")}
			}
			v := validation{Problems: []problem{}}
			r, err := data.OpenCohort(cmd.Context(), path, data.CohortOptions{
				Policy:            data.SkipInvalid,
				CheckDuplicateIDs: !noDupCheck,
				OnInvalid: func(e *data.RowError) {
					if maxProblem > 0 && int64(len(v.Problems)) >= maxProblem {
						v.Omitted++
						return
					}
					v.Problems = append(v.Problems, problem{Row: e.Row, Column: e.Field, Reason: string(e.Reason),
						Value: e.Value, Allowed: e.Allowed, Detail: e.Detail, Message: e.Error()})
				},
			})
			if err != nil {
				return err
			}
			defer r.Close()
			for {
				if _, err := r.Next(cmd.Context()); err != nil {
					if errors.Is(err, io.EOF) {
						break
					}
					return err
				}
			}
			v.Report = r.Report()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(v); err != nil {
					return err
				}
			} else {
				printValidation(cmd.OutOrStdout(), &v)
			}
			if v.Invalid > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&path, "data", "", "cohort file (Parquet or CSV)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.Flags().Int64Var(&maxProblem, "max-problems", 0, "list at most this many problems (0: all); all are counted")
	cmd.Flags().BoolVar(&noDupCheck, "no-duplicate-check", false, "do not check that patient_id values are unique (saves memory on huge files)")
	return cmd
}

func printValidation(w io.Writer, v *validation) {
	fmt.Fprintf(w, "file:    %s\n", v.File)
	fmt.Fprintf(w, "rows:    %d (%d valid, %d invalid)\n", v.Rows, v.Valid, v.Invalid)
	fmt.Fprintf(w, "columns: %d of the cohort schema present", len(v.Present))
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
