package features

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
)

// PipelineFormat is the version of the serialized pipeline. Loading refuses
// any other.
const PipelineFormat = 1

// Output column names for encoded features: "mhc1_status=loss" for a level,
// "mhc1_status=<unseen>" for a level not seen at fit time, and
// "tmb:missing" for a missing-value indicator.
const (
	unseenLevel   = "<unseen>"
	missingSuffix = ":missing"
)

// Pipeline is a fitted feature pipeline: what Fit learned from training rows
// (category levels, imputation values, scaling), serialized inside a model
// bundle and used unchanged at serving time.
type Pipeline struct {
	Format       int      `json:"format"`
	Spec         *Spec    `json:"spec"`
	Features     []Fitted `json:"features"`
	Outputs      []string `json:"outputs"`
	TrainingRows int      `json:"training_rows"`
	// IDNumeric records that the spec's id column held numbers in the
	// training rows (an INT64 sample id, say), so that servers can declare
	// its type to clients.
	IDNumeric bool `json:"id_numeric,omitempty"`
}

// Fitted is one feature as fitted.
type Fitted struct {
	Name        string      `json:"name"`
	Kind        Kind        `json:"kind"`
	Column      string      `json:"column,omitempty"`
	Derived     string      `json:"derived,omitempty"`
	AlphaBetaGy float64     `json:"alpha_beta_gy,omitempty"`
	Transforms  []Transform `json:"transforms,omitempty"` // before scaling: log1p, clip
	Standardize bool        `json:"standardize,omitempty"`
	Mean        float64     `json:"mean,omitempty"`
	SD          float64     `json:"sd,omitempty"`
	// Knots, for a numeric feature expanded into a restricted cubic spline
	// (the spec's rcs), are placed at quantiles of the training values
	// after Transforms; the feature then has len(Knots)-1 outputs, the
	// value and its spline terms, which SplineMean and SplineSD scale when
	// Standardize.
	Knots      []float64 `json:"knots,omitempty"`
	SplineMean []float64 `json:"spline_mean,omitempty"`
	SplineSD   []float64 `json:"spline_sd,omitempty"`
	// Impute is the median (numeric) or the most frequent value as 0/1
	// (boolean) of the training rows, after Transforms.
	Impute      float64  `json:"impute"`
	ImputeLevel string   `json:"impute_level,omitempty"` // most frequent level (categorical)
	Levels      []string `json:"levels,omitempty"`       // sorted
	// Codes records that a categorical column held integer codes (site 1-5)
	// rather than strings: each code is read as the level of its decimal
	// text, "1" to "5".
	Codes bool `json:"codes,omitempty"`
	// MissingIndicator adds a 0/1 output that is 1 when the value was
	// imputed; fitted when any training row lacked the value.
	MissingIndicator bool `json:"missing_indicator"`
	// Missing is the number of training rows that lacked the value (of the
	// pipeline's TrainingRows), for the model card.
	Missing int `json:"missing"`
	// Bins and Shares profile the training rows' values, for a file's
	// case mix against them (Stability): a numeric feature's values fall in
	// the bins whose upper edges (after Transforms) are Bins, the last bin
	// open above; a categorical feature's in its Levels; a boolean's in
	// false and true. Shares are the non-missing training rows' shares of
	// those bins.
	Bins   []float64 `json:"bins,omitempty"`
	Shares []float64 `json:"shares,omitempty"`
	// RawMin and RawMax bound the training values before transforms, for
	// out-of-range warnings.
	RawMin float64 `json:"raw_min,omitempty"`
	RawMax float64 `json:"raw_max,omitempty"`

	offset  int
	knots   int // while fitting: the spline's number of knots, 0 for none
	derived *Derived
	// field is the cohort field of Column, if any: a PatientRecord is read
	// through it directly rather than by name.
	field *data.Field
}

