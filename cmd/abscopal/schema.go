package main

import (
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/spf13/cobra"
)

func newSchemaCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "schema [--format markdown|json]",
		Short: "Print the cohort schema: columns, kinds, units and allowed ranges",
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
			default:
				return usageError{fmt.Errorf("--format must be markdown or json, got %q", format)}
			}
		},
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or json")
	return cmd
}
