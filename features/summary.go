package features

import (
	"cmp"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/stat"
)

// Summary describes one feature's values in a set of rows, before
// transforms: a table of the rows' characteristics (a paper's "table 1").
type Summary struct {
	Feature string `json:"feature"`
	Kind    Kind   `json:"kind"`
	Rows    int    `json:"rows"`
	Missing int    `json:"missing"`
	// Quartiles (25th, 50th and 75th percentiles: gonum's stat.Quantile,
	// linear interpolation of the empirical CDF), Min and Max describe a
	// numeric feature's values.
	Quartiles []float64 `json:"quartiles,omitempty"`
	Min       float64   `json:"min,omitempty"`
	Max       float64   `json:"max,omitempty"`
	// Levels count a categorical or boolean feature's values ("true",
	// "false"), commonest first.
	Levels []LevelCount `json:"levels,omitempty"`
}

// LevelCount is the number of rows with one level of a feature.
type LevelCount struct {
	Level string `json:"level"`
	N     int    `json:"n"`
}

// Summarize describes every feature of the pipeline over records; nil for
// no record.
func (p *Pipeline) Summarize(records []Record) []Summary {
	if len(records) == 0 {
		return nil
	}
	out := make([]Summary, len(p.Features))
	for i := range p.Features {
		f := &p.Features[i]
		s := Summary{Feature: f.Name, Kind: f.Kind, Rows: len(records)}
		var nums []float64
		counts := map[string]int{}
		for _, r := range records {
			v, untransformed := f.raw(f.rowOf(r))
			switch {
			case !v.Valid:
				s.Missing++
			case f.Kind == Numeric:
				nums = append(nums, untransformed)
			case f.Kind == Boolean:
				counts[strconv.FormatBool(v.Bool)]++
			default:
				counts[v.Str]++
			}
		}
		if len(nums) > 0 {
			sort.Float64s(nums)
			s.Min, s.Max = nums[0], nums[len(nums)-1]
			for _, q := range []float64{0.25, 0.5, 0.75} {
				s.Quartiles = append(s.Quartiles, stat.Quantile(q, stat.LinInterp, nums, nil))
			}
		}
		for l, n := range counts {
			s.Levels = append(s.Levels, LevelCount{Level: l, N: n})
		}
		slices.SortFunc(s.Levels, func(a, b LevelCount) int {
			if c := cmp.Compare(b.N, a.N); c != 0 {
				return c
			}
			return cmp.Compare(a.Level, b.Level)
		})
		out[i] = s
	}
	return out
}
