package stats

import "math/rand/v2"

// GroupedStratifiedFolds is StratifiedFolds over groups of rows (nil: each
// row its own): every row lands in its group's fold, and the groups are
// stratified by the label of their first row (a bootstrap sample's copies
// of a patient share theirs).
func GroupedStratifiedFolds(y []float64, groups []int32, k int, seed uint64) []int {
	if groups == nil {
		return StratifiedFolds(y, k, seed)
	}
	first := map[int32]int{} // group -> its index among the groups
	var gy []float64
	for i, g := range groups {
		if _, ok := first[g]; !ok {
			first[g] = len(gy)
			gy = append(gy, y[i])
		}
	}
	gf := StratifiedFolds(gy, k, seed)
	fold := make([]int, len(y))
	for i, g := range groups {
		fold[i] = gf[first[g]]
	}
	return fold
}

// StratifiedFolds assigns each row a fold so that every fold has the same
// share of positives (to within one row), in a seeded random order. train uses
// it; benchmarks use it to give peers the same folds.
func StratifiedFolds(y []float64, k int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	fold := make([]int, len(y))
	for _, class := range []float64{0, 1} {
		var idx []int
		for i, v := range y {
			if v == class {
				idx = append(idx, i)
			}
		}
		rng.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		for j, i := range idx {
			fold[i] = j % k
		}
	}
	return fold
}

// SplitFold returns the rows outside fold k (its training rows) and inside
// it (its test rows), each in ascending order.
func SplitFold(fold []int, k int) (train, test []int) {
	for i, f := range fold {
		if f == k {
			test = append(test, i)
		} else {
			train = append(train, i)
		}
	}
	return train, test
}
