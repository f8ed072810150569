package models

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
)

// CoxAlgo is the algorithm of a time-to-event bundle fitted as a Cox
// proportional hazards model (stats.FitCox) on the pipeline's outputs;
// BoostedCoxAlgo, as a boosted Cox model (FitGBM with ObjectiveCox). A
// time-to-event model predicts a survival curve, not a probability, so
// neither is in the classifiers' table (Algorithms): its bundle has no
// calibration, and the Model that holds it has Survival set and Classifier
// nil.
const (
	CoxAlgo        = "cox"
	BoostedCoxAlgo = "gbm"
)

// SurvivalModel is a time-to-event model: a log relative hazard, from a
// Cox model's coefficients (Cox) or a boosted Cox model's trees (Boosted),
// and Breslow's cumulative baseline hazard over the event times (Times,
// CumHaz), from which each patient's survival curve follows.
type SurvivalModel struct {
	Cox     *stats.Cox `json:"-"`
	Boosted *GBM       `json:"gbm,omitempty"`
	stats.Baseline
}

// NewCoxSurvival wraps a fitted Cox model.
func NewCoxSurvival(c *stats.Cox) *SurvivalModel {
	return &SurvivalModel{Cox: c, Baseline: c.Baseline}
}

// Algo is the bundle's algorithm of s.
func (s *SurvivalModel) Algo() string {
	if s.Boosted != nil {
		return BoostedCoxAlgo
	}
	return CoxAlgo
}

// LinearPredictor is the log relative hazard of x: higher, the event sooner.
func (s *SurvivalModel) LinearPredictor(x []float64) float64 {
	if s.Boosted != nil {
		return s.Boosted.Score(x)
	}
	return s.Cox.LinearPredictor(x)
}

// Contributions writes each pipeline output's contribution to the log
// relative hazard of x into dst and returns the rest (the bias): a Cox
// model's coefficient times value (bias 0), a boosted one's SHAP values.
func (s *SurvivalModel) Contributions(x, dst []float64) float64 {
	if s.Boosted != nil {
		return s.Boosted.Contributions(x, dst)
	}
	for j, v := range x {
		dst[j] = v * s.Cox.Coef[j]
	}
	return 0
}

// Survival is the probability that a patient with x is event-free at t.
func (s *SurvivalModel) Survival(x []float64, t float64) float64 {
	return s.SurvivalAt(s.LinearPredictor(x), t)
}

// Median is the first event time at which the predicted survival of x
// reaches one half or less; ok is false when it stays above.
func (s *SurvivalModel) Median(x []float64) (t float64, ok bool) {
	return s.MedianAt(s.LinearPredictor(x))
}

// EncodeSurvival is a time-to-event bundle's model: a Cox model as
// stats.Cox's JSON, a boosted one with its baseline.
func EncodeSurvival(s *SurvivalModel) ([]byte, error) {
	if s.Cox != nil {
		return json.Marshal(s.Cox)
	}
	return json.Marshal(s)
}

// TimeToEvent reports whether the bundle is a time-to-event model's.
func (b *Bundle) TimeToEvent() bool {
	return b.Pipeline != nil && b.Pipeline.Spec != nil && b.Pipeline.Spec.Target.TimeToEvent()
}

// decodeSurvival rebuilds a time-to-event bundle's model.
func decodeSurvival(bd *Bundle) (*Model, error) {
	sm, err := decodeSurvivalModel(bd.Algo, bd.Model, bd.Pipeline.NumOutputs())
	if err != nil {
		return nil, err
	}
	return &Model{Bundle: bd, Survival: sm}, nil
}

