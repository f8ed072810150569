package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// condExpect is E[f(x) | x_S] by the tree's covers: a split on a feature of
// S follows x; any other split averages both branches, weighted by the rows
// that went each way (Lundberg, Erion and Lee 2018, Algorithm 1).
func condExpect(t *GBMTree, x []float64, in map[int32]bool, n int32) float64 {
	if t.Left[n] < 0 {
		return t.Value[n]
	}
	l, r := t.Left[n], t.Right[n]
	if in[t.Feature[n]] {
		if t.goesLeft(n, x) {
			return condExpect(t, x, in, l)
		}
		return condExpect(t, x, in, r)
	}
	return (t.Cover[l]*condExpect(t, x, in, l) + t.Cover[r]*condExpect(t, x, in, r)) / t.Cover[n]
}

// bruteSHAP is the Shapley value by its definition, over every coalition of
// the M features the tree splits on: phi_i = sum over S not holding i of
// |S|! (M-|S|-1)! / M! (v(S + i) - v(S)), with v the conditional
// expectation above.
func bruteSHAP(t *GBMTree, x []float64, cols int) []float64 {
	var feats []int32
	seen := map[int32]bool{}
	for n, l := range t.Left {
		if l >= 0 && !seen[t.Feature[n]] {
			seen[t.Feature[n]] = true
			feats = append(feats, t.Feature[n])
		}
	}
	m := len(feats)
	fact := func(k int) float64 { return math.Gamma(float64(k + 1)) }
	phi := make([]float64, cols)
	for i, fi := range feats {
		for mask := 0; mask < 1<<m; mask++ {
			if mask&(1<<i) != 0 {
				continue
			}
			in := map[int32]bool{}
			size := 0
			for j, fj := range feats {
				if mask&(1<<j) != 0 {
					in[fj] = true
					size++
				}
			}
			without := condExpect(t, x, in, 0)
			in[fi] = true
			with := condExpect(t, x, in, 0)
			phi[fi] += fact(size) * fact(m-size-1) / fact(m) * (with - without)
		}
	}
	return phi
}

// TestTreeSHAPByHand: a stump on feature 0 whose left leaf (3 rows) is 1 and
// right leaf (1 row) is -2: the expected value is (3 - 2)/4 = 0.25, and x on
// the left gets 1 - 0.25 = 0.75 for feature 0, on the right -2.25; a tree
// that splits on feature 0 twice credits feature 0 alone.
func TestTreeSHAPByHand(t *testing.T) {
	stump := GBMTree{Feature: []int32{0, -1, -1}, Threshold: []float64{0.5, 0, 0}, DefaultLeft: []bool{false, false, false},
		Left: []int32{1, -1, -1}, Right: []int32{2, -1, -1}, Value: []float64{0, 1, -2}, Cover: []float64{4, 3, 1}}
	path := make([]pathElement, shapPathLen(stump.depth(0)))
	for _, tt := range []struct{ x, want float64 }{{0, 0.75}, {1, -2.25}} {
		phi := make([]float64, 2)
		if e := shapAt(&stump, []float64{tt.x, 7}, phi, path); e != 0.25 || phi[0] != tt.want || phi[1] != 0 {
			t.Errorf("x0 = %v: expected value %v, phi %v; want 0.25, [%v 0]", tt.x, e, phi, tt.want)
		}
	}
	// Feature 0 at the root (<= 0.5) and again on the right (<= 2): leaves
	// 1 (2 rows), 3 (1 row), 5 (1 row); expected value (2 + 3 + 5)/4 = 2.5.
	twice := GBMTree{Feature: []int32{0, -1, 0, -1, -1}, Threshold: []float64{0.5, 0, 2, 0, 0}, DefaultLeft: make([]bool, 5),
		Left: []int32{1, -1, 3, -1, -1}, Right: []int32{2, -1, 4, -1, -1}, Value: []float64{0, 1, 0, 3, 5}, Cover: []float64{4, 2, 2, 1, 1}}
	phi := make([]float64, 2)
	if e := shapAt(&twice, []float64{3, 0}, phi, make([]pathElement, shapPathLen(twice.depth(0)))); e != 2.5 || phi[0] != 2.5 || phi[1] != 0 {
		t.Errorf("a feature split twice: expected value %v, phi %v; want 2.5, [2.5 0]", e, phi)
	}
}

// shapAt is the recursive TreeSHAP of t at x.
func shapAt(t *GBMTree, x, phi []float64, path []pathElement) float64 {
	goLeft := make([]bool, len(t.Left))
	t.decide(x, goLeft)
	return t.shap(goLeft, phi, path)
}

