package main

import (
	"encoding/json"
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/spf13/cobra"
)

// schemaField is the JSON form of a schema field.
type schemaField struct {
	Name        string   `json:"name"`
	Group       string   `json:"group"`
	Kind        string   `json:"kind"`
	Unit        string   `json:"unit,omitempty"`
	Required    bool     `json:"required"`
	RequiredRT  bool     `json:"required_when_rt,omitempty"`
	Min         *float64 `json:"min,omitempty"`
	Max         *float64 `json:"max,omitempty"`
	Levels      []string `json:"levels,omitempty"`
	Outcome     bool     `json:"outcome,omitempty"`
	Synthetic   bool     `json:"synthetic_only,omitempty"`
	Description string   `json:"description"`
}

func newSchemaCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "schema [--format markdown|json]",
		Short: "Print the cohort schema: columns, kinds, units and allowed ranges",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "markdown":
				fmt.Fprint(cmd.OutOrStdout(), data.SchemaMarkdown())
				return nil
			case "json":
				var out []schemaField
				for _, f := range data.CohortFields() {
					sf := schemaField{Name: f.Name, Group: f.Group, Kind: f.KindName(), Unit: f.Unit, Required: f.Required,
						RequiredRT: f.RequiredWhenRT, Levels: f.Levels, Outcome: f.Outcome, Synthetic: f.Synthetic, Description: f.Description}
					if f.HasRange {
						sf.Min, sf.Max = &f.Min, &f.Max
					}
					out = append(out, sf)
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			default:
				return usageError{fmt.Errorf("--format must be markdown or json, got %q", format)}
			}
		},
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or json")
	return cmd
}
