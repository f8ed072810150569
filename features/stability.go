package features

import (
	"cmp"
	"math"
	"slices"
)

// Shift is one feature's case mix in a file against the training rows'.
type Shift struct {
	Feature string `json:"feature"`
	// PSI is the population stability index over the feature's bins (its
	// levels, or its training deciles), a bin for missing values and, for
	// a categorical feature, one for levels never seen in training: the
	// sum of (file share - training share) x ln(file share / training
	// share), each share at least 1e-4.
	PSI float64 `json:"psi"`
	// Missing and TrainingMissing are the shares of rows lacking the value.
	Missing         float64 `json:"missing"`
	TrainingMissing float64 `json:"training_missing"`
}

// The PSI's customary thresholds (Siddiqi, Credit Risk Scorecards, 2006):
// under ShiftModerate the distribution has not moved; from ShiftMajor on it
// has moved a lot.
const (
	ShiftModerate = 0.1
	ShiftMajor    = 0.25
)

// minShare stands in for an empty bin's share: the PSI's log needs one.
const minShare = 1e-4

// Stability tallies a file's values of each feature into the pipeline's
// training bins (Fitted.Bins and Shares). It is not safe for concurrent
// use.
type Stability struct {
	p      *Pipeline
	counts [][]float64 // per feature: its bins, then unseen levels, then missing
	rows   int
}

// NewStability starts a tally of records against the training rows.
func (p *Pipeline) NewStability() *Stability {
	s := &Stability{p: p, counts: make([][]float64, len(p.Features))}
	for i := range p.Features {
		if sh := p.Features[i].Shares; len(sh) > 0 { // none in bundles made before profiles
			s.counts[i] = make([]float64, len(sh)+2)
		}
	}
	return s
}

// Add counts one record's values.
func (s *Stability) Add(r Record) {
	bins := make([]int, len(s.p.Features))
	rw := readRow(r)
	for i := range s.p.Features {
		v, _ := s.p.Features[i].raw(rw)
		bins[i] = s.p.Features[i].bin(v)
	}
	s.AddBins(bins)
}

// AddBins counts one record by the bins Transform noted for it
// (Notes.Profile), which spares computing its values again.
func (s *Stability) AddBins(bins []int) {
	s.rows++
	for i, b := range bins {
		if b >= 0 && s.counts[i] != nil {
			s.counts[i][b]++
		}
	}
}

// Merge adds o's counts, of records against the same pipeline, to s's.
func (s *Stability) Merge(o *Stability) {
	s.rows += o.rows
	for i, c := range o.counts {
		for b, n := range c {
			s.counts[i][b] += n
		}
	}
}

// Reset empties s.
func (s *Stability) Reset() {
	s.rows = 0
	for _, c := range s.counts {
		clear(c)
	}
}

// Shifts returns each profiled feature's shift, the largest PSI first
// (nil before any record).
func (s *Stability) Shifts() []Shift {
	if s.rows == 0 {
		return nil
	}
	var out []Shift
	for i, c := range s.counts {
		if c == nil {
			continue
		}
		f := &s.p.Features[i]
		trainMissing := float64(f.Missing) / float64(max(1, s.p.TrainingRows))
		expected := make([]float64, len(c))
		for k, sh := range f.Shares {
			expected[k] = sh * (1 - trainMissing)
		}
		expected[len(c)-1] = trainMissing // unseen levels: 0 in training
		sh := Shift{Feature: f.Name, TrainingMissing: trainMissing, Missing: c[len(c)-1] / float64(s.rows)}
		for k, n := range c {
			a, e := math.Max(n/float64(s.rows), minShare), math.Max(expected[k], minShare)
			sh.PSI += (a - e) * math.Log(a/e)
		}
		out = append(out, sh)
	}
	slices.SortStableFunc(out, func(a, b Shift) int { return cmp.Compare(b.PSI, a.PSI) })
	return out
}
