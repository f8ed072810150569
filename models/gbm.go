package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"

	"github.com/abscopal/abscopal/internal/parallel"
)

// GBM is a gradient-boosted ensemble of regression trees on the log-odds,
// trained with second-order (Newton) steps on binned features, in the manner
// of XGBoost's "hist" method (Chen and Guestrin, KDD 2016). It is written
// here because no maintained Go library trains gradient-boosted trees.
type GBM struct {
	Base  float64   `json:"base_score"` // log-odds of the training prevalence
	Trees []GBMTree `json:"trees"`
	// Opts records the options the model was trained with.
	Opts GBMOptions `json:"options"`
	// BestRound is the number of trees kept by early stopping (0: no early stopping).
	BestRound int `json:"best_round,omitempty"`

	// tables are the SHAP tables of the shallow trees (nil for the others),
	// and flat the trees laid out for scoring, made by prepare when the
	// model is fitted or decoded.
	tables []*shapTable
	flat   flatTrees
}

// GBMTree is one tree in flat arrays; node 0 is the root. A node with Left
// -1 is a leaf. x[Feature] <= Threshold goes left; a missing value (NaN)
// goes left if DefaultLeft.
type GBMTree struct {
	Feature     []int32   `json:"feature"`
	Threshold   []float64 `json:"threshold"`
	DefaultLeft []bool    `json:"default_left"`
	Left        []int32   `json:"left"`
	Right       []int32   `json:"right"`
	// Value is the node's output (leaves) or, for inner nodes, the output it
	// would have had as a leaf: path attributions need both.
	Value []float64 `json:"value"`
	// Cover is the number of the tree's training rows that reached each
	// node: TreeSHAP weighs the branches by it. Bundles made before it was
	// recorded have none, and get path attributions instead.
	Cover []float64 `json:"cover,omitempty"`
}

// GBMOptions are the hyperparameters of FitGBM. Zero values take defaults,
// but for Lambda and MinChildWeight, where 0 is a setting of its own (no
// penalty, no minimum) and is used as given: the options a bundle records
// then fit the same model again. train.DefaultGBM gives settings for
// cohort-sized data; xgboost's defaults are Lambda 1, MinChildWeight 1.
type GBMOptions struct {
	Trees          int     `json:"trees"`            // boosting rounds; default 300
	MaxDepth       int     `json:"max_depth"`        // default 6
	LearningRate   float64 `json:"learning_rate"`    // shrinkage; default 0.1
	Lambda         float64 `json:"lambda"`           // L2 penalty on leaf values
	MinChildWeight float64 `json:"min_child_weight"` // minimum hessian sum in a child
	Subsample      float64 `json:"subsample"`        // share of rows per tree; default 1
	ColSample      float64 `json:"colsample"`        // share of features per tree; default 1
	MaxBins        int     `json:"max_bins"`         // bins per feature, at most 255; default 255
	// EarlyStopping stops when the log loss on a held-out share of the
	// training rows (ValidationShare, default 0.1) has not improved for this
	// many rounds, and keeps the best round. 0 turns it off.
	EarlyStopping   int     `json:"early_stopping"`
	ValidationShare float64 `json:"validation_share"`
	// RefitAll, with early stopping, grows the model again on every row,
	// the validation share included, for the number of rounds early
	// stopping chose: no row is left out of the model that is kept.
	RefitAll bool   `json:"refit_all,omitempty"`
	Seed     uint64 `json:"seed"`
	// Objective is what the trees boost: "" the log loss of a binary
	// outcome (Y), ObjectiveCox the negative log partial likelihood of a
	// time to an event (Data.Time, with Y the event), Breslow's handling
	// of ties, as xgboost's survival:cox. Its score is a log relative
	// hazard.
	Objective string `json:"objective,omitempty"`
}

// ObjectiveCox is GBMOptions.Objective of a boosted Cox model.
const ObjectiveCox = "cox"

