package train

import (
	"context"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// PlanOptions are what PlanValidation anticipates: CStatistic (the model's
// cross-validated AUC, say) is required; a zero Prevalence is taken from the
// file's labelled rows when they hold both outcomes, else from the model's
// training rows.
type PlanOptions struct {
	Prevalence float64
	CStatistic float64
	Widths     stats.ValidationWidths
}

// ValidationPlan is the sample size an external validation of a model on a
// population needs, from that population's covariates.
type ValidationPlan struct {
	stats.ValidationSize
	// PrevalenceFrom says where the prevalence came from: "given", "the
	// file's labelled rows" or "the training rows".
	PrevalenceFrom string `json:"prevalence_from"`
	// Undefined counts the rows for which the target has no meaning (an
	// abscopal response without RT): neither scored nor counted.
	Undefined int `json:"undefined_rows"`
	// Labelled and Positives count the rows with a target, and with the
	// outcome: a file may have none.
	Labelled  int `json:"labelled_rows"`
	Positives int `json:"positives"`
}

// PlanValidation scores every row of src (outcomes not needed) with m and
// returns the minimum sample size for validating m on patients like them.
func PlanValidation(ctx context.Context, m *models.Model, src *features.Source, opts PlanOptions) (*ValidationPlan, error) {
	spec := m.Bundle.Pipeline.Spec
	var (
		plan  ValidationPlan
		probs []float64
		s     models.Scratch
	)
	err := src.EachAhead(ctx, func(r features.Record) error {
		if pt, ok := features.PatientOf(r); ok && pt.Undefined(m.Bundle.Target) != "" {
			plan.Undefined++
			return nil
		}
		if pos, ok := spec.Label(r); ok {
			plan.Labelled++
			if pos {
				plan.Positives++
			}
		}
		probs = append(probs, m.ScoreWith(r, &s).Probability)
		return nil
	})
	if err != nil {
		return nil, err
	}
	prevalence, from := opts.Prevalence, "given"
	if prevalence == 0 {
		if plan.Positives > 0 && plan.Positives < plan.Labelled {
			prevalence, from = float64(plan.Positives)/float64(plan.Labelled), "the file's labelled rows"
		} else {
			t := m.Bundle.Training
			prevalence, from = float64(t.Positives)/float64(max(1, t.Rows)), "the training rows"
		}
	}
	plan.PrevalenceFrom = from
	if plan.ValidationSize, err = stats.MinimumValidationSize(prevalence, opts.CStatistic, probs, opts.Widths); err != nil {
		return nil, err
	}
	return &plan, nil
}