// Notes say, for one record, which inputs the pipeline had to fill in or did
// not recognize. Callers reuse a Notes across records (Reset) to avoid
// allocations.
type Notes struct {
	Imputed    []string     // features whose value was missing and imputed
	Unseen     []Unseen     // categorical values not seen at fit time
	OutOfRange []OutOfRange // numeric values outside the training range
	// Profile asks Transform for Bins: for each feature, the bin of its
	// training profile the value fell in (Stability.AddBins), or -1 for a
	// feature without a profile. Reset keeps it.
	Profile bool
	Bins    []int
}

// Unseen is a categorical value the pipeline did not see in training.
type Unseen struct {
	Feature, Value string
}

// OutOfRange is a numeric value outside the range of the training rows.
type OutOfRange struct {
	Feature  string
	Value    float64
	Min, Max float64
}

// Reset empties the notes, keeping their storage.
func (n *Notes) Reset() {
	n.Imputed, n.Unseen, n.OutOfRange, n.Bins = n.Imputed[:0], n.Unseen[:0], n.OutOfRange[:0], n.Bins[:0]
}

// FitError is a problem found while fitting, naming the feature.
type FitError struct {
	Feature string
	Message string
}

func (e *FitError) Error() string { return "feature " + e.Feature + ": " + e.Message }

// ErrFit is wrapped by every FitError.
var ErrFit = errors.New("cannot fit feature pipeline")

// Unwrap lets errors.Is(err, ErrFit) match.
func (e *FitError) Unwrap() error { return ErrFit }

// rowOf reads r as f.raw reads it: the course of radiotherapy too for a
// derived feature, the patient behind r only for another. A loop over one
// feature's records (fitting, summarizing) reads only what it needs; a
// loop over a record's features (Transform) reads it all once.
func (f *Fitted) rowOf(r Record) row {
	if f.derived != nil {
		return readRow(r)
	}
	p, _ := PatientOf(r)
	return row{r: r, p: p}
}

// raw returns feature f's value for r before imputation: derived features
// computed, numeric values transformed (log1p, clip). A transform result
// that is not finite counts as missing.
func (f *Fitted) raw(r row) (v data.Value, untransformed float64) {
	switch {
	case f.derived != nil:
		v = f.derived.compute(r, f.AlphaBetaGy)
	case r.p != nil && f.field != nil:
		v = f.field.Get(r.p)
	default:
		v = r.r.Value(f.Column)
	}
	if f.Codes && v.Valid {
		// A code read as a number, or as text (a CSV file's column is
		// read as text): "01" is code 1 as much as 1 is; text that is no
		// integer is a level never seen.
		if v.Str == "" {
			return data.String(strconv.FormatInt(int64(v.Num), 10)), 0
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err == nil {
			return data.String(strconv.FormatInt(n, 10)), 0
		}
		return v, 0
	}
	if !v.Valid || f.Kind != Numeric {
		return v, 0
	}
	untransformed = v.Num
	x := v.Num
	for _, t := range f.Transforms {
		switch t.Op {
		case OpLog1p:
			x = math.Log1p(x)
		case OpClip:
			x = math.Max(t.Min, math.Min(t.Max, x))
		}
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return data.Null, untransformed
	}
	return data.Float(x), untransformed
}

// Fit learns the pipeline of spec from training records.
func Fit(spec *Spec, records []Record) (*Pipeline, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, &FitError{Feature: "(all)", Message: "no training rows"}
	}
	p := &Pipeline{Format: PipelineFormat, Spec: spec, TrainingRows: len(records)}
	if spec.ID != "" {
		for _, r := range records {
			if v := r.Value(spec.ID); v.Valid {
				p.IDNumeric = v.Str == "" // a string id has text; a number has none
				break
			}
		}
	}
	ab := spec.alphaBeta()
	for i := range spec.Features {
		fs := &spec.Features[i]
		f := Fitted{Name: fs.Name(ab), Kind: spec.featureKind(fs), Column: fs.Column, Derived: fs.Derived}
		if fs.Derived != "" {
			f.derived, _ = LookupDerived(fs.Derived)
			if f.derived.UsesAlphaBeta {
				f.AlphaBetaGy = fs.AlphaBeta(ab)
			}
		}
		for _, t := range fs.Transforms {
			switch t.Op {
			case OpStandardize:
				f.Standardize = true
			case OpRCS:
				f.knots = t.Knots // placed by fit, on the training values
			default:
				f.Transforms = append(f.Transforms, t)
			}
		}
		if f.Kind == Categorical && f.derived == nil {
			f.Codes = integerCodes(records, f.Column)
		}
		if err := f.fit(records); err != nil {
			return nil, err
		}
		p.Features = append(p.Features, f)
	}
	p.layout()
	return p, nil
}

