package models

import (
	"reflect"
	"strconv"
	"testing"

	"github.com/abscopal/abscopal/features"
)

// TestInputTally: notes counted by feature, in the features' order, with
// the first five distinct unseen levels.
func TestInputTally(t *testing.T) {
	var tally InputTally
	if got := tally.Reports([]string{"a"}); len(got) != 0 {
		t.Errorf("an empty tally reports %v", got)
	}
	tally.Add(&features.Notes{Imputed: []string{"alc"}, OutOfRange: []features.OutOfRange{{Feature: "tmb", Value: 900}}})
	for i := range 7 {
		level := "L" + strconv.Itoa(i%6)
		tally.Add(&features.Notes{Imputed: []string{"alc"}, Unseen: []features.Unseen{{Feature: "sex", Value: level}}})
	}
	want := []InputReport{
		{Feature: "sex", Unseen: 7, UnseenLevels: []string{"L0", "L1", "L2", "L3", "L4"}},
		{Feature: "alc", Imputed: 8},
		{Feature: "tmb", OutOfRange: 1},
	}
	if got := tally.Reports([]string{"sex", "age", "alc", "tmb"}); !reflect.DeepEqual(got, want) {
		t.Errorf("reports %+v\nwant %+v", got, want)
	}
}

// TestInputTallyMerge: tallies of consecutive runs of rows, merged in
// order, report what one tally of all the rows does, the first five
// distinct unseen levels among them in row order; after Reset a tally is
// empty.
func TestInputTallyMerge(t *testing.T) {
	notes := func(i int) *features.Notes {
		n := &features.Notes{Unseen: []features.Unseen{{Feature: "sex", Value: "L" + strconv.Itoa(i*7%9)}}}
		if i%3 == 0 {
			n.Imputed = []string{"alc"}
		}
		if i%4 == 0 {
			n.OutOfRange = []features.OutOfRange{{Feature: "tmb", Value: 900}}
		}
		return n
	}
	names := []string{"sex", "alc", "tmb"}
	for _, cuts := range [][]int{{0, 20}, {0, 2, 20}, {0, 1, 3, 4, 20}, {0, 0, 10, 20}} {
		var one, merged InputTally
		for i := range 20 {
			one.Add(notes(i))
		}
		for k := 1; k < len(cuts); k++ {
			var part InputTally
			for i := cuts[k-1]; i < cuts[k]; i++ {
				part.Add(notes(i))
			}
			merged.Merge(&part)
			part.Reset()
			if got := part.Reports(names); len(got) != 0 {
				t.Fatalf("after Reset: %v", got)
			}
		}
		if got, want := merged.Reports(names), one.Reports(names); !reflect.DeepEqual(got, want) {
			t.Errorf("cut at %v: merged %+v\none tally %+v", cuts, got, want)
		}
	}
}
