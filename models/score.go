package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
)

// ScoreOptions are the options of ScoreFile.
type ScoreOptions struct {
	// Contributions adds the model's bias (its expected score) and each
	// feature's contribution to the score, in log-odds (a GBM's are SHAP
	// values), one column per feature named contribution_FEATURE: for a
	// notebook's summary of what drives the model across patients.
	Contributions bool
	// DecimalComma writes a CSV output separated by semicolons, with
	// decimal commas (data.WriteOptions.DecimalComma).
	DecimalComma bool
	// Shard, when its n (Shard[1]) is set, scores only the Shard[0]-th of
	// n parts of a Parquet file, by row group (data.TableReader.Shard):
	// the parts' outputs, in order, are the whole file's.
	Shard [2]int
	// Intervals adds interval_low and interval_high, the central 95% of
	// the bootstrap models' probabilities (Model.Interval): the model must
	// have kept them.
	Intervals bool
	// Curve adds, for a time-to-event model, its survival curve: a column
	// curve_T of the probability of being event-free at each time T of
	// Bundle.CurveTimes.
	Curve bool
}

// ErrNotTimeToEvent is returned for a survival curve asked of a classifier.
var ErrNotTimeToEvent = errors.New("not a time-to-event model")

// ErrNoBootstrap is returned for intervals from a model that kept no
// bootstrap models.
var ErrNoBootstrap = errors.New("no bootstrap models")

// Scored counts what ScoreFile wrote.
type Scored struct {
	Rows int `json:"rows"` // rows written, one per input row
	// Undefined counts the rows given no probability because the target
	// has no meaning for them (an abscopal response without RT); their
	// reason column says so.
	Undefined int `json:"undefined_rows"`
	// Inputs are, by feature, the values imputed, not recognised or
	// outside the training range in the rows scored.
	Inputs []InputReport `json:"inputs"`
	// CaseMix is, by feature, how far the rows scored lie from the
	// training rows (population stability index), the largest first.
	CaseMix []features.Shift `json:"case_mix"`
}