// integerCodes reports whether every value of column in records is a
// number: an integer column read as a categorical feature. (A record's
// value of a string column has text; of a number, none. Spec.Check admits
// integer columns only.)
func integerCodes(records []Record, column string) bool {
	seen := false
	for _, r := range records {
		if v := r.Value(column); v.Valid {
			if v.Str != "" {
				return false
			}
			seen = true
		}
	}
	return seen
}

func (f *Fitted) fit(records []Record) error {
	var nums []float64
	counts := map[string]int{}
	trues, missing := 0, 0
	f.RawMin, f.RawMax = math.Inf(1), math.Inf(-1)
	for _, r := range records {
		v, untransformed := f.raw(f.rowOf(r))
		if !v.Valid {
			missing++
			continue
		}
		switch f.Kind {
		case Numeric:
			nums = append(nums, v.Num)
			f.RawMin, f.RawMax = math.Min(f.RawMin, untransformed), math.Max(f.RawMax, untransformed)
		case Boolean:
			if v.Bool {
				trues++
			}
		case Categorical:
			counts[v.Str]++
		}
	}
	if missing == len(records) {
		src := f.Column
		if f.derived != nil {
			src = fmt.Sprintf("its inputs (%v)", f.derived.Inputs)
		}
		return &FitError{Feature: f.Name, Message: fmt.Sprintf("%s null in all %d training rows: nothing to learn from", src, len(records))}
	}
	f.MissingIndicator, f.Missing = missing > 0, missing
	switch f.Kind {
	case Numeric:
		sort.Float64s(nums)
		f.Impute = median(nums)
		f.Mean, f.SD = meanSD(nums)
		if f.SD == 0 {
			f.SD = 1 // a constant feature stays constant (0) after scaling
		}
		if !f.Standardize {
			f.Mean, f.SD = 0, 0
		}
		if f.knots > 0 {
			if err := f.fitSpline(nums); err != nil {
				return err
			}
		}
	case Boolean:
		f.RawMin, f.RawMax = 0, 0
		if 2*trues > len(records)-missing {
			f.Impute = 1
		}
	case Categorical:
		f.RawMin, f.RawMax = 0, 0
		for l := range counts {
			f.Levels = append(f.Levels, l)
		}
		sort.Strings(f.Levels)
		best := -1
		for _, l := range f.Levels { // sorted: ties go to the first level
			if counts[l] > best {
				f.ImputeLevel, best = l, counts[l]
			}
		}
	}
	f.profile(nums, trues, counts, len(records)-missing)
	return nil
}

// fitSpline places the spline's knots on the sorted training values and,
// when the feature is standardized, the terms' means and SDs on them.
func (f *Fitted) fitSpline(nums []float64) error {
	knots, err := splineKnots(nums, f.knots)
	if err != nil {
		return &FitError{Feature: f.Name, Message: err.Error()}
	}
	f.Knots, f.SplineMean, f.SplineSD = knots, nil, nil
	if !f.Standardize {
		return nil
	}
	terms := make([]float64, len(nums))
	for j := range len(knots) - 2 {
		for i, x := range nums {
			terms[i] = splineTerm(x, knots, j)
		}
		mean, sd := meanSD(terms)
		if sd == 0 {
			sd = 1
		}
		f.SplineMean, f.SplineSD = append(f.SplineMean, mean), append(f.SplineSD, sd)
	}
	return nil
}

