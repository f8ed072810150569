package main

import (
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/fhir"
	"github.com/spf13/cobra"
)

func newSchemaCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "schema [--format markdown|json|fhir]",
		Short: "Print the cohort schema: columns, kinds, units and allowed ranges (fhir: where each comes from in a FHIR R4 chart)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "markdown":
				fmt.Fprint(cmd.OutOrStdout(), data.SchemaMarkdown())
				return nil
			case "json":
				var out []data.FieldInfo
				for _, f := range data.CohortFields() {
					out = append(out, f.Info())
				}
				return printJSON(cmd.OutOrStdout(), out)
			case "fhir":
				fmt.Fprint(cmd.OutOrStdout(), fhir.Markdown(fhir.Mappings()))
				return nil
			default:
				return usageError{fmt.Errorf("--format must be markdown, json or fhir, got %q", format)}
			}
		},
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown, json, or fhir (docs/fhir.md's mapping table)")
	return cmd
}
