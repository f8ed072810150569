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
	// left and right index the children in flatTrees.nodes. A leaf is its
	// own left child, so that a step from a leaf stays there.
	left, right int32
	// flags are nanLeft and isLeaf.
	flags int32
}

const (
	// nanLeft sends a missing value (NaN) left; it goes right otherwise,
	// as NaN <= threshold is false.
	nanLeft = 1 << iota
	// isLeaf marks a leaf: every step from it goes "left", to itself.
	isLeaf
)

// step returns the node x goes to from n, without a branch: which way a
// patient goes is as good as random to the processor, and a mispredicted
// branch costs more than the rest of the step.
func (n *flatNode) step(x []float64) int32 {
	v := x[n.feat]
	left := b2i(v <= n.value) | b2i(v != v)&n.flags | n.flags>>1
	return n.right ^ (n.left^n.right)&-left
}

// b2i is 1 for true; the compiler makes it a SETcc, not a branch.
func b2i(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

// flatTrees are an ensemble's trees in one slice of flatNodes, each tree's
// root at roots[t] and its greatest depth at depth[t].
type flatTrees struct {
	nodes []flatNode
	roots []int32
	depth []int32
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
	f := flatTrees{nodes: make([]flatNode, n), roots: make([]int32, len(trees)), depth: make([]int32, len(trees))}
	var depth []int32
	at := int32(0)
	for ti, t := range trees {
		f.roots[ti] = at
		depth = append(depth[:0], make([]int32, len(t.feature))...)
		for i := range t.feature {
			self := at + int32(i)
			if t.left[i] < 0 {
				f.nodes[self] = flatNode{value: t.out[i], left: self, right: self, flags: isLeaf}
				f.depth[ti] = max(f.depth[ti], depth[i])
				continue
			}
			nd := flatNode{value: t.threshold[i], feat: t.feature[i], left: at + t.left[i], right: at + t.right[i]}
			if t.nanLeft != nil && t.nanLeft[i] {
				nd.flags = nanLeft
			}
			f.nodes[self] = nd
			depth[t.left[i]], depth[t.right[i]] = depth[i]+1, depth[i]+1 // children come after their parent
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
// Score adds them, to the same bits. It goes tree by tree over blocks of rows, not row
// by row over the trees, so that a tree is read from memory once for a
// block, not once for every row (scikit-learn's forests predict tree by
// tree too); and it takes the block's rows down a tree a level at a time,
// as many steps as the tree is deep, a row that reached its leaf staying
// there. The rows' steps are then independent of each other, and the
// processor overlaps them, where one row's walk waits at every level for
// the node it loads.
func (f *flatTrees) sumRows(base float64, X []float64, cols int, dst []float64) {
	var at [batchRows]int32
	for lo := 0; lo < len(dst); lo += batchRows {
		acc := dst[lo:min(lo+batchRows, len(dst))]
		rows := X[lo*cols : (lo+len(acc))*cols]
		for i := range acc {
			acc[i] = base
		}
		for t, root := range f.roots {
			pos := at[:len(acc)]
			for i := range pos {
				pos[i] = root
			}
			for range f.depth[t] {
				for i, n := range pos {
					pos[i] = f.nodes[n].step(rows[i*cols : (i+1)*cols])
				}
			}
			for i, n := range pos {
				acc[i] += f.nodes[n].value
			}
		}
	}
}
