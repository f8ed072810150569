package models

import (
	"slices"

	"github.com/abscopal/abscopal/features"
)

// InputReport counts, for one feature over the rows a model scored, the
// values the pipeline had to fill in (imputed), did not recognise (a level
// never seen in training) or found outside the training range: a file
// coded otherwise than the training data ("Male" for "male", a unit of its
// own) shows here before it shows in the metrics.
type InputReport struct {
	Feature    string `json:"feature"`
	Imputed    int    `json:"imputed"`
	Unseen     int    `json:"unseen"`
	OutOfRange int    `json:"out_of_range"`
	// UnseenLevels are the first distinct levels never seen in training
	// (at most maxUnseenLevels).
	UnseenLevels []string `json:"unseen_levels,omitempty"`
}

// maxUnseenLevels bounds InputReport.UnseenLevels: enough to recognise a
// coding, never a column of free text.
const maxUnseenLevels = 5

// InputTally accumulates the notes of scored rows into InputReports. The
// zero value is ready to use; it is not safe for concurrent use.
type InputTally struct {
	byFeature map[string]*InputReport
}

// Add counts one row's notes.
func (t *InputTally) Add(n *features.Notes) {
	for _, f := range n.Imputed {
		t.report(f).Imputed++
	}
	for _, u := range n.Unseen {
		r := t.report(u.Feature)
		r.Unseen++
		if len(r.UnseenLevels) < maxUnseenLevels && !slices.Contains(r.UnseenLevels, u.Value) {
			r.UnseenLevels = append(r.UnseenLevels, u.Value)
		}
	}
	for _, o := range n.OutOfRange {
		t.report(o.Feature).OutOfRange++
	}
}

// Merge adds o's counts to t's, as though t had counted o's rows after its
// own: a level o saw is kept after t's, while fewer than maxUnseenLevels.
func (t *InputTally) Merge(o *InputTally) {
	// Features are merged in any order: only a feature's own levels have
	// an order, its rows'.
	for f, or := range o.byFeature {
		r := t.report(f)
		r.Imputed += or.Imputed
		r.Unseen += or.Unseen
		r.OutOfRange += or.OutOfRange
		for _, v := range or.UnseenLevels {
			if len(r.UnseenLevels) < maxUnseenLevels && !slices.Contains(r.UnseenLevels, v) {
				r.UnseenLevels = append(r.UnseenLevels, v)
			}
		}
	}
}

// Reset empties t, keeping its space.
func (t *InputTally) Reset() {
	clear(t.byFeature)
}

func (t *InputTally) report(feature string) *InputReport {
	r := t.byFeature[feature]
	if r == nil {
		if t.byFeature == nil {
			t.byFeature = map[string]*InputReport{}
		}
		r = &InputReport{Feature: feature}
		t.byFeature[feature] = r
	}
	return r
}

// Reports returns the features with any note, in the order of features
// (the pipeline's, Pipeline.OutputGroups).
func (t *InputTally) Reports(features []string) []InputReport {
	out := make([]InputReport, 0, len(t.byFeature))
	for _, f := range features {
		if r := t.byFeature[f]; r != nil {
			out = append(out, *r)
		}
	}
	return out
}