func (o *GBMOptions) defaults() error {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.Trees == 0 {
		o.Trees = 300
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = 6
	}
	if o.MaxBins == 0 {
		o.MaxBins = 255
	}
	def(&o.LearningRate, 0.1)
	def(&o.Subsample, 1)
	def(&o.ColSample, 1)
	def(&o.ValidationShare, 0.1)
	switch {
	case o.Trees < 1 || o.Trees > 100000:
		return fmt.Errorf("gbm: trees %d must be in [1, 100000]", o.Trees)
	case o.MaxDepth < 1 || o.MaxDepth > 20:
		return fmt.Errorf("gbm: max depth %d must be in [1, 20]", o.MaxDepth)
	case o.LearningRate <= 0 || o.LearningRate > 1:
		return fmt.Errorf("gbm: learning rate %v must be in (0, 1]", o.LearningRate)
	case o.Lambda < 0 || o.MinChildWeight < 0:
		return errors.New("gbm: lambda and min child weight must not be negative")
	case o.Subsample <= 0 || o.Subsample > 1 || o.ColSample <= 0 || o.ColSample > 1:
		return errors.New("gbm: subsample and colsample must be in (0, 1]")
	case o.MaxBins < 2 || o.MaxBins > 255:
		return fmt.Errorf("gbm: max bins %d must be in [2, 255]", o.MaxBins)
	case o.ValidationShare <= 0 || o.ValidationShare >= 0.5:
		return fmt.Errorf("gbm: validation share %v must be in (0, 0.5)", o.ValidationShare)
	case o.EarlyStopping < 0:
		return errors.New("gbm: early stopping rounds must not be negative")
	case o.Objective != "" && o.Objective != ObjectiveCox:
		return fmt.Errorf("gbm: objective %q: the log loss (\"\") or %s", o.Objective, ObjectiveCox)
	}
	return nil
}

// binned holds the training matrix as bin indices twice: row by row for
// the histograms (one pass over a row updates every feature's), and
// column by column for the partition of a node's rows (one feature read
// for each). Bin 0 is "missing"; bin k >= 1 holds values in
// (edges[k-2], edges[k-1]].
type binned struct {
	edges   [][]float64 // per feature, ascending upper edges
	rows    int
	cols    int
	bins    []uint8 // rows x cols, row-major
	colBins []uint8 // cols x rows, column-major
	cuts    int     // the number of places a node can be split at, over all features
}

func binData(d *Data, maxBins int) *binned {
	b := &binned{edges: make([][]float64, d.Cols), bins: make([]uint8, d.Rows*d.Cols), cols: d.Cols, colBins: make([]uint8, d.Rows*d.Cols), rows: d.Rows}
	// Each feature is binned on its own (sorting its column is most of the
	// work): the features side by side use the cores, and write disjoint
	// cells of bins.
	parallel.For(context.Background(), d.Cols, func(f int) error {
		col := make([]float64, 0, d.Rows)
		for i := 0; i < d.Rows; i++ {
			if x := d.X[i*d.Cols+f]; !math.IsNaN(x) {
				col = append(col, x)
			}
		}
		sort.Float64s(col)
		uniq := slices.Compact(slices.Clone(col))
		var edges []float64
		if len(uniq) <= maxBins-1 {
			edges = uniq
		} else { // quantiles of the values, so that bins hold similar counts
			for k := 1; k <= maxBins-1; k++ {
				e := col[min(len(col)-1, k*len(col)/(maxBins-1))]
				if len(edges) == 0 || e > edges[len(edges)-1] {
					edges = append(edges, e)
				}
			}
			if last := col[len(col)-1]; edges[len(edges)-1] < last {
				edges[len(edges)-1] = last
			}
		}
		b.edges[f] = edges
		for i := 0; i < d.Rows; i++ {
			x := d.X[i*d.Cols+f]
			if math.IsNaN(x) {
				continue // bin 0
			}
			k := sort.SearchFloat64s(edges, x) // first edge >= x
			if k == len(edges) {
				k-- // above the last edge (only at serving time)
			}
			b.bins[i*d.Cols+f] = uint8(k + 1)
			b.colBins[f*d.Rows+i] = uint8(k + 1)
		}
		return nil
	})
	for _, e := range b.edges {
		b.cuts += len(e)
	}
	return b
}

type histBin struct{ g, h float64 }

