package main

import (
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newFeaturesCmd() *cobra.Command {
	var (
		decimalComma              decimalCommaFlag
		in, specPath, out, target string
		matrix, printSpec, cat    bool
	)
	cmd := &cobra.Command{
		Use:   "features --data FILE [--spec SPEC] --out OUT.parquet|OUT.csv",
		Short: "Export engineered features for notebooks (Parquet or CSV)",
		Long: `features writes, for every row of the input, its id, its engineered features
and the outcome columns, to Parquet (with each feature's unit, definition and
source, the spec and the abscopal version as key-value metadata) or CSV (with a
<out>.meta.json sidecar).

Without --spec the input is a cohort-schema file and the built-in
radioimmunotherapy features are computed (BED, EQD2, EDIC, lymphopenia grades,
...); each row is validated first. With --spec, any Parquet or CSV file: the spec names
its columns. --matrix writes the fitted design matrix instead (imputed, one-hot
encoded, scaled), fitted on the input.

--print-spec prints the built-in spec as YAML, a starting point for your own;
--catalogue lists the built-in features with units, definitions and sources.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cat {
				fmt.Fprint(cmd.OutOrStdout(), features.CatalogueMarkdown())
				return nil
			}
			spec := features.BuiltinSpec(target)
			if printSpec {
				b, err := spec.YAML()
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(b)
				return err
			}
			if in == "" || out == "" {
				return usageError{errors.New("--data and --out are required")}
			}
			if specPath != "" {
				var err error
				if spec, err = features.LoadSpec(specPath); err != nil {
					return err
				}
			}
			if err := decimalComma.check(out); err != nil {
				return err
			}
			res, err := workflow.Export(cmd.Context(), workflow.ExportOptions{Data: in, Out: out, Spec: spec, Matrix: matrix,
				DecimalComma: decimalComma.on, Notice: notice(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d rows x %d columns to %s\n", res.Rows, len(res.Columns), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "data", "", "input Parquet or CSV file")
	cmd.Flags().StringVar(&specPath, "spec", "", "feature spec (YAML or JSON); default: the built-in iRT spec for cohort files")
	cmd.Flags().StringVar(&out, "out", "", "output file, .parquet or .csv (written atomically)")
	cmd.Flags().StringVar(&target, "target", data.AbscopalResponse, "target of the built-in spec ("+data.AbscopalResponse+" or "+data.ObjectiveResponse+")")
	cmd.Flags().BoolVar(&matrix, "matrix", false, "write the fitted design matrix instead of the engineered values")
	cmd.Flags().BoolVar(&printSpec, "print-spec", false, "print the built-in spec as YAML and exit")
	cmd.Flags().BoolVar(&cat, "catalogue", false, "print the built-in derived features (Markdown) and exit")
	decimalComma.register(cmd.Flags(), "--out")
	return cmd
}