// TestTreeSHAPIsShapley checks TreeSHAP against the Shapley values by their
// definition, tree by tree, both the recursion and the tables of shallow
// trees, on GBMs of depth 3 (tabled) and 4 (mostly not; features split on
// again along a path, missing values routed), and the model's contributions
// against the sum over trees.
func TestTreeSHAPIsShapley(t *testing.T) {
	d := benchData(2000, 9, true)
	for _, depth := range []int{3, 4} {
		m, err := FitGBM(t.Context(), d, GBMOptions{Trees: 15, MaxDepth: depth, LearningRate: 0.3, Lambda: 1, MinChildWeight: 1, Subsample: 0.8, ColSample: 1, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(5, 6))
		contrib := make([]float64, d.Cols)
		missing, tabled := 0, 0
		for k := 0; k < 60; k++ {
			i := r.IntN(d.Rows)
			if k < 10 { // rows with a missing value first
				for !math.IsNaN(d.Row(i)[8]) {
					i = r.IntN(d.Rows)
				}
				missing++
			}
			x := d.Row(i)
			sum := make([]float64, d.Cols)
			bias := m.Base
			for ti := range m.Trees {
				tr := &m.Trees[ti]
				phi := make([]float64, d.Cols)
				bias += shapAt(tr, x, phi, make([]pathElement, shapPathLen(tr.depth(0))))
				want := bruteSHAP(tr, x, d.Cols)
				var fromTable []float64
				if tb := m.tables[ti]; tb != nil {
					tabled++
					fromTable = make([]float64, d.Cols)
					if e := tb.add(tr, x, fromTable); math.Abs(e-tr.expected()) > 1e-15 {
						t.Fatalf("tree %d: table's expected value %v, tree's %v", ti, e, tr.expected())
					}
				}
				for j := range phi {
					if math.Abs(phi[j]-want[j]) > 1e-12 || fromTable != nil && math.Abs(fromTable[j]-want[j]) > 1e-12 {
						t.Fatalf("depth %d, row %d, tree %d, feature %d: TreeSHAP %v, table %v, by definition %v", depth, i, ti, j, phi[j], fromTable, want[j])
					}
					sum[j] += phi[j]
				}
			}
			b := m.Contributions(x, contrib)
			total := b
			for j := range contrib {
				total += contrib[j]
				if math.Abs(contrib[j]-sum[j]) > 1e-12 {
					t.Fatalf("depth %d, row %d, feature %d: Contributions %v, sum over trees %v", depth, i, j, contrib[j], sum[j])
				}
			}
			if math.Abs(b-bias) > 1e-12 || math.Abs(total-m.Score(x)) > 1e-12 {
				t.Fatalf("depth %d, row %d: bias %v (want %v), bias + contributions %v, score %v", depth, i, b, bias, total, m.Score(x))
			}
		}
		// The cases the recursion treats apart were met: a feature split on
		// again below itself, and missing values; and the tables were used.
		if !splitsTwice(m) || missing == 0 || depth == 3 && tabled == 0 {
			t.Errorf("depth %d: a feature split twice on a path: %v; rows with a missing value: %d; tabled trees met %d", depth, splitsTwice(m), missing, tabled)
		}
	}
}

// splitsTwice reports whether some tree of m splits on a feature below a
// split on the same feature.
func splitsTwice(m *GBM) bool {
	for ti := range m.Trees {
		t := &m.Trees[ti]
		var walk func(n int32, above map[int32]bool) bool
		walk = func(n int32, above map[int32]bool) bool {
			if t.Left[n] < 0 {
				return false
			}
			f := t.Feature[n]
			if above[f] {
				return true
			}
			above[f] = true
			defer delete(above, f)
			return walk(t.Left[n], above) || walk(t.Right[n], above)
		}
		if walk(0, map[int32]bool{}) {
			return true
		}
	}
	return false
}

// TestGBMWithoutCover: a bundle made before covers were recorded gets path
// attributions, still exact in sum; covers in some trees only, or not
// adding up, are refused when decoded.
func TestGBMWithoutCover(t *testing.T) {
	d := benchData(500, 8, false)
	m, err := FitGBM(t.Context(), d, GBMOptions{Trees: 5, MaxDepth: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.validate(); err != nil {
		t.Fatal(err)
	}
	old := *m
	old.Trees = make([]GBMTree, len(m.Trees))
	for i, tr := range m.Trees {
		tr.Cover = nil
		old.Trees[i] = tr
	}
	x, dst := d.Row(0), make([]float64, d.Cols)
	b := old.Contributions(x, dst)
	for _, c := range dst {
		b += c
	}
	if math.Abs(b-old.Score(x)) > 1e-12 || old.Trees[0].Value[0] == 0 {
		t.Errorf("path attributions: bias + contributions %v, score %v", b, old.Score(x))
	}
	mixed := old
	mixed.Trees = append([]GBMTree{m.Trees[0]}, old.Trees[1:]...)
	if err := mixed.validate(); err == nil {
		t.Error("covers in the first tree only were accepted")
	}
	bad := *m
	bad.Trees = append([]GBMTree(nil), m.Trees...)
	bad.Trees[0].Cover = append([]float64(nil), m.Trees[0].Cover...)
	bad.Trees[0].Cover[0]++
	if err := bad.validate(); err == nil {
		t.Error("a root cover that is not its children's sum was accepted")
	}
}
