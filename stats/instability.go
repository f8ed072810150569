package stats

import (
	"math"
	"sort"
)

// Instability is how far a model's probabilities for its own training rows
// move when its development is repeated on bootstrap samples of those rows:
// the stability analysis of Riley and Collins (Biom J 2023;65:2200302). A
// model developed on too few patients gives an individual a probability
// that depends on which patients happened to be sampled; its AUC and
// calibration, averaged over patients, do not show it. (train develops the
// bootstrap models; SummarizeInstability compares their probabilities.)
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

	// Rows are each row's probability and bootstrap range, for the plot.
	Rows []RowRange `json:"-"`
}

// InstabilityBin is the instability of a tenth of the rows.
type InstabilityBin struct {
	N         int     `json:"n"`
	Predicted float64 `json:"mean_predicted"`
	MAPE      float64 `json:"mape"`
	Width95   float64 `json:"mean_width_95"`
	CII       float64 `json:"classification_instability"`
}

// RowRange is a row's probability under the model, P, and the central 95%
// of its bootstrap models' probabilities, Lo to Hi.
type RowRange struct{ P, Lo, Hi float64 }

// SummarizeInstability compares the bootstrap models' probabilities pb
// (one slice per model, of every row) with the model's, p.
func SummarizeInstability(p []float64, pb [][]float64, threshold float64) *Instability {
	n, B := len(p), len(pb)
	ins := &Instability{Bootstraps: B, Threshold: threshold, Rows: make([]RowRange, n)}
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
		lo, hi := Central95(col) // as models.Model.Interval takes a new patient's
		ins.Rows[i] = RowRange{P: p[i], Lo: lo, Hi: hi}
	}
	whole := summarizeRows(p, mape, cii, ins.Rows, allRows(n))
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
			ins.ByDecile = append(ins.ByDecile, summarizeRows(p, mape, cii, ins.Rows, idx[lo:hi]))
		}
	}
	return ins
}

// summarizeRows averages the rows idx's probability, MAPE, range width and
// classification instability.
func summarizeRows(p, mape, cii []float64, rows []RowRange, idx []int) InstabilityBin {
	bin := InstabilityBin{N: len(idx)}
	for _, i := range idx {
		bin.Predicted += p[i]
		bin.MAPE += mape[i]
		bin.Width95 += rows[i].Hi - rows[i].Lo
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