// decodeSurvivalModel rebuilds a time-to-event model of algo from what
// EncodeSurvival wrote, checking that it takes n pipeline outputs and that
// its baseline hazard is one.
func decodeSurvivalModel(algo string, raw []byte, n int) (*SurvivalModel, error) {
	var sm *SurvivalModel
	switch algo {
	case CoxAlgo:
		var c stats.Cox
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		if len(c.Coef) != n {
			return nil, fmt.Errorf("%w: %d coefficients for the pipeline's %d outputs", ErrBundle, len(c.Coef), n)
		}
		for _, v := range c.Coef {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: a coefficient is not finite", ErrBundle)
			}
		}
		sm = NewCoxSurvival(&c)
	case BoostedCoxAlgo:
		sm = new(SurvivalModel)
		if err := json.Unmarshal(raw, sm); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		g := sm.Boosted
		if g == nil || g.Opts.Objective != ObjectiveCox {
			return nil, fmt.Errorf("%w: a boosted time-to-event model without its Cox trees", ErrBundle)
		}
		if err := g.validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		if !modelFits(g, n) {
			return nil, fmt.Errorf("%w: the trees do not take the pipeline's %d outputs", ErrBundle, n)
		}
		g.prepare()
	default:
		return nil, fmt.Errorf("%w: a time-to-event model of algorithm %q; this abscopal reads %s and %s", ErrBundle, algo, CoxAlgo, BoostedCoxAlgo)
	}
	if len(sm.Times) == 0 || len(sm.Times) != len(sm.CumHaz) || !sort.Float64sAreSorted(sm.Times) || !sort.Float64sAreSorted(sm.CumHaz) {
		return nil, fmt.Errorf("%w: the baseline hazard is not a cumulative hazard over ascending times", ErrBundle)
	}
	for _, v := range sm.CumHaz {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: the baseline hazard is not finite", ErrBundle)
		}
	}
	return sm, nil
}

// MedianInterval returns the central 95% of the bootstrap models'
// predicted medians for r: how far the patient's median depends on which
// patients the model happened to be developed on. A bound is +Inf when at
// least that share of the bootstrap models' curves stay above one half
// (the median not reached). ok is false for a model kept without its
// bootstrap models. It costs a transform and a curve per bootstrap model.
func (m *Model) MedianInterval(r features.Record, s *Scratch) (lo, hi float64, ok bool) {
	medians := m.eachMember(r, s, func(b Member, x []float64) float64 {
		if t, reached := b.Survival.Median(x); reached {
			return t
		}
		return math.Inf(1)
	})
	if medians == nil {
		return math.NaN(), math.NaN(), false
	}
	lo, hi = stats.Central95(medians)
	return lo, hi, true
}

// SurvivalPrediction is a time-to-event model's answer for one record.
type SurvivalPrediction struct {
	// LinearPredictor is the log hazard ratio against a patient whose
	// pipeline outputs are all 0: higher, the event sooner.
	LinearPredictor float64
	// Median is the predicted median time to the event; HasMedian is false
	// when the predicted curve stays above one half over the follow-up.
	Median    float64
	HasMedian bool
	// Survival holds the probability of being event-free at each time
	// asked for.
	Survival []float64
	// Contributions per pipeline output to the linear predictor (log
	// hazard ratio: positive, the event sooner).
	Contributions []float64
	Notes         features.Notes
}

// PredictSurvival scores one record with a time-to-event model: its
// survival at each of times, its median and the contributions. The
// Contributions and Notes alias s, as PredictWith's do.
func (m *Model) PredictSurvival(r features.Record, times []float64, s *Scratch) SurvivalPrediction {
	n := m.Bundle.Pipeline.NumOutputs()
	if cap(s.x) < n {
		s.x, s.contrib = make([]float64, n), make([]float64, n)
	}
	x := s.x[:n]
	s.notes.Reset()
	m.Bundle.Pipeline.Transform(r, x, &s.notes)
	contrib := s.contrib[:n]
	m.Survival.Contributions(x, contrib)
	p := SurvivalPrediction{LinearPredictor: m.Survival.LinearPredictor(x), Contributions: contrib, Notes: s.notes,
		Survival: make([]float64, len(times))}
	for k, t := range times {
		p.Survival[k] = m.Survival.Survival(x, t)
	}
	p.Median, p.HasMedian = m.Survival.Median(x)
	return p
}

// SurvivalTimes are the times a time-to-event bundle's answers give
// survival at: those its training judged it at (6, 12 and 24 months for
// the cohort schema's).
func (b *Bundle) SurvivalTimes() []float64 {
	var m struct {
		CV struct {
			Times []float64 `json:"times"`
		} `json:"cross_validated"`
	}
	json.Unmarshal(b.Metrics, &m)
	if len(m.CV.Times) == 0 {
		return []float64{6, 12, 24}
	}
	return m.CV.Times
}

