package models

// flatNode is a tree node laid out for scoring: everything a step down the
// tree reads, in 16 bytes, four to a cache line. The trees' own arrays
// (Feature, Threshold, Left, Right, one slice each) make every step four
// loads from four places; a forest of 101 deep trees is megabytes, far
// larger than a core's cache, so each of those loads missed it, and
// scoring a million patients took 90 s.
type flatNode struct {
	// value is a split's threshold (x[feat] <= value goes left) and a
	// leaf's output: the walk has just read the leaf's node, where an
	// array of outputs apart from the nodes missed the cache at the end
	// of every walk (a quarter of the forest's scoring time).
	value float64
	// feat is the split's feature, with nanLeft set when a missing value
	// goes left; it is leafFeat at a leaf.
	feat int32
	// child indexes the left child in flatTrees.nodes; the right child
	// is the node after it, so that a step picks its child by adding the
	// comparison's outcome, with no branch to mispredict on half of the
	// steps.
	child int32
}

const (
	// nanLeft, set in a split's feat, sends a missing value (NaN) left;
	// it goes right otherwise, as NaN <= threshold is false.
	nanLeft = 1 << 30
	// featMask takes the feature's index from feat.
	featMask = nanLeft - 1
	// leafFeat is a leaf's feat: negative, so that the feats of rows all
	// at leaves AND to a negative number, and feature 0, which a step
	// from a leaf reads and ignores.
	leafFeat = -1 << 31
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

// flatten lays out trees for scoring. A tree's nodes are placed depth
// first, each split's two children side by side as its left subtree is
// laid out (the left child's children come right after them), so that
// a walk down the left of a tree stays within a few cache lines.
func flatten(trees []flatTree) flatTrees {
	n := 0
	for _, t := range trees {
		n += len(t.feature)
	}
	f := flatTrees{nodes: make([]flatNode, 0, n), roots: make([]int32, len(trees))}
	type place struct{ node, at int32 } // a tree's node i, and where it goes
	var stack []place
	for ti, t := range trees {
		root := int32(len(f.nodes))
		f.roots[ti] = root
		f.nodes = append(f.nodes, flatNode{})
		stack = append(stack[:0], place{0, root})
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			i := p.node
			if t.left[i] < 0 {
				f.nodes[p.at] = flatNode{value: t.out[i], feat: leafFeat}
				continue
			}
			child := int32(len(f.nodes))
			f.nodes = append(f.nodes, flatNode{}, flatNode{})
			feat := t.feature[i]
			if t.nanLeft != nil && t.nanLeft[i] {
				feat |= nanLeft
			}
			f.nodes[p.at] = flatNode{value: t.threshold[i], feat: feat, child: child}
			// The right child is placed after the left's subtree.
			stack = append(stack, place{t.right[i], child + 1}, place{t.left[i], child})
		}
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
// Rows go down a tree four at a time, side by side, each step without a
// branch (walk4): with the leaves' outputs in their nodes, 1.7-2.5 times
// as fast for the forest as one row at a time with a branch at every
// level, and 1.6-1.9 times for the GBM (BenchmarkScoreForest,
// BenchmarkScoreGBM). Eight at a time was no faster than four. Walking a
// whole block a level at a time, each row as deep as the tree's deepest
// leaf, was slower than one at a time: 1.6 times for the forest.
func (f *flatTrees) sumRows(base float64, X []float64, cols int, dst []float64) {
	for lo := 0; lo < len(dst); lo += batchRows {
		acc := dst[lo:min(lo+batchRows, len(dst))]
		rows := X[lo*cols : (lo+len(acc))*cols]
		for i := range acc {
			acc[i] = base
		}
		for _, root := range f.roots {
			i := 0
			for ; i+4 <= len(acc); i += 4 {
				f.walk4(root, rows[i*cols:(i+4)*cols], cols, acc[i:i+4])
			}
			for ; i < len(acc); i++ {
				acc[i] += f.walk(root, rows[i*cols:(i+1)*cols])
			}
		}
	}
}

// walk returns the output of the leaf x reaches from the node root.
func (f *flatTrees) walk(root int32, x []float64) float64 {
	i := root
	for f.nodes[i].feat >= 0 {
		i = f.step(i, x)
	}
	return f.nodes[i].value
}

// walk4 adds to acc[k] the output of the leaf row k of x4 (4 rows of width
// cols) reaches from root. The four walks go down side by side: a step
// waits for its node to come from memory, and four independent steps
// wait together. A row at its leaf stays there until the others reach
// theirs.
func (f *flatTrees) walk4(root int32, x4 []float64, cols int, acc []float64) {
	x0, x1, x2, x3 := x4[:cols], x4[cols:2*cols], x4[2*cols:3*cols], x4[3*cols:4*cols]
	a, b, c, d := root, root, root, root
	for f.nodes[a].feat&f.nodes[b].feat&f.nodes[c].feat&f.nodes[d].feat >= 0 {
		a, b, c, d = f.step(a, x0), f.step(b, x1), f.step(c, x2), f.step(d, x3)
	}
	acc[0] += f.nodes[a].value
	acc[1] += f.nodes[b].value
	acc[2] += f.nodes[c].value
	acc[3] += f.nodes[d].value
}

// step returns the child of node i that x goes to; from a leaf, the leaf.
func (f *flatTrees) step(i int32, x []float64) int32 {
	nd := &f.nodes[i]
	v := x[nd.feat&featMask]
	right := v > nd.value
	if v != v { // rare: the pipeline imputes missing values
		right = nd.feat&nanLeft == 0
	}
	// leaf is all ones at a leaf and 0 otherwise: a branch here would be
	// mispredicted as each of the rows walked side by side reaches its leaf.
	leaf := nd.feat >> 31
	return (nd.child+b2i(right))&^leaf | i&leaf
}

// b2i is 1 for true and 0 for false; the compiler makes it a SETcc.
func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
