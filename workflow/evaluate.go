package workflow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/plots"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// EvaluateOptions are what Evaluate takes.
type EvaluateOptions struct {
	Registry *models.Registry
	// Models are the versions evaluated (NAME, NAME@ALIAS, NAME:VERSION);
	// several must share a target, and are compared with the first.
	Models []string
	Data   string // a labelled Parquet or CSV file
	// Validate are the settings of each validation; a zero Threshold takes
	// each model's own.
	Validate train.ValidateOptions
}

// Evaluation is one published model's validation on a labelled file, beside
// its cross-validation ("abscopal evaluate --json" prints it).
type Evaluation struct {
	Model      string `json:"model"`
	Version    string `json:"version"`
	Algo       string `json:"algo"`
	Target     string `json:"target"`
	Outcome    string `json:"outcome"`   // with its threshold: pneumonitis_grade >= 2
	DataFile   string `json:"data_file"` // base name only, as in a bundle
	DataSHA256 string `json:"data_sha256"`
	// TrainingFile is true when the file is the one the model was trained
	// on: the figures are then in-sample, not a validation.
	TrainingFile bool `json:"training_file"`
	// RecalibrationFile is true when the file is the one a recalibrated
	// version's calibration was fitted on: its calibration figures are
	// then in-sample.
	RecalibrationFile bool   `json:"recalibration_file"`
	Synthetic         bool   `json:"synthetic"`
	By                string `json:"by,omitempty"` // the subgroup column of Groups
	// Pool says whether pooling the groups was asked for.
	Pool bool `json:"-"`
	// SampleWarning says when the file has too few events or non-events
	// for a validation (stats.SmallValidation).
	SampleWarning string `json:"sample_warning,omitempty"`
	// ValidationSize is Riley et al.'s minimum for validating this model on
	// patients like the file's (stats.MinimumValidationSize, from the
	// file's prevalence and predictions and the cross-validated AUC); nil
	// when the model's AUC gives it nothing to work from.
	ValidationSize *stats.ValidationSize `json:"validation_size,omitempty"`
	train.Validation
	CrossValidated stats.Metrics `json:"cross_validated"`
}

// ComparedModel is one of several models evaluated on one file.
type ComparedModel struct {
	Evaluation
	// MinusReference is this model's AUC minus the first model's, on the
	// same rows, with a paired-bootstrap 95% interval.
	MinusReference   float64    `json:"auc_minus_reference"`
	MinusReferenceCI [2]float64 `json:"auc_minus_reference_ci"`
}

// EvaluationSet is several models evaluated on one file.
type EvaluationSet struct {
	Reference string          `json:"reference"` // the first model, NAME:VERSION
	Models    []ComparedModel `json:"models"`
}

