package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strconv"

	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/trees"
)

// Forest is a random forest (Breiman 2001) whose splits golearn chooses:
// each tree is grown here, top down, on a bootstrap sample of the rows; at
// each node a fresh random subset of the features is drawn and golearn's
// CART (Gini, one level deep) picks the best split of the node's rows on
// those features. golearn's CART grows a whole tree only on a fixed set of
// features; drawing the features per split is what decorrelates the trees
// of a random forest, and it is also cheaper: on the synthetic held-out
// split of abscopal response, AUC 0.7891 against 0.7880 with golearn
// growing whole trees on a feature subset per tree, in half the time
// (bench/README.md).
//
// The probability is the mean over trees of the positive share of the
// tree's bootstrap rows in the leaf reached (soft voting, as scikit-learn's
// random forest does), not the share of trees voting positive: when the
// positive class is a minority with a diffuse signal (response rates of
// 20-40%), most leaves vote negative and the vote share hardly ranks
// patients (AUC 0.690 against 0.726 with shares, on an earlier forest of
// this package). Trees is odd all the same, so that a majority vote exists.
//
// The bagging and the feature draws are ours, not golearn's RandomForest or
// meta.BaggedModel: those draw from the global random source and cannot be
// reproduced from a seed. Inputs are quantile-binned (MaxBins values per
// feature) before golearn sees them, because golearn's CART tries every
// distinct value of a feature and its cost grows with their count.
type Forest struct {
	Trees []ForestTree  `json:"trees"`
	Opts  ForestOptions `json:"options"`

	// flat are the trees laid out for scoring, made by prepare when the
	// forest is fitted or decoded.
	flat flatTrees
}

// ForestTree is one tree: x[Feature] <= Threshold goes left; a node with
// Left -1 is a leaf. Share is the positive share of the tree's
// bootstrap rows at each node. (Forests grown whole by golearn, before the
// features were drawn per split, have shares at their leaves only: 0 at
// splits, which a split, never pure, cannot have.)
type ForestTree struct {
	Feature   []int32   `json:"feature"`
	Threshold []float64 `json:"threshold"`
	Left      []int32   `json:"left"`
	Right     []int32   `json:"right"`
	Share     []float64 `json:"share"`
}

// ForestOptions are the hyperparameters of FitForest.
type ForestOptions struct {
	Trees    int `json:"trees"`     // odd; default 101
	MaxDepth int `json:"max_depth"` // default 30: MinLeaf bounds the trees
	MaxBins  int `json:"max_bins"`  // bins per feature the splits choose among; default 32 to 128 by rows
	// SplitFeatures is how many features are drawn at each split; default
	// the square root of their count, rounded (scikit-learn's "sqrt").
	SplitFeatures int `json:"split_features"`
	// MinLeaf is the fewest bootstrap rows a leaf may hold: a node with
	// fewer than twice as many is not split, nor is a split kept that leaves
	// fewer on a side. Default 10.
	MinLeaf int    `json:"min_leaf"`
	Seed    uint64 `json:"seed"`
	// Learner chooses each split: ForestHistogram (the default), from
	// each drawn feature's histogram of the binned rows, as the GBM bins
	// them; or ForestGolearn, golearn's CART one level deep on the same
	// bins, the forest's learner before (slower by an order of magnitude,
	// and blind to MinLeaf while it searches). A bundle that records none
	// was grown by golearn.
	Learner string `json:"learner,omitempty"`
}

