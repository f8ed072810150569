package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// Options configure a training run.
type Options struct {
	Algo        string // a name of models.Algorithms
	Folds       int    // stratified folds; default 5
	Seed        uint64
	Calibration string  // "platt" (default), "isotonic" or "none"
	Threshold   float64 // for sensitivity and specificity; default 0.5
	Bootstrap   int     // resamples for the AUC interval; default 1000
	// Settings are the algorithms' hyperparameters; a zero GBM takes
	// DefaultGBM.
	models.Settings
	// Tune chooses a penalized algorithm's L2 penalty from LambdaGrid, in
	// place of Logistic.Lambda, for each fit by the log loss of a 5-fold
	// cross-validation of that fit's own rows (nested in the outer folds).
	Tune bool
	// CrossValidateOnly stops after the cross-validated metrics: no final
	// model, pipeline or calibrator (comparing algorithms needs none).
	CrossValidateOnly bool
	// By, if set, is a column of the records whose values (of kind ByKind)
	// split the cross-validated metrics into subgroups (Result.Groups).
	By     string
	ByKind data.Kind
	// FoldsBy, if set, makes each value of this column (null counting as
	// one) a fold, in place of Folds stratified folds: leave-one-group-out,
	// or internal-external, cross-validation, in which every centre (say)
	// is predicted by a model that never saw it. By must then be empty or
	// the same column: the metrics by subgroup are those of each held-out
	// group, and stand for the per-fold AUCs, which a group of one outcome
	// does not have. At most MaxGroups values.
	FoldsBy string
	// Tau2 estimates the between-group variance when the groups of
	// FoldsBy are pooled (Result.Pooled); "" is PauleMandel.
	Tau2 stats.Tau2Method
	// Instability, if positive, is how many bootstrap models the stability
	// analysis of the final model develops (Result.Instability); Riley and
	// Collins suggest at least 200.
	Instability int
	// Intervals keeps the stability analysis's bootstrap models with the
	// model (Result.Bootstrap; models.BootstrapFile), so that scoring can
	// give each patient the central 95% of their probabilities. It needs
	// Instability, and an algorithm other than the forest, whose bootstrap
	// models would weigh gigabytes.
	Intervals bool
	// Survival, if set, names survival endpoints (Endpoints: "os", "pfs")
	// whose survival is compared between the patients the out-of-fold
	// probabilities put at or above Threshold and the others
	// (Result.Survival): the records must hold the endpoints' columns.
	Survival []string
	// Progress, if set, is called with done 0 and step "" when the first
	// step starts (the checks passed), then after each step: done of total.
	Progress func(done, total int, step string)
}

// DefaultGBM returns the GBM settings of "abscopal train": shallow trees
// (depth 2: pairwise interactions), row and column subsampling, an L2
// penalty and a minimum child weight, with early stopping choosing the
// number of trees. Clinical cohorts are small (hundreds to a few thousand
// patients) and their signals mostly additive, so a regularized fit of
// shallow trees beats deeper ones there: mean cross-validated AUC 0.6901 on
// the real cohort of bench/README.md (four fold seeds) and 0.7522 / 0.8059 on
// the held-out synthetic split, against 0.6821 and 0.7474 / 0.8039 with depth
// 4 and learning rate 0.05 (the previous defaults). A learning rate of 0.02
// gained 0.002 more and took 3-6 times the trees, which cost serving
// throughput. Once early stopping has chosen the number of trees, the model
// is grown again on every row (RefitAll), so that the final fit leaves no
// row out: as good within noise (mean 0.6898 against 0.6902 on the real
// cohort, 0.7540 / 0.8040 held out).
func DefaultGBM() models.GBMOptions {
	return models.GBMOptions{Trees: 1000, MaxDepth: 2, LearningRate: 0.1, Lambda: 5, MinChildWeight: 5,
		Subsample: 0.7, ColSample: 0.8, MaxBins: 255, EarlyStopping: 50, ValidationShare: 0.1, RefitAll: true}
}

