// Package features turns cohort records into model inputs: the built-in
// radioimmunotherapy (iRT) features (BED, EQD2, EDIC, lymphopenia grades,
// ...), feature specs that name the columns of any Parquet file, the fitted
// pipeline (category levels, imputation, scaling) that is learned on
// training rows and serialized with a model, and export for notebooks.
//
// The fitted pipeline is the one code path from a record to a feature
// vector, for a single patient at serving time and for a whole cohort at
// training time.
package features

import (
	"fmt"
	"strings"

	"github.com/abscopal/abscopal/radiobiology"
)

// CatalogueMarkdown renders the built-in derived features as the Markdown of
// docs/features.md.
func CatalogueMarkdown() string {
	var b strings.Builder
	b.WriteString("# Built-in radioimmunotherapy features\n\n")
	b.WriteString("Generated from the code by `abscopal features --catalogue`; do not edit by hand.\n\n")
	b.WriteString("A spec names one with `derived: NAME` (for `bed` and `eqd2`, `alpha_beta_gy` sets alpha/beta; default 10 Gy).\n")
	b.WriteString("Patients without radiotherapy (`rt_dose_gy` 0 or null) get defined values: doses 0, flags false, site and sequence `none`.\n\n")
	b.WriteString("| name | column written | kind | unit | definition | source | inputs |\n|---|---|---|---|---|---|---|\n")
	for _, n := range DerivedNames() {
		d := derivedCatalogue[n]
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s | %s | %s |\n", d.Name, d.OutputName(radiobiology.TumourAlphaBetaGy), d.Kind, d.Unit,
			d.Definition, d.Source, strings.Join(d.Inputs, ", "))
	}
	b.WriteString("\n## The built-in spec\n\n")
	b.WriteString("`abscopal features` without `--spec` reads a cohort-schema file with the built-in spec (`abscopal features --print-spec`):\n")
	b.WriteString("the cohort's input columns plus every feature above; numeric inputs are standardized, TMB, ALC and NLR log1p-transformed first.\n")
	return b.String()
}