// Forest learners (ForestOptions.Learner).
const (
	ForestHistogram = "histogram"
	ForestGolearn   = "golearn"
)

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
		opts.MaxDepth = 30
	}
	if opts.MaxBins == 0 {
		// Finer thresholds as the rows allow: 32 bins to 25,600 rows,
		// then one per 800 rows, to 128. At 100,000 synthetic rows 128
		// bins gave a held-out AUC of 0.7263 against 0.7208 with 32
		// (bench/forest); at 10,000, 32 did as well as more.
		opts.MaxBins = min(128, max(32, d.Rows/800))
	}
	if opts.SplitFeatures == 0 {
		opts.SplitFeatures = max(1, int(math.Round(math.Sqrt(float64(d.Cols)))))
	}
	if opts.MinLeaf == 0 {
		opts.MinLeaf = 10
	}
	if opts.Learner == "" {
		opts.Learner = ForestHistogram
	}
	switch {
	case opts.Learner != ForestHistogram && opts.Learner != ForestGolearn:
		return nil, fmt.Errorf("forest: learner %q: %s or %s", opts.Learner, ForestHistogram, ForestGolearn)
	case opts.Trees < 1 || opts.Trees%2 == 0 || opts.Trees > 10001:
		return nil, fmt.Errorf("forest: trees %d must be odd, in [1, 10001]: votes must not tie", opts.Trees)
	case opts.MaxDepth < 1 || opts.MaxDepth > 30:
		return nil, fmt.Errorf("forest: max depth %d must be in [1, 30]", opts.MaxDepth)
	case opts.MaxBins < 2 || opts.MaxBins > 255:
		return nil, fmt.Errorf("forest: max bins %d must be in [2, 255]", opts.MaxBins)
	case opts.SplitFeatures < 1 || opts.SplitFeatures > d.Cols:
		return nil, fmt.Errorf("forest: split features %d must be in [1, %d features]", opts.SplitFeatures, d.Cols)
	case opts.MinLeaf < 1 || opts.MinLeaf > d.Rows:
		return nil, fmt.Errorf("forest: min leaf %d must be in [1, %d rows]", opts.MinLeaf, d.Rows)
	}
	bd := binData(d, opts.MaxBins)
	f := &Forest{Trees: make([]ForestTree, opts.Trees), Opts: opts}
	grow := func(t int) error {
		// Each tree draws its rows and features from its own stream, so
		// the trees can be grown concurrently.
		rng := rand.New(rand.NewPCG(opts.Seed, 0xf0e57<<20|uint64(t)))
		sample := make([]int, d.Rows)
		for i := range sample {
			sample[i] = rng.IntN(d.Rows)
		}
		g := treeGrower{d: d, bd: bd, rng: rng, opts: &opts}
		if _, err := g.grow(sample, 0); err != nil {
			return fmt.Errorf("forest: tree %d: %w", t+1, err)
		}
		f.Trees[t] = g.tree
		return nil
	}
	if err := parallel.For(ctx, opts.Trees, grow); err != nil {
		return nil, err
	}
	f.prepare()
	return f, nil
}

// treeGrower grows one forest tree.
type treeGrower struct {
	d    *Data
	bd   *binned
	rng  *rand.Rand
	opts *ForestOptions
	tree ForestTree
}

// grow appends the subtree of the given rows (indices into d, with their
// bootstrap repeats) at depth and returns its root, depth first.
func (g *treeGrower) grow(rows []int, depth int) (int32, error) {
	pos := 0.0
	for _, i := range rows {
		pos += g.d.Y[i]
	}
	share := pos / float64(len(rows))
	if depth >= g.opts.MaxDepth || len(rows) < 2*g.opts.MinLeaf || pos == 0 || pos == float64(len(rows)) {
		return g.tree.addLeaf(share), nil
	}
	feature, threshold, ok, err := g.split(rows)
	if err != nil || !ok {
		return g.tree.addLeaf(share), err
	}
	var left, right []int
	for _, i := range rows {
		if g.d.X[i*g.d.Cols+feature] <= threshold {
			left = append(left, i)
		} else {
			right = append(right, i)
		}
	}
	if len(left) < g.opts.MinLeaf || len(right) < g.opts.MinLeaf {
		return g.tree.addLeaf(share), nil
	}
	node := g.tree.addSplit(feature, threshold, share)
	l, err := g.grow(left, depth+1)
	if err != nil {
		return 0, err
	}
	r, err := g.grow(right, depth+1)
	if err != nil {
		return 0, err
	}
	g.tree.Left[node], g.tree.Right[node] = l, r
	return node, nil
}

// split draws the node's features and finds the best split of rows on
// them, by the options' learner; ok is false when no split lowers the Gini
// impurity.
func (g *treeGrower) split(rows []int) (feature int, threshold float64, ok bool, err error) {
	cols := g.rng.Perm(g.d.Cols)[:g.opts.SplitFeatures]
	sort.Ints(cols)
	if g.opts.Learner == ForestGolearn {
		return g.golearnSplit(rows, cols)
	}
	feature, threshold, ok = g.histogramSplit(rows, cols)
	return feature, threshold, ok, nil
}