// Result is a trained, calibrated model with its cross-validated metrics.
type Result struct {
	Pipeline   *features.Pipeline
	Model      models.Classifier
	Calibrator *models.Calibrator
	// Metrics are of calibrated out-of-fold probabilities; Uncalibrated of
	// the models' own out-of-fold probabilities.
	Metrics      stats.Metrics
	Uncalibrated stats.Metrics
	FoldAUC      []float64
	// OOF holds the calibrated out-of-fold probability of each row with a
	// target, in input order, RawOOF the model's own, Labels its 0/1 label
	// and Fold its fold (from 0): the same seed gives the same folds, so two
	// runs' OOF compare row by row (CompareAUC).
	OOF, RawOOF, Labels []float64
	Fold                []int
	// Groups are the cross-validated metrics by subgroup of Options.By.
	Groups []stats.Group
	// Pooled is, with folds by a column, the random-effects summary of the
	// held-out groups' AUCs (nil when fewer than two have one).
	Pooled *stats.PooledAUC
	// Importance ranks the features by the mean absolute contribution the
	// final model gives them on its training rows (at most ImportanceRows of
	// them; none when CrossValidateOnly).
	Importance []Importance
	// SampleSize sets the rows beside Riley et al.'s minimum for the final
	// pipeline's parameters (none when CrossValidateOnly).
	SampleSize *stats.SampleSize
	// FoldLambdas are, with Options.Tune, the penalties tuned in each
	// outer fold (the final model's is its own Lambda).
	FoldLambdas []float64
	// Characteristics describe the training rows feature by feature, all
	// of them and by outcome (none when CrossValidateOnly).
	Characteristics *Characteristics
	// Instability is the stability analysis of the final model, with
	// Options.Instability bootstrap models (none without).
	Instability *stats.Instability
	// Bootstrap holds, with Options.Intervals, the stability analysis's
	// bootstrap models, in the order they were drawn.
	Bootstrap []models.Member
	// Survival compares, by Options.Survival endpoint, the survival of the
	// patients the out-of-fold probabilities put at or above the threshold
	// with the others'; SurvivalNotes says why an endpoint has none (too
	// few patients on one side).
	Survival      []*stats.SurvivalSplit
	SurvivalNotes []string
	Rows          int // rows with a target
	DroppedRows   int // rows whose target was null
	Options       Options
}

// ErrTrain is wrapped by errors about the training set as a whole.
var ErrTrain = errors.New("cannot train")