// FitGBM trains a GBM on d. It gives up with ctx's error when ctx is done
// (checked every boosting round).
func FitGBM(ctx context.Context, d *Data, opts GBMOptions) (*GBM, error) {
	if err := d.check(true); err != nil { // the GBM routes missing values itself
		return nil, err
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9b3))

	// Hold out a validation share for early stopping, stratified.
	train, valid := allRows(d.Rows), []int32(nil)
	if opts.EarlyStopping > 0 {
		train, valid = splitValidation(d.Y, d.Groups, opts.ValidationShare, rng)
	}
	pos := 0.0
	for _, i := range train {
		pos += d.Y[i]
	}
	prev := pos / float64(len(train))
	cox := opts.Objective == ObjectiveCox
	switch {
	case cox && len(d.Time) != d.Rows:
		return nil, fmt.Errorf("%w: %d times for %d rows", ErrData, len(d.Time), d.Rows)
	case cox && pos == 0:
		return nil, fmt.Errorf("%w: no event in the training rows", ErrData)
	case !cox && (prev == 0 || prev == 1):
		return nil, fmt.Errorf("%w: a single class in the training rows", ErrData)
	}
	m := &GBM{Opts: opts}
	var trainByTime, validByTime []int32
	if cox {
		// The partial likelihood does not change with a constant: the
		// score starts at 0, a log relative hazard.
		trainByTime, validByTime = byTime(d.Time, train), byTime(d.Time, valid)
	} else {
		m.Base = math.Log(prev / (1 - prev))
	}
	bd := binData(d, opts.MaxBins)

	score := make([]float64, d.Rows)
	for i := range score {
		score[i] = m.Base
	}
	gh := make([]histBin, d.Rows)
	g1 := newGrowers(bd, gh, &opts)
	inTree := make([]int32, d.Rows) // round+1 for the rows the round's tree was grown on
	bestLoss, bestRound := math.Inf(1), 0
	features := make([]int, d.Cols)
	for f := range features {
		features[f] = f
	}
	for round := 0; round < opts.Trees; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if cox {
			coxGradient(score, d.Time, d.Y, trainByTime, gh)
		} else {
			eachRange(len(train), func(lo, hi int) {
				for _, i := range train[lo:hi] {
					p := sigmoid(score[i])
					gh[i] = histBin{p - d.Y[i], p * (1 - p)}
				}
			})
		}
		rows := train
		if opts.Subsample < 1 {
			rows = sampleRows(train, opts.Subsample, rng)
		}
		feats := features
		if opts.ColSample < 1 {
			rng.Shuffle(len(features), func(a, b int) { features[a], features[b] = features[b], features[a] })
			feats = slices.Clone(features[:max(1, int(math.Round(opts.ColSample*float64(d.Cols))))])
			sort.Ints(feats)
		}
		t := g1.grow(rows, feats)
		m.Trees = append(m.Trees, t)
		parallel.For(ctx, len(g1.leaves), func(k int) error {
			leaf := g1.leaves[k]
			v := t.Value[leaf.node]
			for _, i := range leaf.rows {
				score[i] += v
				inTree[i] = int32(round + 1)
			}
			return nil
		})
		eachRange(d.Rows, func(lo, hi int) {
			for i := lo; i < hi; i++ { // rows left out by subsampling, and validation rows
				if inTree[i] != int32(round+1) {
					score[i] += t.predict(d.Row(i))
				}
			}
		})
		if opts.EarlyStopping > 0 {
			loss := 0.0
			if cox {
				loss = coxLoss(score, d.Time, d.Y, validByTime)
			} else {
				for _, i := range valid {
					loss += log1pexp(score[i]) - d.Y[i]*score[i]
				}
			}
			if loss < bestLoss-1e-12 {
				bestLoss, bestRound = loss, round+1
			} else if round+1-bestRound >= opts.EarlyStopping {
				break
			}
		}
	}
	if opts.EarlyStopping > 0 {
		m.Trees = m.Trees[:bestRound]
		m.BestRound = bestRound
	}
	if opts.EarlyStopping > 0 && opts.RefitAll {
		all := opts
		all.Trees, all.EarlyStopping, all.RefitAll = bestRound, 0, false
		full, err := FitGBM(ctx, d, all)
		if err != nil {
			return nil, err
		}
		full.Opts, full.BestRound = opts, bestRound
		return full, nil
	}
	m.prepare()
	return m, nil
}

func allRows(n int) []int32 {
	r := make([]int32, n)
	for i := range r {
		r[i] = int32(i)
	}
	return r
}

// splitValidation holds out share of each class's rows, at random; with
// groups, whole groups (in a random order) until that many rows are held
// out.
func splitValidation(y []float64, groups []int32, share float64, rng *rand.Rand) (train, valid []int32) {
	for _, class := range []float64{0, 1} {
		var idx []int32
		for i, v := range y {
			if v == class {
				idx = append(idx, int32(i))
			}
		}
		k := int(math.Round(share * float64(len(idx))))
		if groups == nil {
			rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
			valid = append(valid, idx[:k]...)
			train = append(train, idx[k:]...)
			continue
		}
		rows := map[int32][]int32{}
		var order []int32 // the groups, in the order they first appear
		for _, i := range idx {
			g := groups[i]
			if _, ok := rows[g]; !ok {
				order = append(order, g)
			}
			rows[g] = append(rows[g], i)
		}
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		held := 0
		for _, g := range order {
			if held < k {
				valid = append(valid, rows[g]...)
				held += len(rows[g])
			} else {
				train = append(train, rows[g]...)
			}
		}
	}
	slices.Sort(train)
	slices.Sort(valid)
	return train, valid
}

