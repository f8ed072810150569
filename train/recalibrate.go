package train

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

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

// Files renders the recalibrated version's files from those of the version
// it came from (original): bundle.json; card.md, a recalibration section
// before the original card, whose figures stay those of the original's own
// calibration; the original's calibration.svg, decision_curve.svg and
// instability.svg, to which that card refers; and recalibration.svg, the
// calibration of the original on the new file, which made the
// recalibration needed.
func (r *Recalibrated) Files(original map[string][]byte) (map[string][]byte, error) {
	js, err := json.MarshalIndent(r.Bundle, "", "  ")
	if err != nil {
		return nil, err
	}
	rc := r.Bundle.Recalibrated
	svg, err := CalibrationSVG(r.Before, fmt.Sprintf("%s on %s, before recalibration", rc.From, rc.DataFile))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"bundle.json":       append(js, '\n'),
		"card.md":           []byte(r.card(original[models.BootstrapFile] != nil) + string(original["card.md"])),
		"calibration.svg":   original["calibration.svg"],
		"recalibration.svg": svg,
	}
	// The original card's other plots, whichever it has: a decision curve
	// (versions made before it was drawn have none), the instability plot,
	// the survival curves.
	for name, b := range original {
		if strings.HasSuffix(name, ".svg") && files[name] == nil {
			files[name] = b
		}
	}
	return files, nil
}

// card writes the recalibration section that opens a recalibrated
// version's card; kept says the original kept bootstrap models for
// intervals, which this version does not carry.
func (r *Recalibrated) card(kept bool) string {
	var w strings.Builder
	b, rc := r.Bundle, r.Bundle.Recalibrated
	fmt.Fprintf(&w, "# Model card: %s, recalibrated\n\n", b.Name)
	if b.Synthetic() {
		w.WriteString("> **SYNTHETIC data: not for clinical use.** The model or its recalibration used data from `abscopal synth`.\n\n")
	}
	w.WriteString("## Recalibration\n\n")
	if rc.Method == models.CalibrationIntercept {
		fmt.Fprintf(&w, "This version is %s's feature pipeline, model and calibration, with every patient's log-odds shifted\n", rc.From)
		fmt.Fprintf(&w, "by %+.3f (recalibration in the large: the slope kept), the shift that fits the %d\n", r.Shift, rc.Rows)
	} else {
		fmt.Fprintf(&w, "This version is %s's feature pipeline and model with a new calibration (%s), fitted on the %d\n", rc.From, rc.Method, rc.Rows)
	}
	fmt.Fprintf(&w, "labelled patients (%d positive) of `%s` (SHA-256 `%s`). Recalibration changes the probabilities,\n", rc.Positives, rc.DataFile, rc.DataSHA256)
	w.WriteString("not the order of the patients: the AUC stays what it was.\n\n")
	fmt.Fprintf(&w, "| on `%s` | before (%s's calibration) | after (in-sample) |\n|---|---|---|\n", rc.DataFile, rc.From)
	bm, am := r.Before, r.After
	fmt.Fprintf(&w, "| ROC AUC | %.3f | %.3f |\n", bm.AUC, am.AUC)
	fmt.Fprintf(&w, "| Brier score | %.4f | %.4f |\n", bm.Brier, am.Brier)
	fmt.Fprintf(&w, "| log loss | %.4f | %.4f |\n", bm.LogLoss, am.LogLoss)
	fmt.Fprintf(&w, "| calibration intercept (ideal 0) | %.3f | %.3f |\n", bm.CalIntercept, am.CalIntercept)
	fmt.Fprintf(&w, "| calibration slope (ideal 1) | %.3f | %.3f |\n", bm.CalSlope, am.CalSlope)
	fmt.Fprintf(&w, "| ICI, mean distance from the smoothed calibration curve (ideal 0) | %.3f | %.3f |\n\n", bm.ICI, am.ICI)
	w.WriteString("The \"after\" column is in-sample: the calibration was fitted on these patients, so it flatters itself.\n")
	w.WriteString("Validate the recalibrated model on other patients of the same setting (`abscopal evaluate`).\n\n")
	w.WriteString("![calibration before recalibration](recalibration.svg)\n\n")
	if kept {
		// The bootstrap models were calibrated as the original was: their
		// spread would be around its probabilities, not these.
		fmt.Fprintf(&w, "This version gives no intervals: %s's bootstrap models (its `bootstrap.json`) are calibrated as it was, and\n", rc.From)
		w.WriteString("are not carried over.\n\n")
	}
	fmt.Fprintf(&w, "The rest of this card is %s's, as trained: its performance figures are of its own calibration,\n", rc.From)
	w.WriteString("cross-validated on its training data.\n\n---\n\n")
	return w.String()
}