// profile sets Bins and Shares from the n non-missing training values:
// nums sorted (numeric), trues (boolean), counts by level (categorical).
// A numeric feature's bins are cut at its deciles, ties merged, so that a
// feature of few values (a grade 0-4) has a bin a value.
func (f *Fitted) profile(nums []float64, trues int, counts map[string]int, n int) {
	f.Bins, f.Shares = nil, nil
	switch f.Kind {
	case Numeric:
		for q := 1; q < 10; q++ {
			edge := nums[(q*len(nums)-1)/10]
			if len(f.Bins) == 0 || edge > f.Bins[len(f.Bins)-1] {
				f.Bins = append(f.Bins, edge)
			}
		}
		if f.Bins[len(f.Bins)-1] == nums[len(nums)-1] {
			f.Bins = f.Bins[:len(f.Bins)-1] // nothing above: no empty last bin
		}
		f.Shares = make([]float64, len(f.Bins)+1)
		for _, x := range nums {
			f.Shares[sort.SearchFloat64s(f.Bins, x)]++
		}
	case Boolean:
		f.Shares = []float64{float64(n - trues), float64(trues)}
	case Categorical:
		for _, l := range f.Levels {
			f.Shares = append(f.Shares, float64(counts[l]))
		}
	}
	for i := range f.Shares {
		f.Shares[i] /= float64(n)
	}
}

// median is the middle of sorted values, the mean of the middle two for an
// even count (R's type 7): gonum's stat.Quantile offers types 1 and 4
// only.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// meanSD returns the mean and population standard deviation of xs, by a
// plain two-pass sum. gonum's stat.PopMeanStdDev agrees to 1e-12
// (TestMeanSDMatchesGonum) but not to the bit (it sums in another order and
// corrects the variance): the scaling every published pipeline records
// comes from these sums, and a pipeline fitted again must be byte-identical
// (abscopal models reproduce).
func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}

// layout assigns output positions and names.
func (p *Pipeline) layout() {
	p.Outputs = p.Outputs[:0]
	for i := range p.Features {
		f := &p.Features[i]
		f.offset = len(p.Outputs)
		f.field = cohortFields[f.Column] // nil for derived features and non-cohort columns
		switch f.Kind {
		case Categorical:
			for _, l := range f.Levels {
				p.Outputs = append(p.Outputs, f.Name+"="+l)
			}
			p.Outputs = append(p.Outputs, f.Name+"="+unseenLevel)
		default:
			p.Outputs = append(p.Outputs, f.Name)
			for j := range max(len(f.Knots)-2, 0) {
				p.Outputs = append(p.Outputs, f.Name+strings.Repeat("'", j+1)) // Harrell's age', age''
			}
		}
		if f.MissingIndicator {
			p.Outputs = append(p.Outputs, f.Name+missingSuffix)
		}
	}
}

// NumOutputs returns the length of a feature vector.
func (p *Pipeline) NumOutputs() int { return len(p.Outputs) }

// Parameters returns the degrees of freedom of the design, the "candidate
// predictor parameters" of sample-size calculations: one per numeric or
// boolean feature and per missing indicator, and a categorical feature's
// levels less one (the intercept absorbs a reference level, and the unseen
// level's output is 0 in every training row).
func (p *Pipeline) Parameters() int {
	n := 0
	for _, f := range p.Features {
		switch {
		case f.Kind == Categorical:
			n += max(len(f.Levels)-1, 0)
		case len(f.Knots) > 0:
			n += len(f.Knots) - 1 // the value and its spline terms
		default:
			n++
		}
		if f.MissingIndicator {
			n++
		}
	}
	return n
}

