package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
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
	// Pool, with By, pools the subgroups' AUCs by random effects
	// (Validation.Pooled): for subgroups that are centres, whose mean and
	// spread say what to expect at another.
	Pool bool
	// Tau2 estimates the between-centre variance of the pooling; ""
	// is PauleMandel.
	Tau2 stats.Tau2Method
	// Survival, if set, names survival endpoints (Endpoints) on which the
	// patients given a probability of at least Threshold are compared with
	// the others (Validation.Survival); the source must read their
	// columns (data.EndpointOf).
	Survival []string
}

// MaxGroups is the most subgroups ValidateOptions.By may make: beyond it the
// column is more likely a measurement than a grouping, and the groups too
// small to say anything.
const MaxGroups = 20

// Validation is a published model's performance on a labelled data set: the
// same metrics as its cross-validation, of its calibrated probabilities.
type Validation struct {
	Metrics stats.Metrics `json:"metrics"`
	// Unlabelled counts the rows left out because their target is null;
	// Undefined those for which the target has no meaning (an abscopal
	// response without radiotherapy), whatever the file says.
	Unlabelled int `json:"unlabelled_rows"`
	Undefined  int `json:"undefined_rows"`
	// Groups holds, with ValidateOptions.By, the metrics of each subgroup,
	// in the order of their values (numbers by value, null last).
	Groups []stats.Group `json:"groups,omitempty"`
	// Pooled is, with ValidateOptions.Pool, the random-effects summary of
	// the groups' AUCs (nil when fewer than two have one).
	Pooled *stats.PooledAUC `json:"pooled_across_groups,omitempty"`
	// Predictions and Labels are the scored rows, in file order: two models
	// validated on one file can be compared row by row (CompareAUC).
	Predictions []float64 `json:"-"`
	Labels      []float64 `json:"-"`
	// Inputs are, by feature, the values of the labelled rows imputed, not
	// recognised or outside the training range.
	Inputs []models.InputReport `json:"inputs,omitempty"`
	// CaseMix is, by feature, how far the labelled rows' values lie from
	// the training rows' (population stability index), the largest first:
	// a reason a model does otherwise on another centre.
	CaseMix []features.Shift `json:"case_mix,omitempty"`
	// Survival is, by ValidateOptions.Survival endpoint, the survival of
	// the labelled rows given a probability of at least the threshold
	// against the others'; SurvivalNotes says why an endpoint has none.
	Survival      []*stats.SurvivalSplit `json:"survival,omitempty"`
	SurvivalNotes []string               `json:"survival_notes,omitempty"`
}

// Validate scores every row of src with m and compares the calibrated
// probabilities with the rows' outcomes. It is external validation when src
// holds patients the model was not trained on (another centre, a later
// period); on the training file itself the figures are in-sample and
// optimistic. The scores are kept in memory (24 bytes a row, and the
// subgroup value with opts.By); the records are not.
func Validate(ctx context.Context, m *models.Model, src *features.Source, opts ValidateOptions) (*Validation, error) {
	if _, err := stats.ParseTau2Method(string(opts.Tau2)); err != nil {
		return nil, err
	}
	sc, err := scoreLabelled(ctx, m, src, opts.By, opts.Survival)
	if err != nil {
		return nil, err
	}
	_, names := m.Bundle.Pipeline.OutputGroups()
	v := Validation{Unlabelled: sc.unlabelled, Undefined: sc.undefined, Inputs: sc.inputs.Reports(names), CaseMix: sc.caseMix.Shifts()}
	v.Metrics = stats.Evaluate(sc.p, sc.y, opts.Threshold, opts.Bootstrap, opts.Seed)
	v.Predictions, v.Labels = sc.p, sc.y
	if v.Survival, v.SurvivalNotes, err = survivalByPrediction(opts.Survival, sc.survival, sc.p, opts.Threshold); err != nil {
		return nil, err
	}
	if opts.By != "" {
		if v.Groups, err = Subgroups(opts.By, src.Kind(opts.By), sc.keys, sc.p, sc.y, opts.Threshold, opts.Bootstrap, opts.Seed); err != nil {
			return nil, err
		}
		if opts.Pool {
			if p, err := stats.PoolAUC(v.Groups, opts.Tau2); err == nil {
				v.Pooled = p
			}
		}
	}
	return &v, nil
}

// scored is what a model makes of a labelled file's rows.
type scored struct {
	score, p, y []float64    // uncalibrated log-odds, calibrated probability, label
	keys        []data.Value // of the subgroup column, when one was asked for
	// unlabelled counts the rows whose target is null, undefined those for
	// which it has no meaning (an abscopal response without RT).
	unlabelled, undefined int
	inputs                models.InputTally
	caseMix               *features.Stability
	survival              []endpointValues // by endpoint asked for
}

