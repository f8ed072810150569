package train

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// RecalibrateOptions are the settings of Recalibrate.
type RecalibrateOptions struct {
	// Method is models.CalibrationPlatt or models.CalibrationIsotonic (a
	// new map) or models.CalibrationIntercept (the old one shifted).
	Method    string
	Bootstrap int    // resamples for the AUC intervals of the report; 0: none
	Seed      uint64 // of the resamples
}

// Recalibrated is a published model whose calibration was refitted on the
// labelled rows of another file, as the bundle of a new version.
type Recalibrated struct {
	Bundle *models.Bundle
	// Before and After are the metrics, on the file, of the probabilities
	// with the old calibration and with the new one. After is in-sample:
	// the new calibrator was fitted on those rows.
	Before, After stats.Metrics
	// Shift is, for the intercept method, the log-odds added to every
	// patient's.
	Shift float64
	// Unlabelled and Undefined count the rows left out, as in Validation.
	Unlabelled, Undefined int
}

// Recalibrate keeps m's pipeline and model and fits a new calibrator on the
// model's scores of the labelled rows of src: the update a model needs when
// it ranks the patients of a new centre or period well and misjudges their
// risk (Steyerberg, Clinical Prediction Models, 2nd ed., ch. 20). The order
// of patients, and so the AUC, is unchanged. origin gives m's NAME:VERSION
// and the data file's name, SHA-256 and synthetic label; the new bundle
// records them with the method, the row counts and the report's bootstrap
// settings, so that the same inputs give the same bundle, byte for byte.
func Recalibrate(ctx context.Context, m *models.Model, src *features.Source, origin models.Recalibration, opts RecalibrateOptions) (*Recalibrated, error) {
	switch opts.Method {
	case models.CalibrationPlatt, models.CalibrationIsotonic, models.CalibrationIntercept:
	default:
		return nil, fmt.Errorf("%w: recalibration method %q (platt, isotonic or intercept)", ErrValidate, opts.Method)
	}
	sc, err := scoreLabelled(ctx, m, src, "", nil)
	if err != nil {
		return nil, err
	}
	var (
		cal   *models.Calibrator
		shift float64
	)
	if opts.Method == models.CalibrationIntercept {
		cal, shift, err = models.ShiftIntercept(m.Bundle.Calibration, sc.score, sc.y)
	} else {
		cal, err = models.FitCalibrator(opts.Method, sc.score, sc.y)
	}
	if err != nil {
		return nil, err
	}
	threshold := ThresholdOf(m.Bundle)
	after := make([]float64, len(sc.score))
	for i, s := range sc.score {
		after[i] = cal.Apply(s)
	}
	r := &Recalibrated{
		Before: stats.Evaluate(sc.p, sc.y, threshold, opts.Bootstrap, opts.Seed),
		After:  stats.Evaluate(after, sc.y, threshold, opts.Bootstrap, opts.Seed),
		Shift:  shift, Unlabelled: sc.unlabelled, Undefined: sc.undefined,
	}

	b := *m.Bundle // the pipeline and model are shared, not changed
	b.Calibration = cal
	info := origin
	info.Method, info.Rows, info.Positives = opts.Method, r.After.N, r.After.Positives
	info.Bootstrap, info.Seed = opts.Bootstrap, opts.Seed
	b.Recalibrated = &info
	var metrics map[string]json.RawMessage
	if err := json.Unmarshal(m.Bundle.Metrics, &metrics); err != nil {
		return nil, fmt.Errorf("%s: metrics: %w", origin.From, err)
	}
	if metrics["recalibration"], err = json.Marshal(struct {
		Before stats.Metrics `json:"before"`
		After  stats.Metrics `json:"after_in_sample"`
	}{r.Before, r.After}); err != nil {
		return nil, err
	}
	if b.Metrics, err = json.Marshal(metrics); err != nil {
		return nil, err
	}
	r.Bundle = &b
	return r, nil
}
