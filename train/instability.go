package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"sync/atomic"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/abscopal/abscopal/models"
)

// MaxInstabilityValues bounds bootstrap models times rows in a stability
// analysis: every bootstrap model's probability of every row is kept (8
// bytes each) until the rows' percentiles are taken.
const MaxInstabilityValues = 25_000_000

// Instability is how far a model's probabilities for its own training rows
// move when its development is repeated on bootstrap samples of those rows:
// the stability analysis of Riley and Collins (Biom J 2023;65:2200302). A
// model developed on too few patients gives an individual a probability
// that depends on which patients happened to be sampled; its AUC and
// calibration, averaged over patients, do not show it.
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
type Instability struct {
	Bootstraps int     `json:"bootstraps"`
	Threshold  float64 `json:"threshold"`
	// MAPE is the mean absolute prediction error: the mean over rows of a
	// row's mean absolute difference between the bootstrap models'
	// probabilities and the model's. MAPEP95 and MAPEMax are the 95th
	// percentile and the largest of the rows' own.
	MAPE    float64 `json:"mape"`
	MAPEP95 float64 `json:"mape_p95"`
	MAPEMax float64 `json:"mape_max"`
	// Width95 is the mean over rows of the width of the central 95% of a
	// row's bootstrap probabilities (2.5th to 97.5th percentile).
	Width95 float64 `json:"mean_width_95"`
	// CII is the mean over rows of the classification instability index:
	// the share of bootstrap models that put the row on the other side of
	// Threshold from the model. Unstable is the share of rows that more
	// than one bootstrap model in five puts there.
	CII      float64 `json:"classification_instability"`
	Unstable float64 `json:"unstable_classification"`
	// Kept is set when the bootstrap models are kept with the model
	// (Options.Intervals), for intervals at scoring.
	Kept bool `json:"kept_for_intervals,omitempty"`
	// ByDecile gives the same by tenth of the rows, ordered by the model's
	// probability.
	ByDecile []InstabilityBin `json:"by_decile"`

	rows []rowRange // each row's probability and bootstrap range, for the plot
}

// InstabilityBin is the instability of a tenth of the rows.
type InstabilityBin struct {
	N         int     `json:"n"`
	Predicted float64 `json:"mean_predicted"`
	MAPE      float64 `json:"mape"`
	Width95   float64 `json:"mean_width_95"`
	CII       float64 `json:"classification_instability"`
}

// rowRange is a row's probability under the model and the central 95% of
// its bootstrap models' probabilities.
type rowRange struct{ p, lo, hi float64 }

// instability develops opts.Instability bootstrap models on rows (with
// labels y) and sets their probabilities of every row against the model's,
// p (Run has checked their count against MaxInstabilityValues); with
// opts.Intervals it returns the models too. progress is called after each
// bootstrap model, from any goroutine, with how many are done.
func instability(ctx context.Context, spec *features.Spec, rows []features.Record, y, p []float64, opts Options, progress func(done int)) (*Instability, []models.Member, error) {
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
	ins := summarizeInstability(p, pb, opts.Threshold)
	ins.Kept = kept != nil
	return ins, kept, nil
}

// summarizeInstability compares the bootstrap models' probabilities pb
// (one slice per model, of every row) with the model's, p.
func summarizeInstability(p []float64, pb [][]float64, threshold float64) *Instability {
	n, B := len(p), len(pb)
	ins := &Instability{Bootstraps: B, Threshold: threshold, rows: make([]rowRange, n)}
	mape, cii := make([]float64, n), make([]float64, n)
	col := make([]float64, B)
	for i := range n {
		for b := range pb {
			col[b] = pb[b][i]
			mape[i] += math.Abs(col[b] - p[i])
			if (col[b] >= threshold) != (p[i] >= threshold) {
				cii[i]++
			}
		}
		mape[i] /= float64(B)
		cii[i] /= float64(B)
		lo, hi := models.Central95(col) // as models.Model.Interval takes a new patient's
		ins.rows[i] = rowRange{p: p[i], lo: lo, hi: hi}
	}
	whole := summarizeRows(p, mape, cii, ins.rows, allRows(n))
	ins.MAPE, ins.Width95, ins.CII = whole.MAPE, whole.Width95, whole.CII
	sorted := append([]float64(nil), mape...)
	sort.Float64s(sorted)
	ins.MAPEP95, ins.MAPEMax = sorted[min(n-1, int(0.95*float64(n)))], sorted[n-1]
	for _, c := range cii {
		if c > 0.2 {
			ins.Unstable++
		}
	}
	ins.Unstable /= float64(n)
	idx := allRows(n)
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	for d := range 10 {
		if lo, hi := d*n/10, (d+1)*n/10; hi > lo {
			ins.ByDecile = append(ins.ByDecile, summarizeRows(p, mape, cii, ins.rows, idx[lo:hi]))
		}
	}
	return ins
}

// summarizeRows averages the rows idx's probability, MAPE, range width and
// classification instability.
func summarizeRows(p, mape, cii []float64, rows []rowRange, idx []int) InstabilityBin {
	bin := InstabilityBin{N: len(idx)}
	for _, i := range idx {
		bin.Predicted += p[i]
		bin.MAPE += mape[i]
		bin.Width95 += rows[i].hi - rows[i].lo
		bin.CII += cii[i]
	}
	k := float64(len(idx))
	bin.Predicted, bin.MAPE, bin.Width95, bin.CII = bin.Predicted/k, bin.MAPE/k, bin.Width95/k, bin.CII/k
	return bin
}

// allRows returns 0, 1, ..., n-1.
func allRows(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