// scoreLabelled scores every labelled row of src with m, reading the column
// by along if set, and the survival endpoints'. A file without both
// outcomes among its labelled rows is an error wrapping ErrValidate.
func scoreLabelled(ctx context.Context, m *models.Model, src *features.Source, by string, survival []string) (*scored, error) {
	spec := m.Bundle.Pipeline.Spec
	var (
		sc scored
		s  models.Scratch
	)
	sc.survival = make([]endpointValues, len(survival))
	columns := make([][2]string, len(survival))
	for k, e := range survival {
		ep, ok := data.EndpointOf(e)
		tc, ec := ep.Time, ep.Event
		if !ok {
			return nil, fmt.Errorf("%w: unknown endpoint %q (allowed: %v)", stats.ErrSurvival, e, data.EndpointNames())
		}
		columns[k] = [2]string{tc, ec}
	}
	row := 0
	sc.caseMix = m.Bundle.Pipeline.NewStability()
	s.ProfileInputs()
	err := src.EachAhead(ctx, func(r features.Record) error {
		if pt, ok := features.PatientOf(r); ok && pt.Undefined(m.Bundle.Target) != "" {
			sc.undefined++
			return nil
		}
		pos, ok := spec.Label(r)
		if !ok {
			sc.unlabelled++
			return nil
		}
		for k, c := range columns {
			t, e, ok, err := survivalOf(c[0], c[1], r, row)
			if err != nil {
				return err
			}
			ep := &sc.survival[k]
			ep.time, ep.event, ep.with = append(ep.time, t), append(ep.event, e), append(ep.with, ok)
		}
		row++
		pr := m.ScoreWith(r, &s)
		sc.inputs.Add(&pr.Notes)
		sc.caseMix.AddBins(pr.Notes.Bins)
		sc.score, sc.p, sc.y = append(sc.score, pr.Score), append(sc.p, pr.Probability), append(sc.y, b2f(pos))
		if by != "" {
			sc.keys = append(sc.keys, r.Value(by))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	positives := 0
	for _, yi := range sc.y {
		positives += int(yi)
	}
	switch {
	case len(sc.y) == 0:
		return nil, fmt.Errorf("%w: no row has a value of the target %s (%d null, %d without meaning for it)", ErrValidate, spec.Target.Column, sc.unlabelled, sc.undefined)
	case positives == 0 || positives == len(sc.y):
		return nil, fmt.Errorf("%w: all %d labelled rows have the same outcome (%d positive): the AUC and calibration need both", ErrValidate, len(sc.y), positives)
	}
	return &sc, nil
}

// Subgroups evaluates the predictions p of labels y by the values keys[i]
// of the column by (of the given kind): one Group a value, in the order of
// the values, with Evaluate's metrics where the group holds both outcomes.
// More than MaxGroups values is an error wrapping ErrSubgroups.
func Subgroups(by string, kind data.Kind, keys []data.Value, p, y []float64, threshold float64, bootstrap int, seed uint64) ([]stats.Group, error) {
	if err := checkGroups(by, keys); err != nil {
		return nil, err
	}
	type rows struct {
		key  data.Value
		p, y []float64
	}
	byKey := map[data.Value]*rows{}
	for i, key := range keys {
		r := byKey[key]
		if r == nil {
			r = &rows{key: key}
			byKey[key] = r
		}
		r.p = append(r.p, p[i])
		r.y = append(r.y, y[i])
	}
	order := slices.Collect(maps.Keys(byKey))
	sort.Slice(order, func(a, b int) bool { return groupLess(order[a], order[b]) })
	out := make([]stats.Group, 0, len(order))
	for _, key := range order {
		r := byKey[key]
		g := stats.Group{Value: groupName(key, kind), N: len(r.y)}
		for _, yi := range r.y {
			g.Positives += int(yi)
		}
		if g.Positives > 0 && g.Positives < g.N {
			m := stats.Evaluate(r.p, r.y, threshold, bootstrap, seed)
			g.Metrics = &m
		}
		out = append(out, g)
	}
	return out, nil
}

// checkGroups refuses a column of more than MaxGroups values.
func checkGroups(by string, keys []data.Value) error {
	seen := map[data.Value]bool{}
	for _, k := range keys {
		if seen[k] = true; len(seen) > MaxGroups {
			return fmt.Errorf("%w: column %s has more than %d values; a subgroup column is a category, a flag or a grade", ErrSubgroups, by, MaxGroups)
		}
	}
	return nil
}

// ErrSubgroups is wrapped by the error of a column with too many values to
// make subgroups of.
var ErrSubgroups = errors.New("cannot make subgroups")

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
