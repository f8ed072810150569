package stats

import (
	"reflect"
	"testing"
)

// TestGroupedStratifiedFolds: copies of a row (a group) share a fold, the
// folds are stratified over the groups, and without groups they are
// StratifiedFolds'.
func TestGroupedStratifiedFolds(t *testing.T) {
	n := 1000
	y, groups := make([]float64, n), make([]int32, n)
	for i := range n {
		groups[i] = int32((i * 7919) % 400) // 400 patients, 2 or 3 copies each
		if groups[i]%4 == 0 {
			y[i] = 1
		}
	}
	fold := GroupedStratifiedFolds(y, groups, 5, 11)
	of := map[int32]int{}
	var pos, size [5]int
	for i, g := range groups {
		if f, ok := of[g]; ok && f != fold[i] {
			t.Fatalf("group %d in folds %d and %d", g, f, fold[i])
		}
		of[g] = fold[i]
	}
	for g, f := range of {
		size[f]++
		if g%4 == 0 {
			pos[f]++
		}
	}
	for f := range 5 {
		if size[f] != 80 || pos[f] != 20 { // 400 patients, 100 positive, in 5 folds
			t.Errorf("fold %d: %d patients, %d positive; want 80 and 20", f, size[f], pos[f])
		}
	}
	if !reflect.DeepEqual(GroupedStratifiedFolds(y, nil, 5, 11), StratifiedFolds(y, 5, 11)) {
		t.Error("without groups, not StratifiedFolds")
	}
}