func sampleRows(rows []int32, share float64, rng *rand.Rand) []int32 {
	out := make([]int32, 0, int(share*float64(len(rows)))+1)
	for _, r := range rows {
		if rng.Float64() < share {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		out = append(out, rows[rng.IntN(len(rows))])
	}
	return out
}

// grower grows one tree depth-first.
type grower struct {
	bd   *binned
	gh   []histBin // each row's gradient and hessian, side by side: one load a row
	opts *GBMOptions
	t    *GBMTree
	// leaves are the leaves of the tree just grown and the rows it was
	// grown on that reached each: their scores update without a traversal.
	leaves []leafRows
	// parts are the histograms of the chunks of a node's rows but the
	// first, and spare the partition's scratch: both reused from node to
	// node, since nodes are split one at a time.
	parts [histChunks - 1][]featHist
	spare []int32
	free  [][]featHist // histograms to reuse: see newHist
	// helpers are growers idle on other goroutines' behalf: a node takes
	// one, if there is one, to grow its right subtree beside its left (see
	// split). Shared by a fit's growers; nil grows on one goroutine.
	helpers chan *grower
}

// newGrowers returns a fit's grower and the helpers it shares with them,
// one fewer than the cores.
func newGrowers(bd *binned, gh []histBin, opts *GBMOptions) *grower {
	gr := &grower{bd: bd, gh: gh, opts: opts}
	if n := runtime.GOMAXPROCS(0) - 1; n > 0 {
		gr.helpers = make(chan *grower, n)
		for range n {
			gr.helpers <- &grower{bd: bd, gh: gh, opts: opts, helpers: gr.helpers}
		}
	}
	return gr
}

// helper returns an idle helper, or nil when none is (or gr has none:
// a receive from a nil channel is never ready).
func (gr *grower) helper() *grower {
	select {
	case h := <-gr.helpers:
		return h
	default:
		return nil
	}
}

// forkRows is the fewest rows of a right subtree a helper grows: below,
// the subtree costs less than handing it over.
const forkRows = 256

// graft appends the tree h grew to gr's, its node indices moved past
// gr's nodes, and its leaves to gr's; it returns the index of its root.
func (gr *grower) graft(h *grower) int32 {
	t, sub := gr.t, h.t
	at := int32(len(t.Value))
	shift := func(c int32) int32 {
		if c < 0 {
			return c
		}
		return c + at
	}
	for i := range sub.Value {
		t.Left = append(t.Left, shift(sub.Left[i]))
		t.Right = append(t.Right, shift(sub.Right[i]))
	}
	t.Feature = append(t.Feature, sub.Feature...)
	t.Threshold = append(t.Threshold, sub.Threshold...)
	t.DefaultLeft = append(t.DefaultLeft, sub.DefaultLeft...)
	t.Value = append(t.Value, sub.Value...)
	t.Cover = append(t.Cover, sub.Cover...)
	for _, l := range h.leaves {
		gr.leaves = append(gr.leaves, leafRows{l.node + at, l.rows})
	}
	return at
}

// histStride is the number of bins per feature in a histogram.
const histStride = 256

// featHist is one feature's histogram. Indexed by a bin (a uint8), it
// needs no bounds check in the innermost loop of training.
type featHist [histStride]histBin

// histChunks is the number of chunks of rows a large node's histogram is
// built in, and its rows partitioned in, side by side. It is fixed, not the
// number of cores, so that the sums, and the model, are the same on any
// machine.
const histChunks = 4

// histChunkWork is the fewest bin updates of a chunk of a histogram.
const histChunkWork = 1 << 16

func (gr *grower) grow(rows []int32, feats []int) GBMTree {
	gr.t, gr.leaves = &GBMTree{}, gr.leaves[:0]
	if len(gr.spare) < len(rows) {
		gr.spare = make([]int32, len(rows))
	}
	hist := gr.histogram(rows, feats)
	var G, H float64 // every row is in exactly one bin of any feature
	for _, b := range hist[feats[0]] {
		G += b.g
		H += b.h
	}
	gr.split(slices.Clone(rows), hist, feats, 0, G, H)
	return *gr.t
}

// histogram sums gradients and hessians per (feature, bin) over rows. On
// many rows, up to histChunks chunks of them are summed side by side, each
// into a histogram of its own, and the chunks' sums are added in chunk
// order. A chunk is at least histChunkWork bin updates, since each chunk
// beyond the first costs a histogram to clear and to add.
func (gr *grower) histogram(rows []int32, feats []int) []featHist {
	hist := gr.newHist()
	n := len(rows)
	chunks := min(histChunks, n*len(feats)/histChunkWork)
	if chunks < 2 {
		gr.fill(hist, rows, feats)
		return hist
	}
	parts := gr.parts[:chunks-1]
	parallel.For(context.Background(), chunks, func(c int) error {
		h := hist
		if c > 0 {
			if parts[c-1] == nil {
				parts[c-1] = make([]featHist, gr.bd.cols)
			}
			h = parts[c-1]
			for _, f := range feats {
				clear(h[f][:])
			}
		}
		gr.fill(h, rows[c*n/chunks:(c+1)*n/chunks], feats)
		return nil
	})
	parallel.For(context.Background(), histChunks, func(c int) error {
		for _, f := range feats[c*len(feats)/histChunks : (c+1)*len(feats)/histChunks] {
			dst := &hist[f]
			for _, part := range parts {
				src := &part[f]
				for k := range dst {
					dst[k].g += src[k].g
					dst[k].h += src[k].h
				}
			}
		}
		return nil
	})
	return hist
}

func (gr *grower) fill(hist []featHist, rows []int32, feats []int) {
	addRows(hist, gr.bd.bins, gr.bd.cols, gr.gh, rows, feats)
}

// addRowsGo adds each row's gradient and hessian to the bins it falls in,
// for the features feats: the histogram's kernel, and addRows where there
// is no assembly version.
func addRowsGo(hist []featHist, bins []uint8, cols int, gh []histBin, rows []int32, feats []int) {
	if len(feats) == cols && len(hist) == cols {
		// Every feature (no column sampling): the row's bins in order.
		for _, i := range rows {
			p := gh[i]
			rb := bins[int(i)*cols : int(i)*cols+cols]
			hist := hist[:len(rb)]
			for f, b := range rb {
				e := &hist[f][b]
				e.g += p.g
				e.h += p.h
			}
		}
		return
	}
	for _, i := range rows {
		p := gh[i]
		rb := bins[int(i)*cols : int(i)*cols+cols]
		for _, f := range feats {
			e := &hist[f][rb[f]]
			e.g += p.g
			e.h += p.h
		}
	}
}

// newHist returns a histogram of zeros, one freed before if there is one:
// a tree's nodes need a few at a time, and allocating each anew costs
// clearing memory and collecting garbage.
func (gr *grower) newHist() []featHist {
	if n := len(gr.free); n > 0 {
		h := gr.free[n-1]
		gr.free = gr.free[:n-1]
		clear(h)
		return h
	}
	return make([]featHist, gr.bd.cols)
}

// freeHist gives back a histogram no node needs any more.
func (gr *grower) freeHist(h []featHist) {
	if h != nil {
		gr.free = append(gr.free, h)
	}
}

// leafRows are the rows that reached a leaf.
type leafRows struct {
	node int32
	rows []int32
}

func (gr *grower) markLeaf(rows []int32, node int32) {
	gr.leaves = append(gr.leaves, leafRows{node, rows})
}

func (gr *grower) leafValue(G, H float64) float64 {
	if H+gr.opts.Lambda <= 0 { // no penalty and saturated probabilities: no step
		return 0
	}
	return -G / (H + gr.opts.Lambda) * gr.opts.LearningRate
}

// split adds the node for rows, whose histogram is hist (nil at the
// deepest level) and sums of gradients and hessians G and H, and, if a
// split helps, its children; it returns the node's index. It reorders
// rows: the left child's first, each side in its old order.
func (gr *grower) split(rows []int32, hist []featHist, feats []int, depth int, G, H float64) int32 {
	t := gr.t
	node := int32(len(t.Value))
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.DefaultLeft = append(t.DefaultLeft, false)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Value = append(t.Value, gr.leafValue(G, H))
	t.Cover = append(t.Cover, float64(len(rows)))
	lam := gr.opts.Lambda
	if depth >= gr.opts.MaxDepth || H < 2*gr.opts.MinChildWeight || H+lam <= 0 {
		gr.markLeaf(rows, node)
		gr.freeHist(hist)
		return node
	}

	parent := G * G / (H + lam)
	mcw := gr.opts.MinChildWeight
	// Each feature's best split, the groups of features side by side on
	// a large node; then the best of them in feature order, ties to the
	// first, as one scan would choose.
	type found struct {
		gain     float64
		bin      int
		missLeft bool
		gL, hL   float64
	}
	best := make([]found, len(feats))
	scan := func(lo, hi int) {
		for j := lo; j < hi; j++ {
			f := feats[j]
			fh := &hist[f]
			nb := len(gr.bd.edges[f])
			miss := fh[0]
			var gl, hl float64
			b := found{gain: 1e-12}
			for k := 1; k < nb; k++ { // split after bin k: bins 1..k left
				e := fh[k]
				if k > 1 && e.g == 0 && e.h == 0 {
					continue // an empty bin: the split after the bin before it is the same, and ties go to the first
				}
				gl += e.g
				hl += e.h
				// Missing values right, then left.
				gR, hR := G-gl, H-hl
				// With no minimum and no penalty, an empty side has 0/0.
				if hl >= mcw && hR >= mcw && hl+lam > 0 && hR+lam > 0 {
					if gain := gl*gl/(hl+lam) + gR*gR/(hR+lam) - parent; gain > b.gain {
						b = found{gain, k, false, gl, hl}
					}
				}
				if miss.h == 0 {
					continue
				}
				gL, hL := gl+miss.g, hl+miss.h
				gR, hR = G-gL, H-hL
				if hL >= mcw && hR >= mcw && hL+lam > 0 && hR+lam > 0 {
					if gain := gL*gL/(hL+lam) + gR*gR/(hR+lam) - parent; gain > b.gain {
						b = found{gain, k, true, gL, hL}
					}
				}
			}
			best[j] = b
		}
	}
	// A scan's work does not depend on the node's rows: every node of a
	// large enough matrix is scanned side by side.
	if gr.bd.cuts < 1<<12 || len(feats) < histChunks {
		scan(0, len(feats))
	} else {
		parallel.For(context.Background(), histChunks, func(c int) error {
			scan(c*len(feats)/histChunks, (c+1)*len(feats)/histChunks)
			return nil
		})
	}
	bestGain, bestF, bestBin, bestLeftMissing := 1e-12, -1, 0, false
	var gL, hL float64
	for j, b := range best {
		if b.gain > bestGain {
			bestGain, bestF, bestBin, bestLeftMissing = b.gain, feats[j], b.bin, b.missLeft
			gL, hL = b.gL, b.hL
		}
	}
	if bestF < 0 {
		gr.markLeaf(rows, node)
		gr.freeHist(hist)
		return node
	}
	nl := gr.partition(rows, bestF, bestBin, bestLeftMissing)
	left, right := rows[:nl], rows[nl:]
	t.Feature[node] = int32(bestF)
	t.Threshold[node] = gr.bd.edges[bestF][bestBin-1]
	t.DefaultLeft[node] = bestLeftMissing

	// Build the smaller child's histogram; the larger one's is the parent's
	// minus it (the subtraction trick of LightGBM and XGBoost).
	var histL, histR []featHist
	if depth+1 < gr.opts.MaxDepth {
		small, isLeft := left, true
		if len(right) < len(left) {
			small, isLeft = right, false
		}
		hs := gr.histogram(small, feats)
		for _, f := range feats {
			dst, src := &hist[f], &hs[f]
			for k := range dst {
				dst[k].g -= src[k].g
				dst[k].h -= src[k].h
			}
		}
		histL, histR = hs, hist
		if !isLeft {
			histL, histR = hist, hs
		}
	} else {
		gr.freeHist(hist) // the children are leaves
	}
	if len(right) >= forkRows && depth+1 < gr.opts.MaxDepth {
		if h := gr.helper(); h != nil {
			// The right subtree grows on another goroutine, into a tree of
			// its own that is then appended after the left one: the nodes,
			// and the model, are those one goroutine would have made, in
			// the same order, whichever ran first. Nodes deep in a tree are
			// too small to split their own work across cores; this keeps
			// the cores busy there.
			if len(h.spare) < len(right) {
				h.spare = make([]int32, len(right))
			}
			h.t, h.leaves = &GBMTree{}, h.leaves[:0]
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.split(right, histR, feats, depth+1, G-gL, H-hL)
			}()
			l := gr.split(left, histL, feats, depth+1, gL, hL)
			<-done
			r := gr.graft(h)
			gr.helpers <- h
			t.Left[node], t.Right[node] = l, r
			return node
		}
	}
	l := gr.split(left, histL, feats, depth+1, gL, hL)
	r := gr.split(right, histR, feats, depth+1, G-gL, H-hL)
	t.Left[node], t.Right[node] = l, r
	return node
}