// Run cross-validates and then fits the final model on all rows.
//
// Each fold fits its own feature pipeline on its training rows, so nothing
// about a held-out row leaks into its prediction. The reported metrics are
// cross-calibrated: the calibrator applied to fold k's out-of-fold scores is
// fitted on the other folds' out-of-fold scores. The final calibrator is
// fitted on all out-of-fold scores.
func Run(ctx context.Context, spec *features.Spec, records []features.Record, opts Options) (*Result, error) {
	if opts.Folds == 0 {
		opts.Folds = 5
	}
	if opts.Calibration == "" {
		opts.Calibration = models.CalibrationPlatt
	}
	if opts.Threshold == 0 {
		opts.Threshold = 0.5
	}
	if opts.Bootstrap == 0 {
		opts.Bootstrap = 1000
	}
	if opts.GBM == (models.GBMOptions{}) {
		opts.GBM = DefaultGBM()
	}
	alg, err := models.LookupAlgorithm(opts.Algo)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrain, err)
	}
	if opts.Tune && !alg.Penalized {
		return nil, fmt.Errorf("%w: tuning chooses a penalized regression's penalty; %s has none", ErrTrain, alg.Name)
	}
	if opts.Tau2, err = stats.ParseTau2Method(string(opts.Tau2)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTrain, err)
	}
	if opts.Folds < 2 {
		return nil, fmt.Errorf("%w: %d folds; need at least 2", ErrTrain, opts.Folds)
	}
	if opts.Instability < 0 {
		return nil, fmt.Errorf("%w: %d bootstrap models for the stability analysis; want 0 (none) or more", ErrTrain, opts.Instability)
	}
	switch {
	case opts.Intervals && opts.Instability == 0:
		return nil, fmt.Errorf("%w: intervals come from the stability analysis's bootstrap models: ask for some (--instability 200)", ErrTrain)
	case opts.Intervals && !alg.KeepsBootstrap:
		return nil, fmt.Errorf("%w: %s's bootstrap models are too large to keep for intervals (a forest's are each its own hundred deep trees); use %s", ErrTrain, alg.Name, models.NamesWhere(func(a models.Algorithm) bool { return a.KeepsBootstrap }))
	}
	if opts.FoldsBy != "" {
		if opts.By != "" && opts.By != opts.FoldsBy {
			return nil, fmt.Errorf("%w: folds by %s report their metrics by %s: subgroups by %s too are not supported", ErrTrain, opts.FoldsBy, opts.FoldsBy, opts.By)
		}
		opts.By = opts.FoldsBy
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(int, int, string) {}
	}

	if err := spec.CheckOutcome(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTrain, err)
	}
	if spec.Target.TimeToEvent() {
		return nil, fmt.Errorf("%w: %s is a time to an event, which a classifier does not model: abscopal train --target %s (--algo %s) models it", ErrTrain, spec.Target, spec.Target.Name(), models.CoxAlgo)
	}
	if err := checkUniqueIDs(spec, records); err != nil {
		return nil, err
	}
	rows, y, dropped := Labeled(spec, records)
	if err := checkNumericTarget(spec, rows); err != nil {
		return nil, err
	}
	npos := 0
	for _, v := range y {
		npos += int(v)
	}
	switch {
	case len(rows) == 0:
		return nil, fmt.Errorf("%w: target %s is null in all %d rows", ErrTrain, spec.Target.Column, len(records))
	case npos == 0 || npos == len(rows):
		return nil, fmt.Errorf("%w: target %s has a single class (%d positive of %d rows)%s", ErrTrain, spec.Target.Column, npos, len(rows), positiveHint(spec, rows, npos))
	case opts.FoldsBy == "" && (npos < opts.Folds || len(rows)-npos < opts.Folds):
		return nil, fmt.Errorf("%w: %d positive and %d negative rows cannot fill %d folds", ErrTrain, npos, len(rows)-npos, opts.Folds)
	case !opts.CrossValidateOnly && opts.Instability*len(rows) > MaxInstabilityValues:
		return nil, fmt.Errorf("%w: %d bootstrap models of %d rows keep %d probabilities, more than %d: take at most %d",
			ErrTrain, opts.Instability, len(rows), opts.Instability*len(rows), MaxInstabilityValues, MaxInstabilityValues/len(rows))
	}

	endpoints := make([]endpointValues, len(opts.Survival)) // read and checked before the long work
	for k, e := range opts.Survival {
		var err error
		if endpoints[k].time, endpoints[k].event, endpoints[k].with, err = SurvivalOf(e, rows); err != nil {
			return nil, err
		}
	}

	var keys []data.Value // of the By column, checked before the long work
	if opts.By != "" {
		keys = make([]data.Value, len(rows))
		for i, r := range rows {
			keys[i] = r.Value(opts.By)
		}
		if err := checkGroups(opts.By, keys); err != nil {
			if opts.FoldsBy != "" {
				err = fmt.Errorf("folds by %s: %w", opts.FoldsBy, err)
			}
			return nil, err
		}
	}

	var fold []int
	if opts.FoldsBy != "" {
		var err error
		if fold, opts.Folds, err = groupFolds(opts.FoldsBy, opts.ByKind, keys, y); err != nil {
			return nil, err
		}
	} else {
		fold = stats.StratifiedFolds(y, opts.Folds, opts.Seed)
	}
	total := opts.Folds + 1 // and the final fit
	if opts.CrossValidateOnly {
		total = opts.Folds
	} else if opts.Instability > 0 {
		total += min(opts.Instability, 10) // the bootstrap models, reported by tenths
	}
	progress(0, total, "")
	scores := make([]float64, len(rows))
	res := &Result{Rows: len(rows), DroppedRows: dropped, Options: opts} // Folds and By as used
	for k := 0; k < opts.Folds; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		trainIdx, testIdx := stats.SplitFold(fold, k)
		pipe, model, _, err := fit(ctx, spec, pick(rows, trainIdx), pick(y, trainIdx), nil, opts, uint64(k+1))
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", k+1, err)
		}
		test, _ := pipe.TransformAll(pick(rows, testIdx))
		for j, i := range testIdx {
			scores[i] = model.Score(test.Row(j))
		}
		if l, ok := model.(*models.Logistic); ok && opts.Tune {
			res.FoldLambdas = append(res.FoldLambdas, l.Lambda)
		}
		progress(k+1, total, fmt.Sprintf("fold %d of %d", k+1, opts.Folds))
	}

	raw := make([]float64, len(rows))
	for i, s := range scores {
		raw[i] = stats.Sigmoid(s)
	}
	cal := make([]float64, len(rows))
	for k := 0; k < opts.Folds; k++ {
		other, in := stats.SplitFold(fold, k)
		c, err := models.FitCalibrator(opts.Calibration, pick(scores, other), pick(y, other))
		if err != nil {
			return nil, err
		}
		for _, i := range in {
			cal[i] = c.Apply(scores[i])
		}
		if opts.FoldsBy == "" { // a group's AUC is in res.Groups, and may not exist
			res.FoldAUC = append(res.FoldAUC, stats.AUC(pick(cal, in), pick(y, in)))
		}
	}
	res.Metrics = stats.Evaluate(cal, y, opts.Threshold, opts.Bootstrap, opts.Seed)
	res.Uncalibrated = stats.Evaluate(raw, y, opts.Threshold, 0, opts.Seed)
	res.OOF, res.RawOOF, res.Labels, res.Fold = cal, raw, y, fold
	if res.Survival, res.SurvivalNotes, err = survivalByPrediction(opts.Survival, endpoints, cal, opts.Threshold); err != nil {
		return nil, err
	}
	if opts.By != "" {
		var err error
		if res.Groups, err = Subgroups(opts.By, opts.ByKind, keys, cal, y, opts.Threshold, opts.Bootstrap, opts.Seed); err != nil {
			return nil, err
		}
		if opts.FoldsBy != "" {
			if p, err := stats.PoolAUC(res.Groups, opts.Tau2); err == nil {
				res.Pooled = p
			}
		}
	}
	if opts.CrossValidateOnly {
		return res, nil
	}

	if res.Calibrator, err = models.FitCalibrator(opts.Calibration, scores, y); err != nil {
		return nil, err
	}
	var x *features.Matrix
	if res.Pipeline, res.Model, x, err = fit(ctx, spec, rows, y, nil, opts, 0); err != nil {
		return nil, fmt.Errorf("final fit: %w", err)
	}
	res.Importance = importance(res.Pipeline, res.Model, x)
	res.SampleSize = stats.SampleSizeOf(res.Metrics, res.Pipeline.Parameters())
	res.Characteristics = characteristics(res.Pipeline, rows, y)
	if opts.Instability == 0 {
		progress(total, total, "final fit")
		return res, nil
	}
	progress(opts.Folds+1, total, "final fit")
	p := make([]float64, len(rows))
	for i := range p {
		p[i] = res.Calibrator.Apply(res.Model.Score(x.Row(i)))
	}
	var (
		mu       sync.Mutex
		reported int
		tenths   = min(opts.Instability, 10)
	)
	if res.Instability, res.Bootstrap, err = instability(ctx, spec, rows, y, p, opts, func(done int) {
		mu.Lock() // the bootstrap models end on several goroutines
		defer mu.Unlock()
		if t := done * tenths / opts.Instability; t > reported {
			reported = t
			progress(opts.Folds+1+t, total, fmt.Sprintf("bootstrap model %d of %d", done, opts.Instability))
		}
	}); err != nil {
		return nil, fmt.Errorf("stability analysis: %w", err)
	}
	return res, nil
}