// OpenSource opens the data file in with the model's feature spec, as
// features.OpenSource does, and returns the copy of the spec the source
// reads (OpenSource trims the kept columns a file lacks). A model of the
// built-in spec reads cohort files only, which an error for a file of other
// columns says.
func (m *Model) OpenSource(ctx context.Context, in string, opts features.SourceOptions) (*features.Source, *features.Spec, error) {
	spec := m.Bundle.Pipeline.Spec
	src, err := features.OpenSource(ctx, in, spec, opts)
	switch {
	case spec.ForeignFile(err):
		err = fmt.Errorf("%w; model %s:%s reads cohort files (it was trained with the built-in spec)", err, m.Bundle.Name, m.Version)
	case errors.Is(err, features.ErrSpec):
		err = fmt.Errorf("model %s:%s: %w", m.Bundle.Name, m.Version, err) // the spec is the bundle's: say whose
	case err == nil:
		if err = m.Bundle.Pipeline.CheckKinds(in, src.Kind); err != nil {
			src.Close()
			return nil, nil, fmt.Errorf("model %s:%s: %w", m.Bundle.Name, m.Version, err)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	return src, src.Spec(), nil
}

// ScoreFile streams the rows of the data file in through the model and
// writes, for each, the id, the calibrated probability, the model's name and
// version, how many inputs were imputed, and the reason where the
// probability is null. out is Parquet or, by its extension, CSV (whose
// metadata goes to a sidecar); it is written atomically, and left untouched
// on any error. The output's metadata names the model and the target and
// labels the scores synthetic when the model or the input is.
func (m *Model) ScoreFile(ctx context.Context, in, out string, o ScoreOptions) (*Scored, error) {
	if err := data.CheckExtension(out); err != nil {
		return nil, err
	}
	b := m.Bundle
	if m.Survival != nil {
		return m.scoreSurvivalFile(ctx, in, out, o)
	}
	if o.Curve {
		return nil, fmt.Errorf("%w: %s:%s predicts a probability, not a survival curve", ErrNotTimeToEvent, b.Name, m.Version)
	}
	if o.Intervals && len(m.Bootstrap) == 0 {
		return nil, fmt.Errorf("%w: %s:%s kept none, so it gives no intervals: train it with --instability 200 --intervals", ErrNoBootstrap, b.Name, m.Version)
	}
	src, spec, err := m.OpenSource(ctx, in, features.SourceOptions{Shard: o.Shard})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	cols := []data.ColumnSpec{
		{Name: spec.ID, Kind: src.Kind(spec.ID), Optional: true, Distinct: true},
		{Name: "probability", Kind: data.KindFloat, Optional: true},
		{Name: "model", Kind: data.KindString},
		{Name: "version", Kind: data.KindString},
		{Name: "imputed_inputs", Kind: data.KindInt, Optional: true},
		{Name: "reason", Kind: data.KindString, Optional: true}, // why the probability is null
	}
	of, names := b.Pipeline.OutputGroups()
	intervalAt := len(cols) // where interval_low goes, with o.Intervals
	if o.Intervals {
		cols = append(cols, data.ColumnSpec{Name: "interval_low", Kind: data.KindFloat, Optional: true},
			data.ColumnSpec{Name: "interval_high", Kind: data.KindFloat, Optional: true})
	}
	contribAt := len(cols) // where the bias goes, with o.Contributions
	if o.Contributions {
		cols = append(cols, data.ColumnSpec{Name: "bias", Kind: data.KindFloat, Optional: true})
		for _, n := range names {
			cols = append(cols, data.ColumnSpec{Name: "contribution_" + n, Kind: data.KindFloat, Optional: true})
		}
	}
	w, err := data.CreateRows(out, cols, m.scoresWriteOptions(src.Synthetic(), o))
	if err != nil {
		return nil, err
	}
	var res Scored
	sc := newBatchScorer(m, o, len(names), of)
	vals := make([]data.Value, len(cols))
	write := func(batch []features.Record, ans *scoredBatch) error {
		for i, r := range batch {
			row := &ans.rows[i]
			vals[0], vals[2], vals[3] = r.Value(spec.ID), data.String(b.Name), data.String(m.Version)
			if row.why != "" {
				vals[1], vals[4], vals[5] = data.Null, data.Null, data.String(row.why)
				clear(vals[6:])
				res.Undefined++
			} else {
				vals[1], vals[4], vals[5] = data.Float(row.prob), data.Float(float64(row.imputed)), data.Null
				if o.Intervals {
					vals[intervalAt], vals[intervalAt+1] = data.Float(row.lo), data.Float(row.hi)
				}
				if o.Contributions {
					vals[contribAt] = data.Float(row.bias)
					for k, c := range ans.contributions(i) {
						vals[contribAt+1+k] = data.Float(c)
					}
				}
			}
			res.Rows++
			if err := w.WriteRow(vals); err != nil {
				return err
			}
		}
		return nil
	}
	// A batch is written while the next is scored: the writer takes a
	// batch only when it has written the one before, so the scorer's two
	// answer buffers are never written to while being read. A write
	// error stops the scoring.
	scoreCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		batch []features.Record
		ans   *scoredBatch
	}
	jobs, written := make(chan job), make(chan error, 1)
	go func() {
		var err error
		for j := range jobs {
			if err == nil {
				if err = write(j.batch, j.ans); err != nil {
					cancel()
				}
			}
		}
		written <- err
	}()
	err = src.EachBatchAhead(scoreCtx, func(batch []features.Record) error {
		ans, err := sc.score(scoreCtx, batch)
		if err != nil {
			return err
		}
		jobs <- job{batch, ans}
		return nil
	})
	close(jobs)
	if werr := <-written; werr != nil {
		err = werr // the scoring's error is then the cancellation
	}
	if err := closeScores(w, err); err != nil {
		return nil, err
	}
	res.Inputs, res.CaseMix = sc.tally.Reports(names), sc.caseMix.Shifts()
	return &res, nil
}

// scoresWriteOptions are the options of a scores file: its metadata names
// the model and its target, and labels the scores synthetic when the
// model or the input (synthetic) is.
func (m *Model) scoresWriteOptions(synthetic bool, o ScoreOptions) data.WriteOptions {
	b := m.Bundle
	opts := data.WriteOptions{Metadata: map[string]string{"abscopal.model": b.Name + ":" + m.Version, "abscopal.target": b.Target}, DecimalComma: o.DecimalComma}
	if b.Synthetic() || synthetic {
		opts.Metadata["abscopal.synthetic"] = "true"
	}
	return opts
}

// closeScores ends a scores file: discarded after err, the scoring's, else
// moved into place.
func closeScores(w data.RowWriter, err error) error {
	if err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
