package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// Forest is a bagged ensemble of golearn CART classification trees: each
// tree is fitted by golearn on a bootstrap sample of the rows, then copied
// into a flat tree here, so that prediction needs no golearn data grid.
//
// The probability is the mean over trees of the positive share of the
// training rows in the leaf reached (soft voting, as scikit-learn's random
// forest does). The share of trees voting positive (Votes; Trees is odd, so
// a majority exists) is kept for reference but not used: golearn's leaves
// carry only their majority label, and when the positive class is a
// minority with a diffuse signal (response rates of 20-40%), most leaves
// vote negative and the vote share hardly ranks patients: on 5,000 held-out
// synthetic patients, AUC 0.690 with votes and 0.726 with leaf shares,
// against 0.764 for the true probabilities (train.TestForestRecovers).
//
// The bagging is ours, not golearn's RandomForest or meta.BaggedModel: those
// draw from the global random source and cannot be reproduced from a seed.
// Inputs are quantile-binned (MaxBins values per feature) before golearn
// sees them, because golearn's CART tries every distinct value of every
// feature at every node and its cost grows with their count.
type Forest struct {
	Trees []ForestTree  `json:"trees"`
	Opts  ForestOptions `json:"options"`
}

// ForestTree is one tree: x[Feature] <= Threshold goes left; a node with
// Left -1 is a leaf voting Label, where Share of the tree's bootstrap rows
// were positive.
type ForestTree struct {
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Label     []int8    `json:"label"`
	Share     []float64 `json:"share"`
}

// ForestOptions are the hyperparameters of FitForest.
type ForestOptions struct {
	Trees    int `json:"trees"`     // odd; default 101
	MaxDepth int `json:"max_depth"` // default 8
	MaxBins  int `json:"max_bins"`  // distinct values per feature given to golearn; default 32
	// ColSample is the share of features each tree sees (random subspaces,
	// Ho 1998): golearn's CART cannot sample features per split, as a random
	// forest does, so the trees are decorrelated per tree instead. Default 0.7.
	ColSample float64 `json:"colsample"`
	Seed      uint64  `json:"seed"`
}

