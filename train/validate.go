package train

import (
	"context"
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
)

// ErrValidate is wrapped by errors about a validation file as a whole.
var ErrValidate = errors.New("cannot evaluate the model")

// ValidateOptions are the settings of Validate.
type ValidateOptions struct {
	Threshold float64 // for sensitivity and specificity
	Bootstrap int     // resamples for the AUC interval; 0: none
	Seed      uint64  // of the resamples
}

// Validation is a published model's performance on a labelled data set: the
// same metrics as its cross-validation, of its calibrated probabilities.
type Validation struct {
	Metrics Metrics `json:"metrics"`
	// Unlabelled counts the rows left out because their target is null;
	// Undefined those for which the target has no meaning (an abscopal
	// response without radiotherapy), whatever the file says.
	Unlabelled int `json:"unlabelled_rows"`
	Undefined  int `json:"undefined_rows"`
}

// Validate scores every row of src with m and compares the calibrated
// probabilities with the rows' outcomes. It is external validation when src
// holds patients the model was not trained on (another centre, a later
// period); on the training file itself the figures are in-sample and
// optimistic. The probabilities are kept in memory (16 bytes a row); the
// records are not.
func Validate(ctx context.Context, m *models.Model, src *features.Source, opts ValidateOptions) (*Validation, error) {
	spec := m.Bundle.Pipeline.Spec
	var (
		v    Validation
		p, y []float64
		s    models.Scratch
	)
	err := src.Each(ctx, func(r features.Record) error {
		if pr, ok := r.(features.PatientRecord); ok && pr.P.Undefined(m.Bundle.Target) != "" {
			v.Undefined++
			return nil
		}
		pos, ok := spec.Label(r)
		if !ok {
			v.Unlabelled++
			return nil
		}
		p = append(p, m.PredictWith(r, &s).Probability)
		y = append(y, b2f(pos))
		return nil
	})
	if err != nil {
		return nil, err
	}
	positives := 0
	for _, yi := range y {
		positives += int(yi)
	}
	switch {
	case len(y) == 0:
		return nil, fmt.Errorf("%w: no row has a value of the target %s (%d null, %d without meaning for it)", ErrValidate, spec.Target.Column, v.Unlabelled, v.Undefined)
	case positives == 0 || positives == len(y):
		return nil, fmt.Errorf("%w: all %d labelled rows have the same outcome (%d positive): the AUC and calibration need both", ErrValidate, len(y), positives)
	}
	v.Metrics = Evaluate(p, y, opts.Threshold, opts.Bootstrap, opts.Seed)
	return &v, nil
}