// Transform writes the feature vector of r into dst (length NumOutputs) and,
// if notes is not nil, appends what was imputed, unseen or out of range.
// It allocates nothing when notes has room.
func (p *Pipeline) Transform(r Record, dst []float64, notes *Notes) {
	rw := readRow(r)
	for i := range p.Features {
		f := &p.Features[i]
		v, untransformed := f.raw(rw)
		out := dst[f.offset:]
		imputed := !v.Valid
		switch f.Kind {
		case Numeric, Boolean:
			x := f.Impute
			switch {
			case imputed:
			case f.Kind == Boolean && v.Bool:
				x = 1
			case f.Kind == Boolean:
				x = 0
			default:
				x = v.Num
				if notes != nil && (untransformed < f.RawMin || untransformed > f.RawMax) {
					notes.OutOfRange = append(notes.OutOfRange, OutOfRange{Feature: f.Name, Value: untransformed, Min: f.RawMin, Max: f.RawMax})
				}
			}
			for j := range max(len(f.Knots)-2, 0) {
				h := splineTerm(x, f.Knots, j) // of the unscaled value
				if f.Standardize {
					h = (h - f.SplineMean[j]) / f.SplineSD[j]
				}
				out[1+j] = h
			}
			if f.Standardize {
				x = (x - f.Mean) / f.SD
			}
			out[0] = x
			out = out[1+max(len(f.Knots)-2, 0):]
		case Categorical:
			level := f.ImputeLevel
			if !imputed {
				level = v.Str
			}
			n := len(f.Levels)
			clear(out[:n+1])
			if j := sort.SearchStrings(f.Levels, level); j < n && f.Levels[j] == level {
				out[j] = 1
			} else {
				out[n] = 1
				if notes != nil {
					notes.Unseen = append(notes.Unseen, Unseen{Feature: f.Name, Value: level})
				}
			}
			out = out[n+1:]
		}
		if f.MissingIndicator {
			out[0] = 0
			if imputed {
				out[0] = 1
			}
		}
		if imputed && notes != nil {
			notes.Imputed = append(notes.Imputed, f.Name)
		}
		if notes != nil && notes.Profile {
			notes.Bins = append(notes.Bins, f.bin(v))
		}
	}
}

// checkProfile checks that Bins and Shares fit together and the feature's
// kind (or are absent, as in bundles made before profiles): a bin index
// must land in Shares.
func (f *Fitted) checkProfile() error {
	if len(f.Shares) == 0 && len(f.Bins) == 0 {
		return nil
	}
	want := 0
	switch f.Kind {
	case Numeric:
		want = len(f.Bins) + 1
		if !sort.Float64sAreSorted(f.Bins) {
			return errors.New("profile bins not sorted")
		}
	case Boolean:
		want = 2
	case Categorical:
		want = len(f.Levels)
	}
	if len(f.Shares) != want || f.Kind != Numeric && len(f.Bins) != 0 {
		return fmt.Errorf("profile of %d shares and %d bins, want %d shares", len(f.Shares), len(f.Bins), want)
	}
	return nil
}

// bin returns the bin of the training profile value v falls in (see
// Stability), or -1 without a profile. Unseen levels and missing values
// have the two bins after Shares'.
func (f *Fitted) bin(v data.Value) int {
	switch {
	case len(f.Shares) == 0:
		return -1
	case !v.Valid:
		return len(f.Shares) + 1
	case f.Kind == Numeric:
		return sort.SearchFloat64s(f.Bins, v.Num)
	case f.Kind == Boolean:
		if v.Bool {
			return 1
		}
		return 0
	}
	if j := sort.SearchStrings(f.Levels, v.Str); j < len(f.Levels) && f.Levels[j] == v.Str {
		return j
	}
	return len(f.Shares)
}

// Matrix is a dense row-major matrix of feature vectors.
type Matrix struct {
	Rows, Cols int
	Data       []float64
}

// Row returns row i.
func (m *Matrix) Row(i int) []float64 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// TransformAll transforms a batch of records through the same code path as
// Transform, and counts the imputed values per feature.
func (p *Pipeline) TransformAll(records []Record) (*Matrix, map[string]int) {
	m := &Matrix{Rows: len(records), Cols: p.NumOutputs(), Data: make([]float64, len(records)*p.NumOutputs())}
	imputed := map[string]int{}
	var notes Notes
	for i, r := range records {
		notes.Reset()
		p.Transform(r, m.Row(i), &notes)
		for _, f := range notes.Imputed {
			imputed[f]++
		}
	}
	return m, imputed
}

// UnmarshalJSON decodes with the checks of UnmarshalPipeline, so that a
// pipeline inside a larger document (a model bundle) is checked too.
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	q, err := UnmarshalPipeline(b)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

