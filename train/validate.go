package train

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/abscopal/abscopal/data"
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
	// By, if set, is a column whose values split the rows into subgroups
	// (RT sites, ICI classes, centres), each evaluated on its own: a model
	// can rank well overall and poorly, or miscalibrated, in one of them.
	// At most MaxGroups values, null counting as one.
	By string
}

// MaxGroups is the most subgroups ValidateOptions.By may make: beyond it the
// column is more likely a measurement than a grouping, and the groups too
// small to say anything.
const MaxGroups = 20

// Validation is a published model's performance on a labelled data set: the
// same metrics as its cross-validation, of its calibrated probabilities.
type Validation struct {
	Metrics Metrics `json:"metrics"`
	// Unlabelled counts the rows left out because their target is null;
	// Undefined those for which the target has no meaning (an abscopal
	// response without radiotherapy), whatever the file says.
	Unlabelled int `json:"unlabelled_rows"`
	Undefined  int `json:"undefined_rows"`
	// Groups holds, with ValidateOptions.By, the metrics of each subgroup,
	// in the order of their values (numbers by value, null last).
	Groups []Group `json:"groups,omitempty"`
}

// Group is the validation of the rows that share one value of the By column.
type Group struct {
	Value     string `json:"value"` // "null" for the rows where the column is null
	N         int    `json:"n"`
	Positives int    `json:"positives"`
	// Metrics is nil when the group holds one outcome only: it has no AUC
	// and no calibration line.
	Metrics *Metrics `json:"metrics,omitempty"`

	key  data.Value // for the order
	p, y []float64
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
		v      Validation
		p, y   []float64
		s      models.Scratch
		groups = map[data.Value]*Group{}
	)
	kind := data.KindUnsupported
	if opts.By != "" {
		kind = src.Kind(opts.By)
	}
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
		pi, yi := m.PredictWith(r, &s).Probability, b2f(pos)
		p = append(p, pi)
		y = append(y, yi)
		if opts.By == "" {
			return nil
		}
		key := r.Value(opts.By)
		g := groups[key]
		if g == nil {
			if len(groups) == MaxGroups {
				return fmt.Errorf("%w: column %s has more than %d values; a subgroup column is a category, a flag or a grade", ErrValidate, opts.By, MaxGroups)
			}
			g = &Group{Value: groupName(key, kind), key: key}
			groups[key] = g
		}
		g.p = append(g.p, pi)
		g.y = append(g.y, yi)
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
	for _, g := range groups {
		g.N = len(g.y)
		for _, yi := range g.y {
			g.Positives += int(yi)
		}
		if g.Positives > 0 && g.Positives < g.N {
			m := Evaluate(g.p, g.y, opts.Threshold, opts.Bootstrap, opts.Seed)
			g.Metrics = &m
		}
		g.p, g.y = nil, nil
		v.Groups = append(v.Groups, *g)
	}
	sort.Slice(v.Groups, func(a, b int) bool { return groupLess(v.Groups[a].key, v.Groups[b].key) })
	return &v, nil
}

// groupName writes a subgroup's value as its column's kind reads.
func groupName(v data.Value, kind data.Kind) string {
	switch {
	case !v.Valid:
		return "null"
	case kind == data.KindBool:
		return strconv.FormatBool(v.Bool)
	case kind == data.KindInt || kind == data.KindFloat:
		return strconv.FormatFloat(v.Num, 'g', -1, 64)
	}
	return v.Str
}

// groupLess orders subgroup values: numbers by value, strings as strings,
// false before true, null last.
func groupLess(a, b data.Value) bool {
	switch {
	case !a.Valid || !b.Valid:
		return a.Valid && !b.Valid
	case a.Num != b.Num:
		return a.Num < b.Num
	case a.Bool != b.Bool:
		return !a.Bool
	}
	return a.Str < b.Str
}
