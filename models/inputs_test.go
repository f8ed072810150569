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