// Importance is one feature's share in a model's scores.
type Importance struct {
	Feature string `json:"feature"`
	// MeanAbs is the mean over rows of the absolute contribution (log-odds)
	// of the feature: of the sum over its outputs (levels, missing
	// indicator), so that a categorical feature counts once.
	MeanAbs float64 `json:"mean_abs_log_odds"`
}

// ImportanceRows bounds the training rows that feature importance averages
// over: evenly spaced ones beyond it. A GBM's SHAP values cost about 2 ms a
// row with 300 trees of depth 6, so that 100,000 rows would take minutes;
// the mean over 5,000 is within sampling error of the mean over all.
const ImportanceRows = 5000

// importance ranks the pipeline's features by mean absolute contribution
// over the rows of x (the model's design matrix), or ImportanceRows evenly
// spaced ones, largest first (ties by name).
func importance(pipe *features.Pipeline, model models.Classifier, x *features.Matrix) []Importance {
	of, names := pipe.OutputGroups()
	contrib := make([]float64, x.Cols)
	sum, byFeature := make([]float64, len(names)), make([]float64, len(names))
	n := min(x.Rows, ImportanceRows)
	for k := 0; k < n; k++ {
		i := k * x.Rows / n
		model.Contributions(x.Row(i), contrib)
		clear(byFeature)
		for j, c := range contrib {
			byFeature[of[j]] += c
		}
		for k, c := range byFeature {
			sum[k] += math.Abs(c)
		}
	}
	out := make([]Importance, len(names))
	for k, name := range names {
		out[k] = Importance{Feature: name, MeanAbs: sum[k] / float64(n)}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].MeanAbs != out[b].MeanAbs {
			return out[a].MeanAbs > out[b].MeanAbs
		}
		return out[a].Feature < out[b].Feature
	})
	return out
}