// partition reorders rows so that those going left at feature f's bin
// (missing values left or not) come first, each side in its old order, and
// returns how many go left. On many rows, fixed chunks are partitioned side
// by side into gr.spare and copied back in order: the result of one pass.
func (gr *grower) partition(rows []int32, f, bin int, missLeft bool) int {
	col := gr.bd.colBins[f*gr.bd.rows : (f+1)*gr.bd.rows]
	// Missing values are bin 0: with missLeft they go left as bin 0 <= bin
	// does; without, bin 0 is moved past every bin.
	var missing uint8
	if !missLeft {
		missing = 255
	}
	// part puts the left rows of src at the front of dst and the right
	// ones at its back, in reverse, and returns the number of left rows.
	// Both are written and one kept, without a branch: which way a row
	// goes cannot be predicted.
	part := func(src, dst []int32) int {
		l, r := 0, len(dst)-1
		for _, i := range src {
			b := col[i]
			if b == 0 {
				b = missing
			}
			left := 0
			if int(b) <= bin {
				left = 1
			}
			dst[l] = i
			dst[r] = i
			l += left
			r -= 1 - left
		}
		return l
	}
	n := len(rows)
	spare := gr.spare[:n]
	if n < 1<<14 {
		nl := part(rows, spare)
		copy(rows, spare[:nl])
		slices.Reverse(spare[nl:])
		copy(rows[nl:], spare[nl:])
		return nl
	}
	var nls [histChunks]int
	parallel.For(context.Background(), histChunks, func(c int) error {
		lo, hi := c*n/histChunks, (c+1)*n/histChunks
		nls[c] = part(rows[lo:hi], spare[lo:hi])
		return nil
	})
	nl := 0
	for _, k := range nls {
		nl += k
	}
	parallel.For(context.Background(), histChunks, func(c int) error {
		lo, hi := c*n/histChunks, (c+1)*n/histChunks
		atL, atR := 0, nl
		for k := range c {
			atL += nls[k]
			atR += (k+1)*n/histChunks - k*n/histChunks - nls[k]
		}
		copy(rows[atL:], spare[lo:lo+nls[c]])
		r := spare[lo+nls[c] : hi]
		slices.Reverse(r)
		copy(rows[atR:], r)
		return nil
	})
	return nl
}

