package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// maxSynthRows bounds --n: a cohort of this size is already about 1 GB.
const maxSynthRows = 50_000_000

func newSynthCmd() *cobra.Command {
	var (
		n            int
		seed         uint64
		out, format  string
		decimalComma decimalCommaFlag
		rowGroup     int64
	)
	cmd := &cobra.Command{
		Use:   "synth --n N --seed S --out FILE",
		Short: "Generate a SYNTHETIC radioimmunotherapy cohort (Parquet or CSV)",
		Long: `synth draws a synthetic cohort of metastatic NSCLC patients on an immune
checkpoint inhibitor, with or without radiotherapy, and their outcomes, from a
documented generative model whose effects follow published studies
(see the README and data/synth). The same seed gives the same file, byte for
byte. The file carries the true outcome probabilities (true_p_abscopal,
true_p_response) and is labelled synthetic in its metadata.

With --format fhir and --out FILE.ndjson, the same patients (their outcomes
left out) are written as FHIR R4 Bundles, one per line, each labelled test
data (meta.security HTEST): test charts for /fhir/r4/$predict and the CDS
Hooks service (docs/fhir.md).

THIS IS SYNTHETIC DATA. It is not patient data and not clinical evidence.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > maxSynthRows {
				return usageError{fmt.Errorf("--n must be in [1, %d], got %d", maxSynthRows, n)}
			}
			if out == "" {
				return usageError{fmt.Errorf("--out is required")}
			}
			switch format {
			case "fhir":
				if n > workflow.MaxSynthFHIR {
					return usageError{fmt.Errorf("--n %d: a FHIR file holds at most %d charts", n, workflow.MaxSynthFHIR)}
				}
				if !strings.EqualFold(filepath.Ext(out), ".ndjson") {
					return usageError{fmt.Errorf("--out %s: --format fhir writes NDJSON, one Bundle per line: name the file .ndjson", out)}
				}
				if err := workflow.WriteSynthFHIR(cmd.Context(), out, n, seed); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d SYNTHETIC patients as FHIR R4 Bundles (seed %d, model %s) to %s\n", n, seed, synth.ModelVersion, out)
				return nil
			case "":
			default:
				return usageError{fmt.Errorf("--format %q: fhir, or leave it out for the table --out names (.parquet or .csv)", format)}
			}
			if err := data.CheckExtension(out); err != nil {
				return usageError{fmt.Errorf("--out %w", err)}
			}
			if err := decimalComma.check(out); err != nil {
				return err
			}
			if rowGroup < 0 {
				return usageError{fmt.Errorf("--row-group %d: want rows per row group, or 0 for the default", rowGroup)}
			}
			if err := synth.WriteFile(cmd.Context(), out, n, seed, data.WriteOptions{DecimalComma: decimalComma.on, RowGroupSize: rowGroup}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d SYNTHETIC patients (seed %d, model %s) to %s\n", n, seed, synth.ModelVersion, out)
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "n", 5000, "number of patients")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed; the same seed gives the same cohort")
	cmd.Flags().StringVar(&out, "out", "", "output file, .parquet or .csv (the synthetic label of a CSV in FILE.csv.meta.json; written atomically)")
	cmd.Flags().Int64Var(&rowGroup, "row-group", 0, fmt.Sprintf("rows per Parquet row group (0: %d); predict --shard shares a file out by row group", data.DefaultRowGroupSize))
	cmd.Flags().StringVar(&format, "format", "", "fhir: FHIR R4 Bundles, one per line, to a .ndjson file; default: the table --out names")
	decimalComma.register(cmd.Flags(), "--out")
	return cmd
}