// UnmarshalPipeline decodes and checks a serialized pipeline.
func UnmarshalPipeline(b []byte) (*Pipeline, error) {
	type plain Pipeline
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode feature pipeline: %w", err)
	}
	if p.Format != PipelineFormat {
		return nil, fmt.Errorf("feature pipeline format %d, this abscopal reads %d", p.Format, PipelineFormat)
	}
	pp := (*Pipeline)(&p)
	if pp.Spec == nil {
		return nil, errors.New("feature pipeline has no spec")
	}
	if err := pp.Spec.Validate(); err != nil {
		return nil, err
	}
	saved := append([]string(nil), pp.Outputs...)
	for i := range pp.Features {
		f := &pp.Features[i]
		if f.Derived != "" {
			d, ok := LookupDerived(f.Derived)
			if !ok {
				return nil, fmt.Errorf("feature pipeline: unknown derived feature %q", f.Derived)
			}
			f.derived = d
		}
		if f.Standardize && f.SD <= 0 {
			return nil, fmt.Errorf("feature pipeline: feature %s has scale %v", f.Name, f.SD)
		}
		if !sort.StringsAreSorted(f.Levels) {
			return nil, fmt.Errorf("feature pipeline: levels of %s are not sorted", f.Name)
		}
		if err := f.checkProfile(); err != nil {
			return nil, fmt.Errorf("feature pipeline: feature %s: %w", f.Name, err)
		}
		if err := f.checkSpline(); err != nil {
			return nil, fmt.Errorf("feature pipeline: feature %s: %w", f.Name, err)
		}
	}
	pp.layout()
	if len(saved) != len(pp.Outputs) {
		return nil, fmt.Errorf("feature pipeline: %d outputs recorded, %d implied by its features", len(saved), len(pp.Outputs))
	}
	for i := range saved {
		if saved[i] != pp.Outputs[i] {
			return nil, fmt.Errorf("feature pipeline: output %d is %q, its features imply %q", i, saved[i], pp.Outputs[i])
		}
	}
	return pp, nil
}

// OutputGroups maps the outputs to their features: output j belongs to
// feature names[of[j]], the features in the order they first appear. A
// model's contributions summed by group give one number per feature.
func (p *Pipeline) OutputGroups() (of []int, names []string) {
	of = make([]int, len(p.Outputs))
	index := map[string]int{}
	for j, o := range p.Outputs {
		f := OutputFeature(o)
		k, ok := index[f]
		if !ok {
			k, index[f] = len(names), len(names)
			names = append(names, f)
		}
		of[j] = k
	}
	return of, names
}

// OutputFeature returns the feature a pipeline output belongs to: outputs
// are named feature, feature=level (one-hot), feature:missing or, for the
// terms of a spline, the feature's name with one prime, then two, and so on
// (Harrell's notation).
func OutputFeature(output string) string {
	if i := strings.IndexAny(output, "=:"); i >= 0 {
		return output[:i]
	}
	return strings.TrimRight(output, "'")
}

// CheckKinds checks the columns of a file to score (their kinds by kindOf)
// against what the pipeline learnt from: a categorical feature learnt from
// text levels cannot read a column of integers, whose values would match
// no level ("01" is not 1) and be taken, in silence, as unseen. Integer
// codes learnt as such read integers or their text alike.
func (p *Pipeline) CheckKinds(file string, kindOf func(column string) data.Kind) error {
	for i := range p.Features {
		f := &p.Features[i]
		if f.Kind != Categorical || f.Codes || f.Column == "" || kindOf(f.Column) != data.KindInt {
			continue
		}
		levels := f.Levels
		if len(levels) > 5 {
			levels = levels[:5]
		}
		return fmt.Errorf("%s: column %s holds integers, but the model learnt feature %s from text levels (%s): store the column as text (DuckDB: CAST(%s AS VARCHAR); pandas: .astype(str))",
			file, f.Column, f.Name, strings.Join(levels, ", "), f.Column)
	}
	return nil
}
