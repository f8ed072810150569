package workflow

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// ScoreSummary is what Score did ("abscopal predict --json" prints it).
type ScoreSummary struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	Target  string `json:"target"`
	Outcome string `json:"outcome"` // with its threshold: pneumonitis_grade >= 2
	Out     string `json:"out"`
	*models.Scored
}

// Score streams the rows of the file in through the version ref and writes
// the scores to out (models.Model.ScoreFile): batch scoring, its size not
// bounded by memory.
func Score(ctx context.Context, reg *models.Registry, ref, in, out string, opts models.ScoreOptions) (*ScoreSummary, error) {
	if err := CheckOutput(out); err != nil {
		return nil, err
	}
	m, err := reg.Load(ref)
	if err != nil {
		return nil, err
	}
	return ScoreWith(ctx, m, in, out, opts)
}

// ScoreWith is Score with a model already loaded: a server scoring an
// uploaded file with the version it serves.
func ScoreWith(ctx context.Context, m *models.Model, in, out string, opts models.ScoreOptions) (*ScoreSummary, error) {
	res, err := m.ScoreFile(ctx, in, out, opts)
	if err != nil {
		return nil, err
	}
	b := m.Bundle
	return &ScoreSummary{Model: b.Name, Version: m.Version, Target: b.Target, Outcome: b.Outcome(), Out: out, Scored: res}, nil
}

// SampleSizeReport is a validation's minimum sample size for a model on a
// population ("abscopal samplesize --json" prints it).
type SampleSizeReport struct {
	Model          string `json:"model"`
	Version        string `json:"version"`
	Outcome        string `json:"outcome"`
	Target         string `json:"-"`
	DataFile       string `json:"data_file"` // base name only
	CStatisticFrom string `json:"c_statistic_from"`
	*train.ValidationPlan
}

// PlanValidation gives the minimum number of patients for validating the
// version ref on patients like those of the file in (their covariates;
// outcomes not needed): train.PlanValidation, anticipating the model's
// cross-validated AUC unless opts gives a C-statistic.
func PlanValidation(ctx context.Context, reg *models.Registry, ref, in string, opts train.PlanOptions) (*SampleSizeReport, error) {
	if opts.Prevalence < 0 || opts.Prevalence >= 1 {
		return nil, optionError("prevalence %v must be in (0, 1)", opts.Prevalence)
	}
	if opts.CStatistic != 0 && !(opts.CStatistic > 0.5 && opts.CStatistic < 1) {
		return nil, optionError("C-statistic %v must be in (0.5, 1)", opts.CStatistic)
	}
	m, err := reg.Load(ref)
	if err != nil {
		return nil, err
	}
	if m.Survival != nil {
		return nil, fmt.Errorf("%w: %s:%s: a validation sample size is planned for a binary outcome's model", ErrTimeToEvent, m.Bundle.Name, m.Version)
	}
	cFrom := "given"
	if opts.CStatistic == 0 {
		cv, _ := m.Bundle.RecordedMetrics()
		opts.CStatistic, cFrom = cv.AUC, "the model's cross-validated AUC"
	}
	if opts.Widths == (stats.ValidationWidths{}) {
		opts.Widths = stats.DefaultValidationWidths()
	}
	src, _, err := m.OpenSource(ctx, in, features.SourceOptions{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	plan, err := train.PlanValidation(ctx, m, src, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	return &SampleSizeReport{Model: m.Bundle.Name, Version: m.Version, Outcome: m.Bundle.Outcome(), Target: m.Bundle.Target,
		DataFile: filepath.Base(in), CStatisticFrom: cFrom, ValidationPlan: plan}, nil
}

// ExportOptions are what Export takes.
type ExportOptions struct {
	Data, Out string
	Spec      *features.Spec // features.BuiltinSpec's for a cohort file
	// Matrix writes the fitted design matrix instead of the engineered
	// values; DecimalComma a CSV with semicolons and decimal commas.
	Matrix, DecimalComma bool
	Notice               Notice
}

// Export writes, for every row of a file, its id, its engineered features
// and the outcome columns, for a notebook (features.Export).
func Export(ctx context.Context, opts ExportOptions) (*features.ExportResult, error) {
	spec := opts.Spec
	res, err := features.Export(ctx, opts.Data, opts.Out, spec, features.ExportOptions{
		Matrix: opts.Matrix, Version: buildinfo.Read().Version, DecimalComma: opts.DecimalComma})
	if err != nil {
		return nil, spec.AdviseSpec(err)
	}
	if len(res.Dropped) > 0 {
		opts.Notice.say(droppedNotice(res.Dropped))
	}
	return res, nil
}
