package models

// TreeSHAP: the SHAP values of a tree's prediction, exactly, in time
// polynomial in its depth (Lundberg, Erion and Lee, "Consistent
// individualized feature attribution for tree ensembles", 2018, Algorithm 2;
// Lundberg et al., Nat Mach Intell 2020). A feature left out of a coalition
// follows both branches of a split in proportion to the training rows that
// went each way (the "path-dependent" conditional expectation, as xgboost's
// pred_contribs). Written here: no Go library computes it.

// pathElement is one split feature on the path from the root, with the
// shares of the coalitions that leave it out (zero) and keep it (one) that
// go the path's way, and the permutation weight of the coalitions so far.
type pathElement struct {
	feature   int32
	zero, one float64
	weight    float64
}

// shapPathLen is the room TreeSHAP's recursion needs for a tree of the given
// depth: each level copies its path, one element longer than its parent's.
func shapPathLen(depth int) int { return (depth + 2) * (depth + 3) / 2 }

// depth returns the depth of the subtree at node n (0: a leaf).
func (t *GBMTree) depth(n int32) int {
	if t.Left[n] < 0 {
		return 0
	}
	return 1 + max(t.depth(t.Left[n]), t.depth(t.Right[n]))
}

// shap adds to phi the SHAP values of t for the input that goes left at
// the nodes where goLeft is true, and returns t's expected value (the
// cover-weighted mean of its leaves): that plus the values added is t's
// prediction. path must hold shapPathLen of t's depth.
func (t *GBMTree) shap(goLeft []bool, phi []float64, path []pathElement) float64 {
	t.shapRecurse(goLeft, phi, 0, path, 0, 1, 1, -1)
	return t.expected()
}

// expected returns the cover-weighted mean of t's leaves.
func (t *GBMTree) expected() float64 {
	var e float64
	for n, l := range t.Left {
		if l < 0 {
			e += t.Cover[n] / t.Cover[0] * t.Value[n]
		}
	}
	return e
}

// decide sets goLeft[n], for each inner node n of t, to whether x goes left
// there.
func (t *GBMTree) decide(x []float64, goLeft []bool) {
	for n, l := range t.Left {
		if l >= 0 {
			goLeft[n] = t.goesLeft(int32(n), x)
		}
	}
}

// shapRecurse follows node with the path of its parent (parent[:depth],
// element 0 being the root's placeholder), extended by the split that led
// here: zero and one are the shares of the coalitions without and with
// feature that come this way.
func (t *GBMTree) shapRecurse(goLeft []bool, phi []float64, node int32, parent []pathElement, depth int, zero, one float64, feature int32) {
	path := parent[depth+1:]
	copy(path[:depth+1], parent[:depth+1])
	extendPath(path, depth, zero, one, feature)
	if t.Left[node] < 0 {
		for i := 1; i <= depth; i++ {
			e := path[i]
			phi[e.feature] += unwoundPathSum(path, depth, i) * (e.one - e.zero) * t.Value[node]
		}
		return
	}
	f := t.Feature[node]
	hot, cold := t.Right[node], t.Left[node]
	if goLeft[node] {
		hot, cold = cold, hot
	}
	inZero, inOne := 1.0, 1.0
	// A feature split on again above: undo its element, so that it is
	// counted once, with the shares of both splits.
	for k := 1; k <= depth; k++ {
		if path[k].feature == f {
			inZero, inOne = path[k].zero, path[k].one
			unwindPath(path, depth, k)
			depth--
			break
		}
	}
	c := t.Cover[node]
	t.shapRecurse(goLeft, phi, hot, path, depth+1, t.Cover[hot]/c*inZero, inOne, f)
	t.shapRecurse(goLeft, phi, cold, path, depth+1, t.Cover[cold]/c*inZero, 0, f)
}

// maxTableNodes bounds the inner nodes of a tree whose SHAP values are
// tabled: 2^7 patterns (a tree of depth 3) of at most 7 features each.
const maxTableNodes = 7