// Leading returns the first k features of imp (ranked by importance) that
// the model uses at all. It is empty when every contribution is zero: a
// model that gives every patient the same score, as a GBM does when no split
// meets its minimum child weight.
func Leading(imp []Importance, k int) []Importance {
	n := 0
	for n < len(imp) && n < k && imp[n].MeanAbs > 0 {
		n++
	}
	return imp[:n]
}

// Labeled returns the records whose target is not null, their labels (1 for
// the positive value, else 0), and how many records were left out.
func Labeled(spec *features.Spec, records []features.Record) (rows []features.Record, y []float64, dropped int) {
	for _, r := range records {
		pos, ok := spec.Label(r)
		if !ok {
			dropped++
			continue
		}
		rows = append(rows, r)
		y = append(y, b2f(pos))
	}
	return rows, y, dropped
}

// positiveHint, when no row is positive, lists the values the target takes,
// for the commonest cause: a positive value spelled otherwise than in the
// file ("melanoma" for "Melanoma").
func positiveHint(spec *features.Spec, rows []features.Record, npos int) string {
	if npos != 0 {
		return ""
	}
	seen := map[string]bool{}
	var values []string
	for _, r := range rows {
		v := r.Value(spec.Target.Column)
		s := v.Str
		switch spec.Target.Positive.(type) {
		case bool:
			s = strconv.FormatBool(v.Bool)
		case float64:
			s = strconv.FormatFloat(v.Num, 'g', -1, 64)
		}
		if spec.Target.AtLeast != nil {
			s = strconv.FormatFloat(v.Num, 'g', -1, 64)
		}
		if !seen[s] {
			seen[s] = true
			values = append(values, strconv.Quote(s))
		}
	}
	sort.Strings(values)
	more := ""
	if len(values) > 10 {
		values, more = values[:10], ", ..."
	}
	pos := fmt.Sprint(spec.Target.Positive)
	if p, ok := spec.Target.Positive.(string); ok {
		pos = strconv.Quote(p)
	}
	if a := spec.Target.AtLeast; a != nil {
		return fmt.Sprintf(": no row is at or above %s; the column holds %s%s", strconv.FormatFloat(*a, 'g', -1, 64), strings.Join(values, ", "), more)
	}
	return fmt.Sprintf(": no row has the positive value %s; the column holds %s%s", pos, strings.Join(values, ", "), more)
}

// checkUniqueIDs refuses records that share an id: the rows of one patient
// would fall into training and test folds alike and flatter every
// cross-validated metric. Null ids are not compared.
func checkUniqueIDs(spec *features.Spec, records []features.Record) error {
	if spec.ID == "" {
		return nil
	}
	first := map[string]int{}
	for i, r := range records {
		v := r.Value(spec.ID)
		if !v.Valid {
			continue
		}
		id := v.Str
		if id == "" { // a numeric id
			id = strconv.FormatFloat(v.Num, 'g', -1, 64)
		}
		if j, seen := first[id]; seen {
			return fmt.Errorf("%w: %s %s is in rows %d and %d (counted from 1): one patient in two rows would be in training and test folds alike; remove the duplicate or give each row its own id",
				ErrTrain, spec.ID, id, j+1, i+1)
		}
		first[id] = i
	}
	return nil
}