// CurveTimes is the grid of a predicted survival curve: every month (in
// the time column's unit) to twice the last of the bundle's times.
func (b *Bundle) CurveTimes() []float64 {
	ts := b.SurvivalTimes()
	last := int(math.Ceil(2 * ts[len(ts)-1]))
	out := make([]float64, last)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

// SurvivalColumn names the output column of the survival at time t:
// survival_12 for 12 months.
func SurvivalColumn(t float64) string { return "survival_" + strconv.FormatFloat(t, 'g', -1, 64) }

// scoreSurvivalFile is ScoreFile for a time-to-event model: per row, the
// median time to the event (null when the predicted curve stays above one
// half), the survival at each of the bundle's times and, with o.Curve, at
// each month of its curve; with o.Contributions, each feature's
// contribution to the log hazard ratio.
func (m *Model) scoreSurvivalFile(ctx context.Context, in, out string, o ScoreOptions) (*Scored, error) {
	b := m.Bundle
	if o.Intervals && len(m.Bootstrap) == 0 {
		return nil, fmt.Errorf("%w: %s:%s kept none, so it gives no intervals of the median: train it with --instability 200 --intervals", ErrNoBootstrap, b.Name, m.Version)
	}
	src, spec, err := m.OpenSource(ctx, in, features.SourceOptions{Shard: o.Shard})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	times := b.SurvivalTimes()
	var curve []float64
	if o.Curve {
		curve = b.CurveTimes()
	}
	median := "median_" + timeUnit(spec)
	cols := []data.ColumnSpec{
		{Name: spec.ID, Kind: src.Kind(spec.ID), Optional: true, Distinct: true},
		{Name: median, Kind: data.KindFloat, Optional: true},
	}
	if o.Intervals {
		// The bounds are null where the median is not reached: the
		// bootstrap models' curves stay above one half.
		cols = append(cols, data.ColumnSpec{Name: median + "_low", Kind: data.KindFloat, Optional: true},
			data.ColumnSpec{Name: median + "_high", Kind: data.KindFloat, Optional: true})
	}
	survivalAt := len(cols)
	for _, t := range times {
		cols = append(cols, data.ColumnSpec{Name: SurvivalColumn(t), Kind: data.KindFloat})
	}
	for _, t := range curve {
		cols = append(cols, data.ColumnSpec{Name: "curve_" + strconv.FormatFloat(t, 'g', -1, 64), Kind: data.KindFloat})
	}
	fixed := len(cols)
	cols = append(cols, data.ColumnSpec{Name: "model", Kind: data.KindString}, data.ColumnSpec{Name: "version", Kind: data.KindString},
		data.ColumnSpec{Name: "imputed_inputs", Kind: data.KindInt})
	of, names := b.Pipeline.OutputGroups()
	contribAt := len(cols)
	if o.Contributions {
		for _, n := range names {
			cols = append(cols, data.ColumnSpec{Name: "contribution_" + n, Kind: data.KindFloat})
		}
	}
	w, err := data.CreateRows(out, cols, m.scoresWriteOptions(src.Synthetic(), o))
	if err != nil {
		return nil, err
	}
	var (
		res     Scored
		scratch Scratch
		tally   InputTally
	)
	asked := append(append([]float64{}, times...), curve...)
	vals := make([]data.Value, len(cols))
	byFeature := make([]float64, len(names))
	caseMix := b.Pipeline.NewStability()
	scratch.ProfileInputs()
	err = src.EachAhead(ctx, func(r features.Record) error {
		p := m.PredictSurvival(r, asked, &scratch)
		tally.Add(&p.Notes)
		caseMix.AddBins(p.Notes.Bins)
		vals[0], vals[1] = r.Value(spec.ID), data.Null
		if p.HasMedian {
			vals[1] = data.Float(p.Median)
		}
		if o.Intervals {
			lo, hi, _ := m.MedianInterval(r, &scratch)
			vals[2], vals[3] = finiteOrNull(lo), finiteOrNull(hi)
		}
		for k, s := range p.Survival {
			vals[survivalAt+k] = data.Float(s)
		}
		vals[fixed], vals[fixed+1], vals[fixed+2] = data.String(b.Name), data.String(m.Version), data.Float(float64(len(p.Notes.Imputed)))
		if o.Contributions {
			clear(byFeature)
			for j, c := range p.Contributions {
				byFeature[of[j]] += c
			}
			for k, c := range byFeature {
				vals[contribAt+k] = data.Float(c)
			}
		}
		res.Rows++
		return w.WriteRow(vals)
	})
	if err := closeScores(w, err); err != nil {
		return nil, err
	}
	res.Inputs, res.CaseMix = tally.Reports(names), caseMix.Shifts()
	return &res, nil
}

// finiteOrNull is x, or null when x is infinite (a median not reached).
func finiteOrNull(x float64) data.Value {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return data.Null
	}
	return data.Float(x)
}

// timeUnit names the unit of a time-to-event target's time in column
// names: months for the cohort schema's, else the time column's own name.
func timeUnit(spec *features.Spec) string {
	if spec.ReadsPatients() {
		return "months"
	}
	return spec.Target.Time
}