// shapTable holds a shallow tree's SHAP values for every pattern of its
// inner nodes' decisions, so that a prediction's are a lookup: the values
// depend on the input only through those decisions (Yang, "Fast TreeSHAP",
// 2021, precomputes by leaf in the same spirit). Bit k of a pattern is
// whether the input goes left at nodes[k]; phi holds, per pattern, one
// value per entry of feats.
type shapTable struct {
	nodes    []int32
	feats    []int32
	phi      []float64
	expected float64
}

// table builds t's shapTable, or returns nil for a tree of more than
// maxTableNodes inner nodes.
func (t *GBMTree) table() *shapTable {
	tb := &shapTable{expected: t.expected()}
	slot := map[int32]int{}
	var maxFeature int32
	for n, l := range t.Left {
		if l < 0 {
			continue
		}
		tb.nodes = append(tb.nodes, int32(n))
		f := t.Feature[n]
		if _, ok := slot[f]; !ok {
			slot[f] = len(tb.feats)
			tb.feats = append(tb.feats, f)
		}
		maxFeature = max(maxFeature, f)
	}
	if len(tb.nodes) > maxTableNodes {
		return nil
	}
	goLeft := make([]bool, len(t.Left))
	phi := make([]float64, maxFeature+1)
	path := make([]pathElement, shapPathLen(t.depth(0)))
	tb.phi = make([]float64, 0, len(tb.feats)<<len(tb.nodes))
	for pattern := 0; pattern < 1<<len(tb.nodes); pattern++ {
		for k, n := range tb.nodes {
			goLeft[n] = pattern&(1<<k) != 0
		}
		clear(phi)
		t.shapRecurse(goLeft, phi, 0, path, 0, 1, 1, -1)
		for _, f := range tb.feats {
			tb.phi = append(tb.phi, phi[f])
		}
	}
	return tb
}

// add adds the tree's SHAP values at x to dst and returns its expected
// value.
func (tb *shapTable) add(t *GBMTree, x, dst []float64) float64 {
	pattern := 0
	for k, n := range tb.nodes {
		if t.goesLeft(n, x) {
			pattern |= 1 << k
		}
	}
	row := tb.phi[pattern*len(tb.feats) : (pattern+1)*len(tb.feats)]
	for j, f := range tb.feats {
		dst[f] += row[j]
	}
	return tb.expected
}

// extendPath adds the element (feature, zero, one) at path[depth] and
// updates the permutation weights.
func extendPath(path []pathElement, depth int, zero, one float64, feature int32) {
	w := 0.0
	if depth == 0 {
		w = 1
	}
	path[depth] = pathElement{feature: feature, zero: zero, one: one, weight: w}
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		path[i+1].weight += one * path[i].weight * float64(i+1) / d
		path[i].weight = zero * path[i].weight * float64(depth-i) / d
	}
}

// unwindPath undoes extendPath for the element at k, removing it.
func unwindPath(path []pathElement, depth, k int) {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	for i := depth - 1; i >= 0; i-- {
		if one != 0 {
			w := path[i].weight
			path[i].weight = next * d / (float64(i+1) * one)
			next = w - path[i].weight*zero*float64(depth-i)/d
		} else {
			path[i].weight = path[i].weight * d / (zero * float64(depth-i))
		}
	}
	for i := k; i < depth; i++ {
		path[i].feature, path[i].zero, path[i].one = path[i+1].feature, path[i+1].zero, path[i+1].one
	}
}

// unwoundPathSum is the total permutation weight of the path with the
// element at k removed, without removing it.
func unwoundPathSum(path []pathElement, depth, k int) float64 {
	one, zero := path[k].one, path[k].zero
	next := path[depth].weight
	d := float64(depth + 1)
	var total float64
	for i := depth - 1; i >= 0; i-- {
		switch {
		case one != 0:
			w := next * d / (float64(i+1) * one)
			total += w
			next = path[i].weight - w*zero*float64(depth-i)/d
		case zero != 0:
			total += path[i].weight / zero * d / float64(depth-i)
		}
	}
	return total
}
