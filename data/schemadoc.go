package data

import (
	"fmt"
	"strings"
)

// FieldInfo is the JSON form of a schema field, as "abscopal schema
// --format json" and GET /v1/schema give it.
type FieldInfo struct {
	Name           string   `json:"name"`
	Group          string   `json:"group"`
	Kind           string   `json:"kind"`
	Unit           string   `json:"unit,omitempty"`
	Required       bool     `json:"required"`
	RequiredWhenRT bool     `json:"required_when_rt,omitempty"`
	Min            *float64 `json:"min,omitempty"`
	Max            *float64 `json:"max,omitempty"`
	Levels         []string `json:"levels,omitempty"`
	Outcome        bool     `json:"outcome,omitempty"`
	Synthetic      bool     `json:"synthetic_only,omitempty"`
	Description    string   `json:"description"`
}

// Info returns the field's JSON form.
func (f *Field) Info() FieldInfo {
	fi := FieldInfo{Name: f.Name, Group: f.Group, Kind: f.KindName(), Unit: f.Unit, Required: f.Required,
		RequiredWhenRT: f.RequiredWhenRT, Levels: f.Levels, Outcome: f.Outcome, Synthetic: f.Synthetic, Description: f.Description}
	if f.HasRange {
		lo, hi := f.Min, f.Max
		fi.Min, fi.Max = &lo, &hi
	}
	return fi
}

// SchemaMarkdown renders the cohort schema as the Markdown table of
// docs/cohort-schema.md.
func SchemaMarkdown() string {
	var b strings.Builder
	b.WriteString("# Cohort schema\n\n")
	b.WriteString("Generated from `data.CohortFields` by `abscopal schema --format markdown`; do not edit by hand.\n\n")
	b.WriteString("One row per patient. Column names are the Parquet column names and the JSON field names.\n")
	b.WriteString("Float columns must be DOUBLE or FLOAT (or DECIMAL); int columns an integer type (INT32, INT64);\n")
	b.WriteString("abscopal refuses a DOUBLE where it wants an integer and the reverse, rather than guess.\n")
	b.WriteString("A NaN in a floating-point column is read as null. Columns not listed are ignored.\n\n")
	b.WriteString("| group | column | kind | unit | required | allowed | definition |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, f := range cohortFieldsList {
		req := ""
		switch {
		case f.Required:
			req = "yes"
		case f.RequiredWhenRT:
			req = "when rt_dose_gy > 0"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s | %s |\n", f.Group, f.Name, f.KindName(), f.Unit, req, f.Allowed(), f.Description)
	}
	b.WriteString("\nRules that tie fields together:\n\n")
	b.WriteString("- `rt_dose_gy` 0 or null means no radiotherapy; then `rt_fractions` must be null or 0 and `abscopal_response` null.\n")
	b.WriteString("- With radiotherapy, `rt_fractions` >= 1, `rt_site` present, and dose per fraction at most ")
	fmt.Fprintf(&b, "%d Gy.\n", MaxDosePerFractionGy)
	b.WriteString("- `patient_id` values are unique (checked by `abscopal validate`).\n")
	b.WriteString("- `true_p_abscopal` and `true_p_response` exist only in synthetic cohorts.\n")
	return b.String()
}