// FitForest trains a Forest on d (no missing values: impute first). Trees
// are grown on GOMAXPROCS goroutines; the forest does not depend on how many.
// It gives up with ctx's error when ctx is done (checked before each tree).
func FitForest(ctx context.Context, d *Data, opts ForestOptions) (*Forest, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if opts.Trees == 0 {
		opts.Trees = 101
	}
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 8
	}
	if opts.MaxBins == 0 {
		opts.MaxBins = 32
	}
	if opts.ColSample == 0 {
		opts.ColSample = 0.7
	}
	switch {
	case opts.Trees < 1 || opts.Trees%2 == 0 || opts.Trees > 10001:
		return nil, fmt.Errorf("forest: trees %d must be odd, in [1, 10001]: votes must not tie", opts.Trees)
	case opts.MaxDepth < 1 || opts.MaxDepth > 30:
		return nil, fmt.Errorf("forest: max depth %d must be in [1, 30]", opts.MaxDepth)
	case opts.MaxBins < 2 || opts.MaxBins > 255:
		return nil, fmt.Errorf("forest: max bins %d must be in [2, 255]", opts.MaxBins)
	case opts.ColSample <= 0 || opts.ColSample > 1:
		return nil, fmt.Errorf("forest: colsample %v must be in (0, 1]", opts.ColSample)
	}
	bd := binData(d, opts.MaxBins)
	f := &Forest{Trees: make([]ForestTree, opts.Trees), Opts: opts}
	grow := func(t int) error {
		sample, cols := opts.bag(t, d.Rows, d.Cols)
		tree, err := fitGolearnTree(d, bd, sample, cols, opts.MaxDepth)
		if err != nil {
			return fmt.Errorf("forest: tree %d: %w", t+1, err)
		}
		f.Trees[t] = tree
		return nil
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, opts.Trees)
	)
	for w := min(runtime.GOMAXPROCS(0), opts.Trees); w > 0; w-- {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := int(next.Add(1) - 1); t < opts.Trees; t = int(next.Add(1) - 1) {
				if errs[t] = ctx.Err(); errs[t] == nil {
					errs[t] = grow(t)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// bag draws the bootstrap rows and the columns of tree t, from the tree's
// own stream: trees can be grown concurrently.
func (o ForestOptions) bag(t, rows, cols int) (sample, chosen []int) {
	rng := rand.New(rand.NewPCG(o.Seed, 0xf0e57<<20|uint64(t)))
	sample = make([]int, rows)
	for i := range sample {
		sample[i] = rng.IntN(rows)
	}
	k := max(1, int(math.Round(o.ColSample*float64(cols))))
	chosen = rng.Perm(cols)[:k]
	sort.Ints(chosen)
	return sample, chosen
}

// fitGolearnTree fits one golearn CART tree on the sampled rows and converts it.
func fitGolearnTree(d *Data, bd *binned, sample, cols []int, depth int) (ForestTree, error) {
	cart, _, err := golearnCART(d, bd, sample, cols, depth)
	if err != nil {
		return ForestTree{}, err
	}
	t, err := convertCART(cart, bd, cols)
	if err != nil {
		return t, err
	}
	// Leaf shares from the rows the tree was grown on (with their bootstrap
	// multiplicity); an empty leaf falls back on its label.
	pos := make([]float64, len(t.Label))
	n := make([]float64, len(t.Label))
	for _, i := range sample {
		l := t.leaf(d.Row(i))
		pos[l] += d.Y[i]
		n[l]++
	}
	t.Share = make([]float64, len(t.Label))
	for l := range t.Share {
		switch {
		case t.Left[l] >= 0:
		case n[l] > 0:
			t.Share[l] = pos[l] / n[l]
		default:
			t.Share[l] = float64(t.Label[l])
		}
	}
	return t, nil
}

// golearnCART fits golearn's CART on the sampled rows and the chosen
// columns (golearn's feature j is column cols[j]), each value replaced by its
// bin's upper edge; it also returns the grid it was fitted on.
func golearnCART(d *Data, bd *binned, sample, cols []int, depth int) (*trees.CARTDecisionTreeClassifier, *base.DenseInstances, error) {
	inst := base.NewDenseInstances()
	specs := make([]base.AttributeSpec, len(cols))
	for j, c := range cols {
		specs[j] = inst.AddAttribute(base.NewFloatAttribute("x" + strconv.Itoa(c)))
	}
	class := base.NewFloatAttribute("y")
	classSpec := inst.AddAttribute(class)
	if err := inst.AddClassAttribute(class); err != nil {
		return nil, nil, err
	}
	if err := inst.Extend(len(sample)); err != nil {
		return nil, nil, err
	}
	for r, i := range sample {
		for j, c := range cols {
			edge := bd.edges[c][bd.bins[i*d.Cols+c]-1] // no missing values here: bins start at 1
			inst.Set(specs[j], r, base.PackFloatToBytes(edge))
		}
		inst.Set(classSpec, r, base.PackFloatToBytes(d.Y[i]))
	}
	cart := trees.NewDecisionTreeClassifier("gini", int64(depth), []int64{0, 1})
	if err := cart.Fit(inst); err != nil {
		return nil, nil, err
	}
	if cart.RootNode == nil {
		return nil, nil, errors.New("golearn returned no tree")
	}
	return cart, inst, nil
}

func convertCART(cart *trees.CARTDecisionTreeClassifier, bd *binned, cols []int) (ForestTree, error) {
	root := reflect.ValueOf(cart.RootNode).Elem()
	var t ForestTree
	if !root.FieldByName("isNodeNeeded").Bool() {
		// golearn found no split: one leaf with the majority label (golearn's
		// own predictor would compare against a zero threshold here).
		t.addLeaf(int8(root.FieldByName("LeftLabel").Int()))
		return t, nil
	}
	t.convert(bd, cols, root)
	return t, nil
}

// convert appends golearn's split node n and its two sides. golearn's
// CART node type is unexported, but its fields are not: reflection reads
// them, once per fitted tree. A side whose child pointer is nil is a leaf
// with the side's majority label. golearn sends x left when x < Threshold;
// thresholds lie between bin edges, so in raw units "left" is x <= the
// largest edge below the threshold.
func (t *ForestTree) convert(bd *binned, cols []int, n reflect.Value) int32 {
	feature := cols[n.FieldByName("Feature").Int()]
	threshold := n.FieldByName("Threshold").Float()
	node := int32(len(t.Label))
	edges := bd.edges[feature]
	k := sort.SearchFloat64s(edges, threshold) // first edge >= threshold
	raw := math.Inf(-1)
	if k > 0 {
		raw = edges[k-1]
	}
	t.Feature = append(t.Feature, int32(feature))
	t.Threshold = append(t.Threshold, raw)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Label = append(t.Label, -1)
	side := func(child, label string) int32 {
		if c := n.FieldByName(child); !c.IsNil() {
			return t.convert(bd, cols, c.Elem())
		}
		return t.addLeaf(int8(n.FieldByName(label).Int()))
	}
	l := side("Left", "LeftLabel")
	r := side("Right", "RightLabel")
	t.Left[node], t.Right[node] = l, r
	return node
}

func (t *ForestTree) addLeaf(label int8) int32 {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Label = append(t.Label, label)
	return int32(len(t.Label) - 1)
}

// Algo implements Classifier.
func (f *Forest) Algo() string { return "forest" }

func (t *ForestTree) leaf(x []float64) int32 {
	n := int32(0)
	for t.Left[n] >= 0 {
		if x[t.Feature[n]] <= t.Threshold[n] {
			n = t.Left[n]
		} else {
			n = t.Right[n]
		}
	}
	return n
}

// Votes returns how many trees vote positive.
func (f *Forest) Votes(x []float64) int {
	v := 0
	for i := range f.Trees {
		t := &f.Trees[i]
		v += int(t.Label[t.leaf(x)])
	}
	return v
}

// Proba returns the mean leaf share of positives over the trees.
func (f *Forest) Proba(x []float64) float64 {
	s := 0.0
	for i := range f.Trees {
		t := &f.Trees[i]
		s += t.Share[t.leaf(x)]
	}
	return s / float64(len(f.Trees))
}

// Score implements Classifier: the log-odds of Proba, kept finite by
// bounding it to [0.5/(T+1), 1 - 0.5/(T+1)] for T trees.
func (f *Forest) Score(x []float64) float64 {
	eps := 0.5 / float64(len(f.Trees)+1)
	p := math.Min(math.Max(f.Proba(x), eps), 1-eps)
	return math.Log(p / (1 - p))
}

// Contributions implements Classifier. The log-odds of an average of leaf
// shares has no exact additive decomposition by feature; the forest reports
// none (all zero, the score as bias) rather than an approximation that would
// look exact.
func (f *Forest) Contributions(x []float64, dst []float64) float64 {
	clear(dst)
	return f.Score(x)
}

func (f *Forest) validate() error {
	if len(f.Trees)%2 == 0 {
		return fmt.Errorf("%d trees: the count must be odd", len(f.Trees))
	}
	for ti, t := range f.Trees {
		n := len(t.Label)
		if n == 0 || len(t.Feature) != n || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Share) != n {
			return fmt.Errorf("tree %d: arrays of different lengths", ti)
		}
		if err := checkTree(t.Feature, t.Left, t.Right); err != nil {
			return fmt.Errorf("tree %d: %w", ti, err)
		}
		for i := 0; i < n; i++ {
			if t.Left[i] < 0 && ((t.Label[i] != 0 && t.Label[i] != 1) || !(t.Share[i] >= 0 && t.Share[i] <= 1)) {
				return fmt.Errorf("tree %d, leaf %d: label %d, share %v", ti, i, t.Label[i], t.Share[i])
			}
		}
	}
	return nil
}
