package models

// flatNode is a tree node laid out for scoring: everything a step down the
// tree reads, in 24 bytes. The trees' own arrays (Feature, Threshold, Left,
// Right, one slice each) make every step four loads from four places; a
// forest of 101 deep trees is megabytes, far larger than a core's cache, so
// each of those loads missed it, and scoring a million patients took 90 s.
type flatNode struct {
	// value is a split's threshold (x[feat] <= value goes left) and a
	// leaf's output.
	value float64
	// feat is the split's feature (0 at a leaf).
	feat int32
	// left and right index the children in flatTrees.nodes.
	left, right int32
	// flags are nanLeft and isLeaf.
	flags int32
}

const (
	// nanLeft sends a missing value (NaN) left; it goes right otherwise,
	// as NaN <= threshold is false.
	nanLeft = 1 << iota
	// isLeaf marks a leaf.
	isLeaf
)

// flatTrees are an ensemble's trees in one slice of flatNodes, each tree's
// root at roots[t].
type flatTrees struct {
	nodes []flatNode
	roots []int32
}

// flatTree is one tree's arrays, as the GBM and the forest keep them
// (nanLeft nil: a missing value goes right). checkTree has checked them.
type flatTree struct {
	feature     []int32
	threshold   []float64
	left, right []int32
	out         []float64 // a leaf's output
	nanLeft     []bool
}

// flatten lays out trees for scoring, each tree's nodes in their order.
func flatten(trees []flatTree) flatTrees {
	n := 0
	for _, t := range trees {
		n += len(t.feature)
	}
	f := flatTrees{nodes: make([]flatNode, n), roots: make([]int32, len(trees))}
	at := int32(0)
	for ti, t := range trees {
		f.roots[ti] = at
		for i := range t.feature {
			nd := flatNode{value: t.out[i], flags: isLeaf}
			if t.left[i] >= 0 {
				nd = flatNode{value: t.threshold[i], feat: t.feature[i], left: at + t.left[i], right: at + t.right[i]}
				if t.nanLeft != nil && t.nanLeft[i] {
					nd.flags = nanLeft
				}
			}
			f.nodes[at+int32(i)] = nd
		}
		at += int32(len(t.feature))
	}
	return f
}

// batchRows is how many rows sumRows sends down one tree before the next:
// 256 rows of 30 features are 60 KB, which stay in a core's cache beside
// the tree while the rows go down it.
const batchRows = 256

// sumRows sets dst[i] to base plus the outputs of the leaves row i of X
// (rows of width cols) reaches, added in tree order as the trees' own
// Score adds them, to the same bits. It goes tree by tree over blocks of
// rows, not row by row over the trees, so that a tree is read from memory
// once for a block, not once for every row (scikit-learn's forests predict
// tree by tree too).
//
// A walk down a tree branches at every level. Walking the block's rows a
// level at a time without a branch, each row as deep as the tree's deepest
// leaf, was slower: 1.6 times for the forest, 1.2 times for the GBM
// (BenchmarkScoreForest, BenchmarkScoreGBM).
func (f *flatTrees) sumRows(base float64, X []float64, cols int, dst []float64) {
	for lo := 0; lo < len(dst); lo += batchRows {
		acc := dst[lo:min(lo+batchRows, len(dst))]
		rows := X[lo*cols : (lo+len(acc))*cols]
		for i := range acc {
			acc[i] = base
		}
		for _, root := range f.roots {
			for i := range acc {
				acc[i] += f.walk(root, rows[i*cols:(i+1)*cols])
			}
		}
	}
}

// walk returns the output of the leaf x reaches from the node root.
func (f *flatTrees) walk(root int32, x []float64) float64 {
	nd := &f.nodes[root]
	for nd.flags&isLeaf == 0 {
		v := x[nd.feat]
		if v <= nd.value || nd.flags&nanLeft != 0 && v != v {
			nd = &f.nodes[nd.left]
		} else {
			nd = &f.nodes[nd.right]
		}
	}
	return nd.value
}
