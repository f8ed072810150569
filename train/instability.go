package train

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// MaxInstabilityValues bounds bootstrap models times rows in a stability
// analysis: every bootstrap model's probability of every row is kept (8
// bytes each) until the rows' percentiles are taken.
const MaxInstabilityValues = 25_000_000

// instability develops opts.Instability bootstrap models (Riley and Collins,
// Biom J 2023;65:2200302) on rows (with
// labels y) and sets their probabilities of every row against the model's,
// p (Run has checked their count against MaxInstabilityValues); with
// opts.Intervals it returns the models too. progress is called after each
// bootstrap model, from any goroutine, with how many are done.
//
// Each bootstrap model is developed as the model was (the feature pipeline
// and the classifier fitted on the bootstrap sample, with the same
// options) and calibrated by the same method on the rows its sample left
// out ("out of bag"), as the model was on out-of-fold scores: folds drawn
// within a bootstrap sample would put copies of a row on both sides of a
// split, and k more fits per bootstrap model would make a forest's
// analysis last many minutes. For the same reason the splits a model makes
// of its own rows keep a patient's copies together (the GBM's
// early-stopping share, --tune's inner folds): with copies held out, the
// GBM's early stopping saw its own training rows and grew more trees, and
// its MAPE on the real cohort was 0.093 where it is 0.064.
//
// Riley and Collins also draw each bootstrap model's calibration curve on
// the original rows. Not here: a bootstrap model calibrated on the rows its
// sample left out and judged on the training rows, most of which it was
// fitted on, mixes in-sample and out-of-sample calibration (tried on 300
// synthetic patients: bootstrap models' median slope 2.1 for a model whose
// cross-validated slope is 0.9), and the figure would mislead.
func instability(ctx context.Context, spec *features.Spec, rows []features.Record, y, p []float64, opts Options, progress func(done int)) (*stats.Instability, []models.Member, error) {
	n, B := len(rows), opts.Instability
	pb := make([][]float64, B)
	var kept []models.Member
	if opts.Intervals {
		kept = make([]models.Member, B)
	}
	develop := func(b int) error {
		// Each bootstrap model draws its sample from its own stream, so
		// that they can be developed in any order, concurrently.
		rng := rand.New(rand.NewPCG(opts.Seed, 0x57ab1e<<20|uint64(b)))
		drawn, groups := make([]int, n), make([]int32, n)
		in := make([]bool, n)
		for i := range drawn {
			drawn[i] = rng.IntN(n)
			groups[i] = int32(drawn[i])
			in[drawn[i]] = true
		}
		var out []int
		for i, ok := range in {
			if !ok {
				out = append(out, i)
			}
		}
		// The copies of a patient are one group: the GBM's early-stopping
		// share and --tune's inner folds keep them on one side.
		pipe, model, _, err := fit(ctx, spec, pick(rows, drawn), pick(y, drawn), groups, opts, 1<<20+uint64(b))
		if err != nil {
			return err
		}
		x, _ := pipe.TransformAll(rows)
		scores := make([]float64, n)
		for i := range scores {
			scores[i] = model.Score(x.Row(i))
		}
		cal, err := models.FitCalibrator(opts.Calibration, pick(scores, out), pick(y, out))
		if err != nil {
			return fmt.Errorf("calibrating on the %d rows its sample left out: %w", len(out), err)
		}
		for i, s := range scores {
			scores[i] = cal.Apply(s)
		}
		pb[b] = scores
		if kept != nil {
			kept[b] = models.Member{Pipeline: pipe, Classifier: model, Calibration: cal}
		}
		return nil
	}
	// The classifiers are sequential but for the forest's trees and the
	// GBM's histograms: bootstrap models side by side use the cores.
	var done atomic.Int64
	err := parallel.For(ctx, B, func(b int) error {
		defer func() { progress(int(done.Add(1))) }()
		if err := develop(b); err != nil {
			return fmt.Errorf("bootstrap model %d: %w", b+1, err)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	ins := stats.SummarizeInstability(p, pb, opts.Threshold)
	ins.Kept = kept != nil
	return ins, kept, nil
}
