package models

import (
	"context"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/parallel"
)

// chunkRows is how many of a batch's rows one goroutine scores: enough to
// make a block of ScoreRows worth its while, few enough that a batch
// (data.DefaultBatchSize, 8,192 rows) keeps every core busy.
const chunkRows = 2048

// scoredRow is one row's answer in ScoreFile.
type scoredRow struct {
	why     string // why the probability is null; "" when it is not
	prob    float64
	imputed int
	lo, hi  float64 // with ScoreOptions.Intervals
	bias    float64 // with ScoreOptions.Contributions
}

// batchScorer scores ScoreFile's batches of rows, chunks of a batch side by
// side. Each chunk tallies its rows' notes on its own; the tallies are
// merged in row order after each batch, so the report is what scoring the
// rows one by one made (InputTally.Merge, Stability.Merge).
type batchScorer struct {
	m      *Model
	opts   ScoreOptions
	groups int   // the pipeline's output groups (features)
	of     []int // each output's group
	chunks []*chunkScorer
	// The answers of the last two batches, alternating, so that one is
	// written while the next is scored (ScoreFile).
	answers [2]scoredBatch
	turn    int

	tally   InputTally
	caseMix *features.Stability
}

// chunkScorer is one chunk's space and tallies.
type chunkScorer struct {
	scratch Scratch
	x       []float64 // the chunk's defined rows' vectors, row-major
	at      []int     // which row of the chunk each vector is
	scores  []float64
	tally   InputTally
	caseMix *features.Stability
}

func newBatchScorer(m *Model, o ScoreOptions, groups int, of []int) *batchScorer {
	return &batchScorer{m: m, opts: o, groups: groups, of: of, caseMix: m.Bundle.Pipeline.NewStability()}
}

// scoredBatch is a batch's answers: a row each, and with
// ScoreOptions.Contributions the rows' contributions, groups to a row.
type scoredBatch struct {
	rows     []scoredRow
	contribs []float64
	groups   int
}

// contributions returns row i's contributions, by pipeline output group.
func (s *scoredBatch) contributions(i int) []float64 {
	return s.contribs[i*s.groups : (i+1)*s.groups]
}

// score scores a batch: its answers, valid until the second call after
// this one.
func (b *batchScorer) score(ctx context.Context, batch []features.Record) (*scoredBatch, error) {
	n := (len(batch) + chunkRows - 1) / chunkRows
	for len(b.chunks) < n {
		c := &chunkScorer{caseMix: b.m.Bundle.Pipeline.NewStability()}
		c.scratch.ProfileInputs()
		b.chunks = append(b.chunks, c)
	}
	ans := &b.answers[b.turn]
	b.turn ^= 1
	ans.rows, ans.groups = zeroed(ans.rows, len(batch)), b.groups
	if b.opts.Contributions {
		ans.contribs = zeroed(ans.contribs, len(batch)*b.groups)
	}
	err := parallel.For(ctx, n, func(k int) error {
		lo := k * chunkRows
		hi := min(lo+chunkRows, len(batch))
		b.chunks[k].score(b, ans, batch[lo:hi], lo)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range b.chunks[:n] {
		b.tally.Merge(&c.tally)
		b.caseMix.Merge(c.caseMix)
		c.tally.Reset()
		c.caseMix.Reset()
	}
	return ans, nil
}

// score scores a chunk of rows, the batch's from row offset on, into ans:
// the model's own Score for each, through ScoreRows, or its contributions.
func (c *chunkScorer) score(b *batchScorer, ans *scoredBatch, recs []features.Record, offset int) {
	m := b.m
	rows := ans.rows[offset : offset+len(recs)]
	cols := m.Bundle.Pipeline.NumOutputs()
	c.x, c.at = c.x[:0], c.at[:0]
	for i, r := range recs {
		if pt, ok := features.PatientOf(r); ok { // a cohort file
			if rows[i].why = pt.Undefined(m.Bundle.Target); rows[i].why != "" {
				continue
			}
		}
		var p Prediction
		if b.opts.Contributions {
			p = m.PredictWith(r, &c.scratch)
			rows[i].prob, rows[i].bias = p.Probability, p.Bias
			row := ans.contributions(offset + i)
			for j, v := range p.Contributions {
				row[b.of[j]] += v
			}
		} else {
			x := m.transform(r, &c.scratch)
			p.Notes = c.scratch.notes
			c.x = append(c.x, x...)
			c.at = append(c.at, i)
		}
		c.tally.Add(&p.Notes)
		c.caseMix.AddBins(p.Notes.Bins)
		rows[i].imputed = len(p.Notes.Imputed)
		if b.opts.Intervals {
			rows[i].lo, rows[i].hi, _ = m.Interval(r, &c.scratch)
		}
	}
	if len(c.at) == 0 {
		return
	}
	c.scores = zeroed(c.scores, len(c.at))
	ScoreRows(m.Classifier, c.x, cols, c.scores)
	for k, i := range c.at {
		rows[i].prob = m.Bundle.Calibration.Apply(c.scores[k])
	}
}

// zeroed returns s with length n, every element zero, reusing its space.
func zeroed[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