// histogramSplit finds the split of least weighted Gini impurity among
// the drawn features' bin edges that leaves MinLeaf rows or more on each
// side: one pass over the node's rows per feature counts rows and
// positives by bin, and a scan of the bins scores each edge. Ties go to
// the first feature and the lowest edge. With two classes, least
// impurity is most sum over sides of (positives^2 + negatives^2) / rows.
func (g *treeGrower) histogramSplit(rows, cols []int) (feature int, threshold float64, ok bool) {
	d, bd, minLeaf := g.d, g.bd, float64(g.opts.MinLeaf)
	n, pos := float64(len(rows)), 0.0
	for _, i := range rows {
		pos += d.Y[i]
	}
	neg := n - pos
	best := (pos*pos + neg*neg) / n
	best += best * 1e-12 // a split must do better than rounding
	var cnt, pc [256]float64
	for _, f := range cols {
		nb := len(bd.edges[f])
		clear(cnt[:nb+1])
		clear(pc[:nb+1])
		for _, i := range rows {
			b := bd.bins[i*bd.cols+f]
			cnt[b]++
			pc[b] += d.Y[i]
		}
		var nl, pl float64
		for b := 1; b < nb; b++ {
			if cnt[b] == 0 {
				continue // the same partition as the edge before
			}
			nl += cnt[b]
			pl += pc[b]
			nr := n - nl
			if nr < minLeaf {
				break
			}
			if nl < minLeaf {
				continue
			}
			pr := pos - pl
			score := (pl*pl+(nl-pl)*(nl-pl))/nl + (pr*pr+(nr-pr)*(nr-pr))/nr
			if score > best {
				best, feature, threshold, ok = score, f, bd.edges[f][b-1], true
			}
		}
	}
	return feature, threshold, ok
}

// golearnSplit asks golearn's CART, one level deep, for the best split of
// rows on cols. golearn's node type is unexported, but its fields are not:
// reflection reads them. golearn sends x left when x < its threshold, which
// lies between bin edges, so in raw units "left" is x <= the largest edge
// below it.
func (g *treeGrower) golearnSplit(rows, cols []int) (feature int, threshold float64, ok bool, err error) {
	cart, _, err := golearnCART(g.d, g.bd, rows, cols, 1)
	if err != nil {
		return 0, 0, false, err
	}
	root := reflect.ValueOf(cart.RootNode).Elem()
	if !root.FieldByName("isNodeNeeded").Bool() {
		return 0, 0, false, nil
	}
	feature = cols[root.FieldByName("Feature").Int()]
	edges := g.bd.edges[feature]
	k := sort.SearchFloat64s(edges, root.FieldByName("Threshold").Float()) // first edge >= golearn's threshold
	threshold = math.Inf(-1)
	if k > 0 {
		threshold = edges[k-1]
	}
	return feature, threshold, true, nil
}