// checkNumericTarget refuses a numeric target with more than two values: a
// code such as RECIST's 1-4 with "positive: 1" would silently count every
// other value as negative.
func checkNumericTarget(spec *features.Spec, rows []features.Record) error {
	if _, numeric := spec.Target.Positive.(float64); !numeric {
		return nil
	}
	seen := map[float64]bool{}
	for _, r := range rows {
		if seen[r.Value(spec.Target.Column).Num] = true; len(seen) > 2 {
			vals := slices.Sorted(maps.Keys(seen))
			return fmt.Errorf("%w: target %s holds the values %v and maybe more; a numeric target must hold two, such as 0 and 1; for a graded outcome give the threshold, at_least (--at-least)", ErrTrain, spec.Target.Column, vals)
		}
	}
	return nil
}

// fit fits a pipeline and a model on the given rows, and returns the
// design matrix the model was fitted on. seedOffset keeps the folds' random
// streams apart from the final fit's. groups, if set, are the rows' groups
// (a bootstrap sample's copies of a patient share one), which the model's
// own splits of the rows keep whole (models.Data.Groups).
func fit(ctx context.Context, spec *features.Spec, rows []features.Record, y []float64, groups []int32, opts Options, seedOffset uint64) (*features.Pipeline, models.Classifier, *features.Matrix, error) {
	pipe, err := features.Fit(spec, rows)
	if err != nil {
		return nil, nil, nil, err
	}
	m, _ := pipe.TransformAll(rows)
	d := &models.Data{Rows: m.Rows, Cols: m.Cols, X: m.Data, Y: y, Groups: groups}
	alg, err := models.LookupAlgorithm(opts.Algo)
	if err != nil {
		return nil, nil, nil, err
	}
	settings := opts.Settings
	if opts.Tune {
		if settings.Logistic.Lambda, err = tuneLambda(ctx, spec, rows, y, groups, settings.Logistic, opts.Seed*1_000_003+seedOffset); err != nil {
			return nil, nil, nil, err
		}
	}
	c, err := alg.Fit(ctx, d, settings, opts.Seed*1_000_003+seedOffset)
	return pipe, c, m, err
}

// groupFolds makes each value of the column by (keys, one per row; null is
// a value) a fold, in the order of the values, and returns the fold of each
// row and their count. Every fold's training rows, the other groups', must
// hold both outcomes.
func groupFolds(by string, kind data.Kind, keys []data.Value, y []float64) ([]int, int, error) {
	values := slices.Clone(keys)
	slices.SortFunc(values, func(a, b data.Value) int {
		switch {
		case a == b:
			return 0
		case groupLess(a, b):
			return -1
		}
		return 1
	})
	values = slices.Compact(values)
	if len(values) < 2 {
		return nil, 0, fmt.Errorf("%w: folds by %s need at least two values of it; every row has the same, %s", ErrTrain, by, groupName(values[0], kind))
	}
	index := make(map[data.Value]int, len(values))
	for k, v := range values {
		index[v] = k
	}
	fold := make([]int, len(keys))
	pos, n := make([]int, len(values)), make([]int, len(values))
	npos := 0
	for i, key := range keys {
		fold[i] = index[key]
		pos[fold[i]] += int(y[i])
		n[fold[i]]++
		npos += int(y[i])
	}
	for k, v := range values {
		if p, neg := npos-pos[k], len(y)-npos-(n[k]-pos[k]); p == 0 || neg == 0 {
			return nil, 0, fmt.Errorf("%w: holding out the rows where %s is %s leaves %d positive and %d negative rows to train on: every other value of %s holds one outcome only",
				ErrTrain, by, groupName(v, kind), p, neg, by)
		}
	}
	return fold, len(values), nil
}

// pick returns the elements of xs at idx, in that order.
func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = xs[i]
	}
	return out
}

// Characteristics describe a training set's rows feature by feature (a
// paper's "table 1"): all of them, and those with and without the outcome.
type Characteristics struct {
	All, Positive, Negative []features.Summary
}

func characteristics(p *features.Pipeline, rows []features.Record, y []float64) *Characteristics {
	var pos, neg []features.Record
	for i, r := range rows {
		if y[i] == 1 {
			pos = append(pos, r)
		} else {
			neg = append(neg, r)
		}
	}
	return &Characteristics{All: p.Summarize(rows), Positive: p.Summarize(pos), Negative: p.Summarize(neg)}
}

// b2f is a label as a number: 1 for true, 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