// Evaluate validates each model of opts on the labelled file: every row
// scored as predict does, the calibrated probabilities against the
// outcomes. Models of another target than the first are refused.
func Evaluate(ctx context.Context, opts EvaluateOptions) ([]*Evaluation, error) {
	sum, err := FileSHA256(opts.Data)
	if err != nil {
		return nil, err
	}
	var evs []*Evaluation
	for _, ref := range opts.Models {
		ev, err := evaluateModel(ctx, opts.Registry, ref, opts.Data, sum, opts.Validate)
		if err != nil {
			return nil, err
		}
		if len(evs) > 0 && ev.Outcome != evs[0].Outcome {
			return nil, fmt.Errorf("%s:%s predicts %s and %s:%s %s: models compared on one file must share a target",
				evs[0].Model, evs[0].Version, evs[0].Outcome, ev.Model, ev.Version, ev.Outcome)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// evaluateModel validates the model ref on the file in (whose SHA-256 is
// sum); a zero opts.Threshold takes the model's own.
func evaluateModel(ctx context.Context, reg *models.Registry, ref, in, sum string, opts train.ValidateOptions) (*Evaluation, error) {
	m, err := reg.Load(ref)
	if err != nil {
		return nil, err
	}
	if m.Survival != nil {
		return nil, fmt.Errorf("%w: %s:%s: external validation of a time-to-event model is not built yet (its card has the cross-validated C, AUC(t) and Brier scores)", ErrTimeToEvent, m.Bundle.Name, m.Version)
	}
	b := m.Bundle
	cv, _ := b.RecordedMetrics()
	if opts.Threshold == 0 {
		opts.Threshold = train.ThresholdOf(b)
	}
	sopts := features.SourceOptions{NeedTarget: true}
	if opts.By != "" {
		sopts.Also = []string{opts.By}
	}
	for _, name := range opts.Survival {
		e, _ := data.EndpointOf(name)
		sopts.Also = append(sopts.Also, e.Time, e.Event)
	}
	src, _, err := m.OpenSource(ctx, in, sopts)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	v, err := train.Validate(ctx, m, src, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	var size *stats.ValidationSize
	prevalence := float64(v.Metrics.Positives) / float64(v.Metrics.N)
	if s, err := stats.MinimumValidationSize(prevalence, cv.AUC, v.Predictions, stats.ValidationWidths{}); err == nil {
		size = &s
	}
	return &Evaluation{Model: b.Name, Version: m.Version, Algo: b.Algo, Target: b.Target, Outcome: b.Outcome(), ValidationSize: size,
		DataFile: filepath.Base(in), DataSHA256: sum, TrainingFile: sum == b.Training.DataSHA256,
		RecalibrationFile: b.Recalibrated != nil && sum == b.Recalibrated.DataSHA256,
		Synthetic:         src.Synthetic() || b.Synthetic(), By: opts.By, Pool: opts.Pool, Validation: *v, CrossValidated: cv,
		SampleWarning: stats.SmallValidation(v.Metrics)}, nil
}

// CompareEvaluations sets each model's AUC against the first one's, on the
// same rows. Models of one target leave out the same rows of a file; a
// difference means their specs read the target differently.
func CompareEvaluations(evs []*Evaluation, resamples int, seed uint64) (*EvaluationSet, error) {
	first := evs[0]
	set := &EvaluationSet{Reference: first.Model + ":" + first.Version}
	for _, ev := range evs {
		if !slices.Equal(ev.Labels, first.Labels) {
			return nil, fmt.Errorf("%s:%s and %s:%s scored different rows or read different outcomes (%d and %d rows): compare models of one target definition",
				first.Model, first.Version, ev.Model, ev.Version, len(first.Labels), len(ev.Labels))
		}
		d, lo, hi := stats.CompareAUC(ev.Predictions, first.Predictions, first.Labels, resamples, seed)
		set.Models = append(set.Models, ComparedModel{Evaluation: *ev, MinusReference: d, MinusReferenceCI: [2]float64{lo, hi}})
	}
	return set, nil
}

// EvaluationPlots are where an evaluation's figures go ("": not drawn).
type EvaluationPlots struct {
	Calibration   string // an .svg file
	DecisionCurve string // an .svg file
	SurvivalDir   string // a directory, for survival_ENDPOINT.svg
}

// CheckPlots refuses plot paths that are not .svg or cannot be written,
// before any work.
func (p EvaluationPlots) CheckPlots() error {
	for _, path := range []string{p.Calibration, p.DecisionCurve} {
		if path == "" {
			continue
		}
		if strings.ToLower(filepath.Ext(path)) != ".svg" {
			return optionError("%s: the extension must be .svg", path)
		}
		if err := data.CheckWritable(path); err != nil {
			return err
		}
	}
	return nil
}

// WritePlots draws ev's calibration plot, decision curve and survival
// curves into the paths that are set, each written atomically.
func (p EvaluationPlots) WritePlots(ev *Evaluation) error {
	if p.SurvivalDir != "" {
		if err := os.MkdirAll(p.SurvivalDir, 0o755); err != nil {
			return err
		}
		for _, s := range ev.Survival {
			svg, err := plots.SurvivalSVG(s, fmt.Sprintf("%s by prediction of %s:%s on %s", strings.ToUpper(s.Endpoint), ev.Model, ev.Version, ev.DataFile))
			if err != nil {
				return err
			}
			if err := data.WriteFileAtomic(filepath.Join(p.SurvivalDir, plots.SurvivalFile(s.Endpoint)), svg); err != nil {
				return err
			}
		}
	}
	if p.Calibration != "" {
		svg, err := plots.CalibrationSVG(ev.Metrics, fmt.Sprintf("Calibration of %s:%s\non %s", ev.Model, ev.Version, ev.DataFile))
		if err != nil {
			return err
		}
		if err := data.WriteFileAtomic(p.Calibration, svg); err != nil {
			return err
		}
	}
	if p.DecisionCurve != "" {
		svg, err := plots.DecisionCurveSVG(ev.Metrics, fmt.Sprintf("Decision curve of %s:%s on %s", ev.Model, ev.Version, ev.DataFile))
		if err != nil {
			return err
		}
		if err := data.WriteFileAtomic(p.DecisionCurve, svg); err != nil {
			return err
		}
	}
	return nil
}