// golearnCART fits golearn's CART on the given rows and columns (golearn's
// feature j is column cols[j]), each value replaced by its bin's upper edge;
// it also returns the grid it was fitted on.
func golearnCART(d *Data, bd *binned, rows, cols []int, depth int) (*trees.CARTDecisionTreeClassifier, *base.DenseInstances, error) {
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
	if err := inst.Extend(len(rows)); err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 8) // Set copies the bytes: one buffer serves every cell
	for r, i := range rows {
		for j, c := range cols {
			edge := bd.edges[c][bd.bins[i*d.Cols+c]-1] // no missing values here: bins start at 1
			base.PackFloatToBytesInline(edge, buf)
			inst.Set(specs[j], r, buf)
		}
		base.PackFloatToBytesInline(d.Y[i], buf)
		inst.Set(classSpec, r, buf)
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

// addLeaf appends a leaf where share of the rows were positive.
func (t *ForestTree) addLeaf(share float64) int32 {
	t.Feature = append(t.Feature, -1)
	t.Threshold = append(t.Threshold, 0)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Share = append(t.Share, share)
	return int32(len(t.Share) - 1)
}

// addSplit appends a split node where share of the rows were positive (the
// contributions need it); its sides are set once grown.
func (t *ForestTree) addSplit(feature int, threshold, share float64) int32 {
	t.Feature = append(t.Feature, int32(feature))
	t.Threshold = append(t.Threshold, threshold)
	t.Left = append(t.Left, -1)
	t.Right = append(t.Right, -1)
	t.Share = append(t.Share, share)
	return int32(len(t.Share) - 1)
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

// Proba returns the mean leaf share of positives over the trees.
func (f *Forest) Proba(x []float64) float64 {
	s := 0.0
	for i := range f.Trees {
		t := &f.Trees[i]
		s += t.Share[t.leaf(x)]
	}
	return s / float64(len(f.Trees))
}

// prepare lays the trees out for scoring (flatTrees).
func (f *Forest) prepare() {
	trees := make([]flatTree, len(f.Trees))
	for i, t := range f.Trees {
		trees[i] = flatTree{feature: t.Feature, threshold: t.Threshold, left: t.Left, right: t.Right, out: t.Share}
	}
	f.flat = flatten(trees)
}

// scoreRows implements rowScorer.
func (f *Forest) scoreRows(X []float64, cols int, dst []float64) {
	if len(f.flat.roots) != len(f.Trees) {
		scoreEachRow(f, X, cols, dst) // not prepared: built by hand
		return
	}
	f.flat.sumRows(0, X, cols, dst)
	for i, s := range dst {
		dst[i] = f.logit(s / float64(len(f.Trees)))
	}
}

// Score implements Classifier: the log-odds of Proba, kept finite by
// bounding it to [0.5/(T+1), 1 - 0.5/(T+1)] for T trees.
func (f *Forest) Score(x []float64) float64 {
	return f.logit(f.Proba(x))
}

// logit is the log-odds of p, bounded as Score says.
func (f *Forest) logit(p float64) float64 {
	eps := 0.5 / float64(len(f.Trees)+1)
	p = math.Min(math.Max(p, eps), 1-eps)
	return math.Log(p / (1 - p))
}

// Contributions implements Classifier with the path-based attribution of
// Saabas (treeinterpreter): along the path of x in each tree,
// the change in positive share at each split is credited to the split's
// feature, and the credits are averaged over the trees, so that the mean
// root share plus the contributions is the probability, exactly. They are
// then put in log-odds by one factor, the slope of the logit between the
// mean root share (the bias) and the probability, so that they add up to the
// score exactly; like every path attribution, they depend on the order of
// the splits. Forests whose splits carry no share (grown whole by golearn)
// report none: all zero, the score as bias.
func (f *Forest) Contributions(x []float64, dst []float64) float64 {
	clear(dst)
	p, p0 := 0.0, 0.0
	for i := range f.Trees {
		t := &f.Trees[i]
		if t.Left[0] >= 0 && t.Share[0] == 0 {
			clear(dst)
			return f.Score(x)
		}
		p0 += t.Share[0]
		n := int32(0)
		for t.Left[n] >= 0 {
			next := t.Right[n]
			if x[t.Feature[n]] <= t.Threshold[n] {
				next = t.Left[n]
			}
			dst[t.Feature[n]] += t.Share[next] - t.Share[n]
			n = next
		}
		p += t.Share[n]
	}
	trees := float64(len(f.Trees))
	p, p0 = p/trees, p0/trees
	score, bias := f.logit(p), f.logit(p0)
	slope := 1 / (p0 * (1 - p0)) // the logit's derivative, when p = p0
	if p != p0 {
		slope = (score - bias) / (p - p0)
	}
	for j := range dst {
		dst[j] *= slope / trees
	}
	return bias
}

func (f *Forest) validate() error {
	if len(f.Trees)%2 == 0 {
		return fmt.Errorf("%d trees: the count must be odd", len(f.Trees))
	}
	for ti, t := range f.Trees {
		n := len(t.Share)
		if n == 0 || len(t.Feature) != n || len(t.Threshold) != n || len(t.Left) != n || len(t.Right) != n || len(t.Share) != n {
			return fmt.Errorf("tree %d: arrays of different lengths", ti)
		}
		if err := checkTree(t.Feature, t.Left, t.Right); err != nil {
			return fmt.Errorf("tree %d: %w", ti, err)
		}
		for i := 0; i < n; i++ {
			if !(t.Share[i] >= 0 && t.Share[i] <= 1) {
				return fmt.Errorf("tree %d, node %d: share %v outside [0, 1]", ti, i, t.Share[i])
			}
		}
	}
	return nil
}
