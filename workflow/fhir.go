package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/fhir"
	"github.com/abscopal/abscopal/models"
)

// ErrNDJSON is a FHIR export asked for a file whose name does not end in
// .ndjson, the bulk data format's.
var ErrNDJSON = errors.New("a FHIR export is NDJSON: name the file .ndjson")

// SynthStart is the treatment start of the synthetic charts: a fixed date,
// so that the same seed gives the same file, byte for byte.
var SynthStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// MaxSynthFHIR bounds the charts of one synthetic FHIR file (about 10 kB
// each).
const MaxSynthFHIR = 1_000_000

// WriteSynthFHIR writes n synthetic patients drawn with seed as FHIR R4
// Bundles, one per line (NDJSON): the same patients, with the same seed,
// as synth writes to Parquet, their outcomes left out. Each Bundle is
// labelled test data (meta.security HTEST). The file appears whole or not
// at all.
func WriteSynthFHIR(ctx context.Context, out string, n int, seed uint64) error {
	if !strings.EqualFold(filepath.Ext(out), ".ndjson") {
		return fmt.Errorf("%s: %w", out, ErrNDJSON)
	}
	if n < 1 || n > MaxSynthFHIR {
		return fmt.Errorf("%d charts: a synthetic FHIR file holds 1 to %d", n, MaxSynthFHIR)
	}
	f, err := data.CreateAtomic(out)
	if err != nil {
		return err
	}
	g := synth.New(seed)
	for i := range n {
		if i%1024 == 0 && ctx.Err() != nil {
			f.Abort()
			return ctx.Err()
		}
		p := g.Patient()
		for _, fl := range data.CohortFields() {
			if fl.Outcome || fl.Synthetic {
				fl.Set(&p, data.Null)
			}
		}
		b, err := fhir.BundleOf(&p, SynthStart)
		if err == nil {
			_, err = f.Write(append(b, '\n'))
		}
		if err != nil {
			f.Abort()
			return fmt.Errorf("%s: %w", out, err)
		}
	}
	return f.Close()
}

// ScoreFHIR scores a file with a model as Score does and writes each row's
// answer as a FHIR R4 RiskAssessment, one per line (NDJSON, the bulk data
// format): a classifier's probability (with its interval when asked), a
// time-to-event model's probability of the event by each of its times.
// The subject is Patient/ID. The probabilities are those Score writes, bit
// for bit: the rows are scored into a temporary Parquet file first.
func ScoreFHIR(ctx context.Context, reg *models.Registry, ref, in, out string, opts models.ScoreOptions) (*ScoreSummary, error) {
	if !strings.EqualFold(filepath.Ext(out), ".ndjson") {
		return nil, fmt.Errorf("%s: %w", out, ErrNDJSON)
	}
	if err := data.CheckWritable(out); err != nil {
		return nil, err
	}
	m, err := reg.Load(ref)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "abscopal-fhir-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	scores := filepath.Join(dir, "scores.parquet")
	opts.Contributions, opts.Curve = false, false
	sum, err := ScoreWith(ctx, m, in, scores, opts)
	if err != nil {
		return nil, err
	}
	sum.Out = out
	if err := scoresToFHIR(ctx, m, scores, out, time.Now()); err != nil {
		return nil, err
	}
	return sum, nil
}

// scoresToFHIR turns a scores file into RiskAssessments.
func scoresToFHIR(ctx context.Context, m *models.Model, scores, out string, when time.Time) error {
	r, err := data.OpenTable(ctx, scores, data.TableOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	b := m.Bundle
	spec := b.Pipeline.Spec
	base := fhir.Assessment{When: when, Target: b.Target, Model: b.Name, Version: m.Version, Algo: b.Algo, Synthetic: b.Synthetic() || r.Metadata()["abscopal.synthetic"] == "true"}
	var times []float64
	if m.Survival != nil {
		times = b.SurvivalTimes()
	}
	f, err := data.CreateAtomic(out)
	if err != nil {
		return err
	}
	for {
		batch, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Abort()
			return err
		}
		col := batch.Column
		for i := range batch.Len {
			a := base
			id := col(spec.ID).Value(i)
			a.Subject = "Patient/" + valueText(id, batch.FirstRow+int64(i))
			if m.Survival != nil {
				for _, t := range times {
					s := col(models.SurvivalColumn(t)).Value(i)
					a.Predictions = append(a.Predictions, fhir.Prediction{Probability: 1 - s.Num, Months: t,
						Rationale: fmt.Sprintf("event-free at %g months: %.3f", t, s.Num)})
				}
			} else if p := col("probability").Value(i); p.Valid {
				pr := fhir.Prediction{Probability: p.Num}
				if lo := col("interval_low"); lo != nil && lo.Value(i).Valid {
					pr.Interval = &[2]float64{lo.Value(i).Num, col("interval_high").Value(i).Num}
				}
				a.Predictions = []fhir.Prediction{pr}
			} else {
				a.Undefined = col("reason").Value(i).Str
			}
			line, err := json.Marshal(fhir.RiskAssessmentOf(a))
			if err == nil {
				_, err = f.Write(append(line, '\n'))
			}
			if err != nil {
				f.Abort()
				return err
			}
		}
	}
	return f.Close()
}

// valueText is an id's text; a row without one is named by its number.
func valueText(v data.Value, row int64) string {
	switch {
	case !v.Valid:
		return fmt.Sprintf("row-%d", row)
	case v.Str != "":
		return v.Str
	}
	return strconv.FormatFloat(v.Num, 'f', -1, 64)
}