// eachRange calls f on fixed chunks of rows 0 to n, side by side when n
// is large: for per-row work whose results do not depend on the order.
func eachRange(n int, f func(lo, hi int)) {
	if n < 1<<15 {
		f(0, n)
		return
	}
	const chunks = 8
	parallel.For(context.Background(), chunks, func(c int) error {
		f(c*n/chunks, (c+1)*n/chunks)
		return nil
	})
}

// goesLeft reports whether x goes left at inner node n: its value is at most
// the threshold, or missing where missing values go left.
func (t *GBMTree) goesLeft(n int32, x []float64) bool {
	v := x[t.Feature[n]]
	if math.IsNaN(v) {
		return t.DefaultLeft[n]
	}
	return v <= t.Threshold[n]
}

func (t *GBMTree) leaf(x []float64) int32 {
	n := int32(0)
	for t.Left[n] >= 0 {
		if t.goesLeft(n, x) {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return n
}

func (t *GBMTree) predict(x []float64) float64 { return t.Value[t.leaf(x)] }

// Algo implements Classifier.
func (m *GBM) Algo() string { return "gbm" }

// scoreRows implements rowScorer.
func (m *GBM) scoreRows(X []float64, cols int, dst []float64) {
	if len(m.flat.roots) != len(m.Trees) {
		scoreEachRow(m, X, cols, dst) // not prepared: built by hand
		return
	}
	m.flat.sumRows(m.Base, X, cols, dst)
}

// Score implements Classifier.
func (m *GBM) Score(x []float64) float64 {
	s := m.Base
	for i := range m.Trees {
		s += m.Trees[i].predict(x)
	}
	return s
}

// Contributions implements Classifier with SHAP values: TreeSHAP's, exact
// for each tree, with the trees' training rows weighing the branches of a
// feature left out (as xgboost's pred_contribs). The bias is the model's
// expected score; bias + contributions = score up to rounding. Unlike path
// attributions (Saabas's), they do not depend on the order of the splits,
// and a feature that changes no prediction gets 0. A bundle made before
// covers were recorded gets path attributions.
func (m *GBM) Contributions(x []float64, dst []float64) float64 {
	clear(dst)
	if len(m.Trees) > 0 && len(m.Trees[0].Cover) == 0 {
		return m.pathContributions(x, dst)
	}
	// Room for trees of depth 8 and 255 nodes on the stack; larger ones
	// allocate.
	var (
		buf    [55]pathElement
		goBuf  [255]bool
		tabled = len(m.tables) == len(m.Trees)
	)
	bias := m.Base
	for ti := range m.Trees {
		t := &m.Trees[ti]
		if tabled && m.tables[ti] != nil {
			bias += m.tables[ti].add(t, x, dst)
			continue
		}
		path, goLeft := buf[:], goBuf[:]
		if need := shapPathLen(t.depth(0)); need > len(buf) {
			path = make([]pathElement, need)
		}
		if len(t.Left) > len(goBuf) {
			goLeft = make([]bool, len(t.Left))
		}
		t.decide(x, goLeft)
		bias += t.shap(goLeft, dst, path)
	}
	return bias
}

// prepare tables the SHAP values of m's shallow trees (see shapTable); a
// model without covers has none to table.
func (m *GBM) prepare() {
	trees := make([]flatTree, len(m.Trees))
	for i, t := range m.Trees {
		trees[i] = flatTree{feature: t.Feature, threshold: t.Threshold, left: t.Left, right: t.Right, out: t.Value, nanLeft: t.DefaultLeft}
	}
	m.flat = flatten(trees)
	m.tables = nil
	if len(m.Trees) == 0 || len(m.Trees[0].Cover) == 0 {
		return
	}
	m.tables = make([]*shapTable, len(m.Trees))
	for i := range m.Trees {
		m.tables[i] = m.Trees[i].table()
	}
}

// pathContributions are Saabas's path attributions (each split's change in
// the node value, credited to its feature), for bundles without covers.
func (m *GBM) pathContributions(x []float64, dst []float64) float64 {
	bias := m.Base
	for ti := range m.Trees {
		t := &m.Trees[ti]
		n := int32(0)
		bias += t.Value[0]
		for t.Left[n] >= 0 {
			next := t.Right[n]
			if t.goesLeft(n, x) {
				next = t.Left[n]
			}
			dst[t.Feature[n]] += t.Value[next] - t.Value[n]
			n = next
		}
	}
	return bias
}

func (m *GBM) validate() error {
	for ti, t := range m.Trees {
		n := len(t.Value)
		if n == 0 || len(t.Feature) != n || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.DefaultLeft) != n {
			return fmt.Errorf("tree %d: arrays of different lengths", ti)
		}
		if err := checkTree(t.Feature, t.Left, t.Right); err != nil {
			return fmt.Errorf("tree %d: %w", ti, err)
		}
		if (len(t.Cover) == 0) != (len(m.Trees[0].Cover) == 0) {
			return fmt.Errorf("tree %d: covers in some trees only", ti)
		}
		if len(t.Cover) > 0 {
			if len(t.Cover) != n {
				return fmt.Errorf("tree %d: arrays of different lengths", ti)
			}
			for k, c := range t.Cover {
				if !(c > 0) || t.Left[k] >= 0 && c != t.Cover[t.Left[k]]+t.Cover[t.Right[k]] {
					return fmt.Errorf("tree %d, node %d: cover %v is not positive or not its children's sum", ti, k, c)
				}
			}
		}
	}
	return nil
}

// checkTree verifies the shape of a flat tree (the arrays have one entry per
// node): children come after their parent and within the tree, and every
// split names a feature. Prediction loops rely on it to terminate.
func checkTree(feature, left, right []int32) error {
	n := len(left)
	for i := 0; i < n; i++ {
		if left[i] >= 0 && (int(left[i]) <= i || int(right[i]) <= i || int(left[i]) >= n || int(right[i]) >= n || feature[i] < 0) {
			return fmt.Errorf("node %d: bad children or feature", i)
		}
	}
	return nil
}

// maxFeature returns the largest feature index a tree splits on, or -1.
func maxFeature(feature []int32) int {
	m := -1
	for _, f := range feature {
		m = max(m, int(f))
	}
	return m
}

// byTime returns rows ordered by time, ascending; ties keep their order.
func byTime(time []float64, rows []int32) []int32 {
	out := slices.Clone(rows)
	sort.SliceStable(out, func(a, b int) bool { return time[out[a]] < time[out[b]] })
	return out
}

// coxGradient sets gh, for the rows of order (ascending by time), to
// the gradient and diagonal Hessian of the negative log partial likelihood
// of the scores (log relative hazards), with Breslow's handling of ties,
// computed as xgboost's survival:cox does: the risk set's sum of exp(score)
// drops only once time moves on, and an event adds 1/S and 1/S^2 to the
// sums of the patients from it on.
func coxGradient(score, time, event []float64, order []int32, gh []histBin) {
	riskSum := 0.0
	for _, i := range order {
		riskSum += math.Exp(score[i])
	}
	var r, s2, accumulated, lastExp, lastTime float64
	for k, i := range order {
		e := math.Exp(score[i])
		accumulated += lastExp
		if k > 0 && time[i] > lastTime {
			riskSum -= accumulated
			accumulated = 0
		}
		if event[i] == 1 {
			r += 1 / riskSum
			s2 += 1 / (riskSum * riskSum)
		}
		gh[i] = histBin{e*r - event[i], e*r - e*e*s2}
		lastTime, lastExp = time[i], e
	}
}

// coxLoss is the negative log partial likelihood (Breslow) of the scores
// over the rows of order (ascending by time): the early-stopping loss of a
// boosted Cox model.
func coxLoss(score, time, event []float64, order []int32) float64 {
	// From the latest time back, the risk set grows; tied times share it.
	loss, riskSum := 0.0, 0.0
	for k := len(order) - 1; k >= 0; {
		t := time[order[k]]
		j := k
		for ; j >= 0 && time[order[j]] == t; j-- {
			riskSum += math.Exp(score[order[j]])
		}
		for l := k; l > j; l-- {
			if i := order[l]; event[i] == 1 {
				loss += math.Log(riskSum) - score[i]
			}
		}
		k = j
	}
	return loss
}
