package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/parallel"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// SurvivalOptions configure RunSurvival.
type SurvivalOptions struct {
	// Algo is models.CoxAlgo (the default) or models.BoostedCoxAlgo.
	Algo      string
	Folds     int // folds stratified by event; default 5
	Seed      uint64
	Bootstrap int // resamples for the C-index's interval; default 1000
	// Lambda and Alpha are the Cox model's elastic-net penalty, per patient
	// as glmnet's (stats.CoxOptions); a Lambda of 0 takes
	// DefaultCoxLambda, a small ridge penalty that keeps the fit finite when
	// a level is rare.
	Lambda, Alpha float64
	// Tune chooses Lambda from CoxLambdaGrid for each fit by the
	// cross-validated partial likelihood of a 5-fold cross-validation of
	// that fit's own rows (nested in the outer folds).
	Tune bool
	// Times are the times, in the time column's unit, at which survival is
	// predicted and the model judged (time-dependent AUC, Brier score,
	// calibration); default DefaultSurvivalTimes.
	Times []float64
	// GBM are the boosted Cox model's settings (Algo gbm); zero takes
	// DefaultGBM, its objective set to Cox.
	GBM models.GBMOptions
	// By, when set, also judges the out-of-fold predictions of each value
	// of this column (a subgroup: a category, a flag, a grade); FoldsBy
	// makes each value of its column a fold instead (leave one centre
	// out), and judges them by it. ByKind is the column's kind.
	By, FoldsBy string
	ByKind      data.Kind
	// Instability, if positive, develops this many bootstrap models after
	// the final fit and reports how far their survival strays from the
	// model's (SurvivalResult.Instability); Intervals keeps them with the
	// model (SurvivalResult.Bootstrap), so that each patient's median is
	// given with the central 95% of theirs.
	Instability int
	Intervals   bool
	// CrossValidateOnly skips the final fit on all rows.
	CrossValidateOnly bool
	// Progress, if set, is called after each fold and the final fit.
	Progress func(done, total int, what string)
}

// DefaultSurvivalTimes are the times, in months, at which a survival
// model's predictions are given and judged: 6, 12 and 24 months, as the
// trials report landmark survival.
func DefaultSurvivalTimes() []float64 { return []float64{6, 12, 24} }

// DefaultCoxLambda is the Cox model's penalty without tuning.
const DefaultCoxLambda = 0.01

// CoxLambdaGrid returns the penalties SurvivalOptions.Tune chooses among:
// 10^-4 to 1 in half decades (per patient, as glmnet's).
func CoxLambdaGrid() []float64 {
	grid := make([]float64, 9)
	for i := range grid {
		grid[i] = math.Pow(10, float64(i-8)/2)
	}
	return grid
}

// SurvivalResult is a cross-validated time-to-event model.
type SurvivalResult struct {
	Pipeline *features.Pipeline    // nil when CrossValidateOnly
	Model    *models.SurvivalModel // nil when CrossValidateOnly
	Lambda   float64               // the final Cox model's penalty
	Metrics  SurvivalMetrics
	// FoldLambdas are, with Tune, the penalties of the outer folds.
	FoldLambdas []float64
	// OOFRisk is each row's out-of-fold linear predictor (higher: the
	// event sooner), Fold its fold (from 0), Time and Event its outcome.
	OOFRisk, Time []float64
	Event         []bool
	Fold          []int
	// OOFSurvival is each row's out-of-fold survival at Options.Times, and
	// Index its place among the records RunSurvival was given (rows without
	// a time or an event are left out).
	OOFSurvival [][]float64
	Index       []int
	// Groups are the out-of-fold metrics by value of Options.By.
	Groups []SurvivalGroup
	// Bootstrap holds, with Options.Intervals, the bootstrap models, and
	// Instability how far their survival at each of Options.Times strays
	// from the model's over the training rows.
	Bootstrap   []models.Member
	Instability *SurvivalInstability
	Rows        int // rows with both the time and the event
	DroppedRows int // rows with either null
	Events      int
	Options     SurvivalOptions
}

// SurvivalMetrics judge a time-to-event model's out-of-fold predictions.
type SurvivalMetrics struct {
	// C is Harrell's concordance index of the linear predictor, with a
	// bootstrap percentile interval.
	C     float64 `json:"c_index"`
	CLow  float64 `json:"c_index_low"`
	CHigh float64 `json:"c_index_high"`
	// Uno is Uno's C to the last time (stats.UnoC: the pairs weighted by
	// the inverse square of the censoring distribution), with a bootstrap
	// percentile interval.
	Uno     float64 `json:"uno_c"`
	UnoLow  float64 `json:"uno_c_low"`
	UnoHigh float64 `json:"uno_c_high"`
	// At each time: the time-dependent AUC, the Brier score of the model
	// and of the Kaplan-Meier null model (both weighted by the inverse
	// probability of censoring), and the calibration by tenth of risk.
	Times       []float64          `json:"times"`
	AUC         []float64          `json:"auc"`
	Brier       []float64          `json:"brier"`
	NullBrier   []float64          `json:"null_brier"`
	Calibration [][]SurvivalDecile `json:"calibration"`
	// IBS and NullIBS are the integrated Brier scores to the last time,
	// over a grid of a tenth of it (IntegratedBrier).
	IBS     float64 `json:"ibs"`
	NullIBS float64 `json:"null_ibs"`
}

// SurvivalDecile is one tenth of the patients by predicted survival at a
// time: their mean prediction and the Kaplan-Meier estimate among them.
type SurvivalDecile struct {
	Patients  int     `json:"patients"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// SurvivalGroup is one value of SurvivalOptions.By: its patients' events
// and their out-of-fold metrics (nil without an event).
type SurvivalGroup struct {
	Value   string           `json:"value"`
	N       int              `json:"n"`
	Events  int              `json:"events"`
	Metrics *SurvivalMetrics `json:"metrics,omitempty"`
}

// ErrSurvivalTarget is wrapped by RunSurvival's errors about the target.
var ErrSurvivalTarget = errors.New("cannot train a time-to-event model")

// RunSurvival cross-validates a Cox model of the spec's time-to-event
// target and then fits it on all rows. Each fold fits its own feature
// pipeline on its training rows; the out-of-fold linear predictors and
// survival probabilities are judged by Harrell's C, the time-dependent AUC,
// the Brier score against the Kaplan-Meier null model, and calibration at
// each of the times.
func RunSurvival(ctx context.Context, spec *features.Spec, records []features.Record, opts SurvivalOptions) (*SurvivalResult, error) {
	if !spec.Target.TimeToEvent() {
		return nil, fmt.Errorf("%w: target %s is not a time to an event", ErrSurvivalTarget, spec.Target)
	}
	if opts.Folds == 0 {
		opts.Folds = 5
	}
	if opts.Bootstrap == 0 {
		opts.Bootstrap = 1000
	}
	if opts.Algo == "" {
		opts.Algo = models.CoxAlgo
	}
	switch opts.Algo {
	case models.CoxAlgo:
		if opts.Lambda == 0 && !opts.Tune {
			opts.Lambda = DefaultCoxLambda
		}
	case models.BoostedCoxAlgo:
		if opts.Tune || opts.Lambda != 0 || opts.Alpha != 0 {
			return nil, fmt.Errorf("%w: the penalty (lambda, alpha, tune) is the Cox model's; a boosted Cox model is set by its trees", ErrSurvivalTarget)
		}
		if opts.GBM == (models.GBMOptions{}) {
			opts.GBM = DefaultGBM()
		}
		opts.GBM.Objective = models.ObjectiveCox
	default:
		return nil, fmt.Errorf("%w: algorithm %q: a time to an event is modelled by %s or %s", ErrSurvivalTarget, opts.Algo, models.CoxAlgo, models.BoostedCoxAlgo)
	}
	if len(opts.Times) == 0 {
		opts.Times = DefaultSurvivalTimes()
	}
	switch {
	case opts.Folds < 2:
		return nil, fmt.Errorf("%w: %d folds; need at least 2", ErrSurvivalTarget, opts.Folds)
	case opts.Lambda < 0 || opts.Alpha < 0 || opts.Alpha > 1:
		return nil, fmt.Errorf("%w: penalty %v with L1 share %v: want a penalty >= 0 and a share in [0, 1]", ErrSurvivalTarget, opts.Lambda, opts.Alpha)
	case !sort.Float64sAreSorted(opts.Times) || opts.Times[0] <= 0:
		return nil, fmt.Errorf("%w: times %v: want positive times, ascending", ErrSurvivalTarget, opts.Times)
	case opts.Instability < 0:
		return nil, fmt.Errorf("%w: %d bootstrap models for the stability analysis; want 0 (none) or more", ErrSurvivalTarget, opts.Instability)
	case opts.Intervals && opts.Instability == 0:
		return nil, fmt.Errorf("%w: intervals keep the bootstrap models of the stability analysis: give their count", ErrSurvivalTarget)
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(int, int, string) {}
	}
	if err := checkUniqueIDs(spec, records); err != nil {
		return nil, err
	}
	t := spec.Target
	var rows []features.Record
	var time []float64
	var event []bool
	var index []int
	dropped, events := 0, 0
	for i, r := range records {
		tm, ev, ok, err := survivalOf(t.Time, t.Event, r, i)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSurvivalTarget, err)
		}
		if !ok {
			dropped++
			continue
		}
		rows, time, event, index = append(rows, r), append(time, tm), append(event, ev), append(index, i)
		if ev {
			events++
		}
	}
	switch {
	case len(rows) == 0:
		return nil, fmt.Errorf("%w: %s or %s is null in all %d rows", ErrSurvivalTarget, t.Time, t.Event, len(records))
	case events == 0:
		return nil, fmt.Errorf("%w: no events (%s true) among %d rows", ErrSurvivalTarget, t.Event, len(rows))
	case opts.FoldsBy == "" && events < opts.Folds: // folds by a column are its values: groupFolds checks them
		return nil, fmt.Errorf("%w: %d events (%s true) among %d rows cannot give each of %d folds one", ErrSurvivalTarget, events, t.Event, len(rows), opts.Folds)
	}

	y := make([]float64, len(rows))
	for i, e := range event {
		if e {
			y[i] = 1
		}
	}
	if opts.FoldsBy != "" {
		if opts.By != "" && opts.By != opts.FoldsBy {
			return nil, fmt.Errorf("%w: folds by %s report their metrics by %s: subgroups by %s too are not supported", ErrSurvivalTarget, opts.FoldsBy, opts.FoldsBy, opts.By)
		}
		opts.By = opts.FoldsBy
	}
	var keys []data.Value
	if opts.By != "" {
		keys = make([]data.Value, len(rows))
		for i, r := range rows {
			keys[i] = r.Value(opts.By)
		}
		if err := checkGroups(opts.By, keys); err != nil {
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
	total := opts.Folds + 1
	if opts.CrossValidateOnly {
		total = opts.Folds
	} else if opts.Instability > 0 {
		total++
	}
	progress(0, total, "")
	res := &SurvivalResult{Rows: len(rows), DroppedRows: dropped, Events: events, Options: opts, Time: time, Event: event, Fold: fold, Index: index}
	res.OOFRisk = make([]float64, len(rows))
	surv := make([][]float64, len(rows)) // out-of-fold S(t) at each of opts.Times
	grid := ibsGrid(opts.Times)
	gridSurv := make([][]float64, len(rows))
	for k := 0; k < opts.Folds; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		trainIdx, testIdx := stats.SplitFold(fold, k)
		pipe, m, lambda, err := fitSurvival(ctx, spec, pick(rows, trainIdx), pick(time, trainIdx), pick(event, trainIdx), nil, opts, uint64(k+1))
		if err != nil {
			return nil, fmt.Errorf("fold %d: %w", k+1, err)
		}
		if opts.Tune {
			res.FoldLambdas = append(res.FoldLambdas, lambda)
		}
		test, _ := pipe.TransformAll(pick(rows, testIdx))
		for j, i := range testIdx {
			x := test.Row(j)
			res.OOFRisk[i] = m.LinearPredictor(x)
			surv[i] = survivalAt(m, x, opts.Times)
			gridSurv[i] = survivalAt(m, x, grid)
		}
		progress(k+1, total, fmt.Sprintf("fold %d of %d", k+1, opts.Folds))
	}
	res.OOFSurvival = surv
	res.Metrics = survivalMetrics(time, event, res.OOFRisk, surv, gridSurv, grid, opts)
	if opts.By != "" {
		res.Groups = survivalGroups(keys, opts, time, event, res.OOFRisk, surv, gridSurv, grid)
	}
	if opts.CrossValidateOnly {
		return res, nil
	}
	pipe, m, lambda, err := fitSurvival(ctx, spec, rows, time, event, nil, opts, 0)
	if err != nil {
		return nil, fmt.Errorf("the final model: %w", err)
	}
	res.Pipeline, res.Model, res.Lambda = pipe, m, lambda
	if opts.Instability > 0 {
		progress(total-1, total, "the final model")
		members, ins, err := survivalBootstrap(ctx, spec, rows, time, event, res, opts)
		if err != nil {
			return nil, err
		}
		res.Instability = ins
		if opts.Intervals {
			res.Bootstrap = members
		}
		progress(total, total, fmt.Sprintf("%d bootstrap models", opts.Instability))
		return res, nil
	}
	progress(total, total, "the final model")
	return res, nil
}

// SurvivalInstability is how far a time-to-event model's bootstrap models'
// survival strays from its own over the training rows, at each of its
// times: the mean absolute difference (Riley and Collins's MAPE, of S(t)
// here instead of a probability of response) and the mean width of the
// rows' central 95%.
type SurvivalInstability struct {
	Bootstraps int       `json:"bootstraps"`
	Times      []float64 `json:"times"`
	MAPE       []float64 `json:"mape"`
	Width95    []float64 `json:"width_95"`
}

// survivalBootstrap develops opts.Instability bootstrap models as the model
// was (pipeline and model fitted on a bootstrap sample, with the same
// options), each from its own random stream, so that they can be fitted
// concurrently and the result is the same in any order. A Cox model tuned
// by nested cross-validation gives its bootstrap models the penalty its
// own tuning chose: tuning each again would cost the grid's five inner
// fits per bootstrap model, and inner folds would have to keep a patient's
// copies together. A boosted Cox model's early-stopping share keeps them
// together (models.Data.Groups).
func survivalBootstrap(ctx context.Context, spec *features.Spec, rows []features.Record, time []float64, event []bool, res *SurvivalResult, opts SurvivalOptions) ([]models.Member, *SurvivalInstability, error) {
	n, B := len(rows), opts.Instability
	if opts.Tune {
		opts.Tune, opts.Lambda = false, res.Lambda
	}
	kept := make([]models.Member, B)
	surv := make([][][]float64, B) // [b][row][time]
	err := parallel.For(ctx, B, func(b int) error {
		rng := rand.New(rand.NewPCG(opts.Seed, 0x5a7e<<20|uint64(b)))
		drawn, groups := make([]int, n), make([]int32, n)
		for i := range drawn {
			drawn[i] = rng.IntN(n)
			groups[i] = int32(drawn[i])
		}
		pipe, m, _, err := fitSurvival(ctx, spec, pick(rows, drawn), pick(time, drawn), pick(event, drawn), groups, opts, 1<<20+uint64(b))
		if err != nil {
			return fmt.Errorf("bootstrap model %d: %w", b+1, err)
		}
		kept[b] = models.Member{Pipeline: pipe, Survival: m}
		x, _ := pipe.TransformAll(rows)
		surv[b] = make([][]float64, n)
		for i := range n {
			surv[b][i] = survivalAt(m, x.Row(i), opts.Times)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	x, _ := res.Pipeline.TransformAll(rows)
	ins := &SurvivalInstability{Bootstraps: B, Times: opts.Times, MAPE: make([]float64, len(opts.Times)), Width95: make([]float64, len(opts.Times))}
	col := make([]float64, B)
	for i := range n {
		own := survivalAt(res.Model, x.Row(i), opts.Times)
		for k := range opts.Times {
			for b := range B {
				col[b] = surv[b][i][k]
				ins.MAPE[k] += math.Abs(col[b] - own[k])
			}
			lo, hi := stats.Central95(col)
			ins.Width95[k] += hi - lo
		}
	}
	for k := range opts.Times {
		ins.MAPE[k] /= float64(n * B)
		ins.Width95[k] /= float64(n)
	}
	return kept, ins, nil
}

// survivalGroups judges the out-of-fold predictions of each value of
// opts.By, in the order groupFolds gives the values.
func survivalGroups(keys []data.Value, opts SurvivalOptions, time []float64, event []bool, risk []float64, surv, gridSurv [][]float64, grid []float64) []SurvivalGroup {
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
	var out []SurvivalGroup
	for _, v := range values {
		var idx []int
		events := 0
		for i, k := range keys {
			if k == v {
				idx = append(idx, i)
				if event[i] {
					events++
				}
			}
		}
		g := SurvivalGroup{Value: groupName(v, opts.ByKind), N: len(idx), Events: events}
		if events > 0 {
			m := survivalMetrics(pick(time, idx), pick(event, idx), pick(risk, idx), pick(surv, idx), pick(gridSurv, idx), grid, opts)
			g.Metrics = &m
		}
		out = append(out, g)
	}
	return out
}

func survivalAt(m *models.SurvivalModel, x, times []float64) []float64 {
	out := make([]float64, len(times))
	for k, t := range times {
		out[k] = m.Survival(x, t)
	}
	return out
}

// ibsGrid is the grid of the integrated Brier score: a tenth of the last
// time to the last time, in tenths.
func ibsGrid(times []float64) []float64 {
	last := times[len(times)-1]
	grid := make([]float64, 10)
	for i := range grid {
		grid[i] = last * float64(i+1) / 10
	}
	return grid
}

// fitSurvival fits a pipeline and a time-to-event model on rows: a Cox
// model, its penalty chosen by nested cross-validation when opts.Tune, or
// a boosted Cox model with Breslow's baseline hazard of its scores.
//
// groups, if set, are the rows' patients in a bootstrap sample
// (models.Data.Groups).
func fitSurvival(ctx context.Context, spec *features.Spec, rows []features.Record, time []float64, event []bool, groups []int32, opts SurvivalOptions, seedOffset uint64) (*features.Pipeline, *models.SurvivalModel, float64, error) {
	lambda := opts.Lambda
	if opts.Tune {
		var err error
		if lambda, err = tuneCoxLambda(ctx, spec, rows, time, event, opts.Alpha, opts.Seed+seedOffset); err != nil {
			return nil, nil, 0, err
		}
	}
	pipe, err := features.Fit(spec, rows)
	if err != nil {
		return nil, nil, 0, err
	}
	x, _ := pipe.TransformAll(rows)
	if opts.Algo == models.BoostedCoxAlgo {
		y := make([]float64, len(event))
		for i, e := range event {
			if e {
				y[i] = 1
			}
		}
		g := opts.GBM
		g.Seed = opts.Seed + seedOffset
		gbm, err := models.FitGBM(ctx, &models.Data{Rows: x.Rows, Cols: x.Cols, X: x.Data, Y: y, Time: time, Groups: groups}, g)
		if err != nil {
			return nil, nil, 0, err
		}
		risk := make([]float64, x.Rows)
		for i := range risk {
			risk[i] = gbm.Score(x.Row(i))
		}
		times, cumhaz, err := stats.BreslowBaseline(time, event, risk)
		if err != nil {
			return nil, nil, 0, err
		}
		return pipe, &models.SurvivalModel{Boosted: gbm, Baseline: stats.Baseline{Times: times, CumHaz: cumhaz}}, 0, nil
	}
	m, err := stats.FitCox(matrixRows(x), time, event, stats.CoxOptions{Lambda: lambda, Alpha: opts.Alpha})
	if err != nil {
		return nil, nil, 0, err
	}
	return pipe, models.NewCoxSurvival(m), lambda, nil
}

// matrixRows views a matrix's rows as slices.
func matrixRows(m *features.Matrix) [][]float64 {
	out := make([][]float64, m.Rows)
	for i := range out {
		out[i] = m.Row(i)
	}
	return out
}

// tuneCoxLambda returns the penalty of CoxLambdaGrid with the greatest
// cross-validated partial likelihood (Verweij and van Houwelingen 1993:
// over inner folds, the log partial likelihood of all the rows less that of
// the fold's training rows, at the coefficients fitted on them), each inner
// fold with its own pipeline; ties go to the larger penalty.
func tuneCoxLambda(ctx context.Context, spec *features.Spec, rows []features.Record, time []float64, event []bool, alpha float64, seed uint64) (float64, error) {
	grid := CoxLambdaGrid()
	y := make([]float64, len(rows))
	for i, e := range event {
		if e {
			y[i] = 1
		}
	}
	fold := stats.StratifiedFolds(y, InnerFolds, seed)
	cvpl := make([][]float64, InnerFolds)
	errs := make([]error, InnerFolds)
	var wg sync.WaitGroup
	for k := range InnerFolds {
		wg.Go(func() {
			cvpl[k], errs[k] = innerPartialLikelihood(ctx, spec, rows, time, event, fold, k, grid, alpha)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	best, bestPL := 0, math.Inf(-1)
	for g := range grid {
		pl := 0.0
		for k := range cvpl { // summed in fold order: the same choice whichever finished first
			pl += cvpl[k][g]
		}
		if pl >= bestPL {
			best, bestPL = g, pl
		}
	}
	return grid[best], nil
}

func innerPartialLikelihood(ctx context.Context, spec *features.Spec, rows []features.Record, time []float64, event []bool, fold []int, k int, grid []float64, alpha float64) ([]float64, error) {
	trainIdx, _ := stats.SplitFold(fold, k)
	trainRows := pick(rows, trainIdx)
	pipe, err := features.Fit(spec, trainRows)
	if err != nil {
		return nil, fmt.Errorf("tuning the penalty, inner fold %d: %w", k+1, err)
	}
	all, _ := pipe.TransformAll(rows)
	xAll := matrixRows(all)
	xTrain := pick(xAll, trainIdx)
	tTrain, eTrain := pick(time, trainIdx), pick(event, trainIdx)
	out := make([]float64, len(grid))
	var start []float64
	for g := len(grid) - 1; g >= 0; g-- { // from the largest penalty down, each fit starting where the last ended
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, err := stats.FitCox(xTrain, tTrain, eTrain, stats.CoxOptions{Lambda: grid[g], Alpha: alpha, Start: start})
		if err != nil {
			out[g] = math.Inf(-1) // too small a penalty to fit: never chosen
			continue
		}
		start = m.Coef
		llAll, err := stats.CoxLogLik(xAll, time, event, m.Coef)
		if err != nil {
			return nil, err
		}
		out[g] = llAll - m.LogLik
	}
	return out, nil
}

// survivalMetrics judges out-of-fold predictions: risk the linear
// predictor, surv[i] the survival at opts.Times, gridSurv at grid.
func survivalMetrics(time []float64, event []bool, risk []float64, surv, gridSurv [][]float64, grid []float64, opts SurvivalOptions) SurvivalMetrics {
	neg := make([]float64, len(risk))
	for i, r := range risk {
		neg[i] = -r // higher: longer survival, as ConcordanceIndex wants
	}
	m := SurvivalMetrics{C: stats.ConcordanceIndex(time, event, neg), Times: opts.Times}
	m.CLow, m.CHigh = bootstrapC(time, event, neg, opts.Bootstrap, opts.Seed)
	g := stats.CensoringOf(time, event)
	tau := opts.Times[len(opts.Times)-1]
	m.Uno = stats.UnoC(time, event, neg, tau, g)
	m.UnoLow, m.UnoHigh = bootstrapUno(time, event, neg, tau, opts.Bootstrap, opts.Seed)
	km := stats.KaplanMeierOf(time, event)
	column := func(s [][]float64, k int) []float64 {
		out := make([]float64, len(s))
		for i := range s {
			out[i] = s[i][k]
		}
		return out
	}
	null := func(t float64) []float64 {
		out := make([]float64, len(time))
		for i := range out {
			out[i] = km.At(t)
		}
		return out
	}
	for k, t := range opts.Times {
		st := column(surv, k)
		riskAt := make([]float64, len(st))
		for i, s := range st {
			riskAt[i] = 1 - s
		}
		m.AUC = append(m.AUC, stats.TimeAUC(time, event, riskAt, t, g))
		m.Brier = append(m.Brier, stats.BrierAt(time, event, st, t, g))
		m.NullBrier = append(m.NullBrier, stats.BrierAt(time, event, null(t), t, g))
		m.Calibration = append(m.Calibration, calibrationAt(time, event, st, t))
	}
	var brier, nullBrier []float64
	for k, t := range grid {
		brier = append(brier, stats.BrierAt(time, event, column(gridSurv, k), t, g))
		nullBrier = append(nullBrier, stats.BrierAt(time, event, null(t), t, g))
	}
	m.IBS, m.NullIBS = stats.IntegratedBrier(grid, brier), stats.IntegratedBrier(grid, nullBrier)
	return m
}

// bootstrapC is the 95% percentile interval of Harrell's C over B
// resamples of the patients, drawn with seed.
func bootstrapC(time []float64, event []bool, score []float64, B int, seed uint64) (low, high float64) {
	return bootstrapIndex(time, event, score, B, seed, 0xc1d3, stats.ConcordanceIndex)
}

// bootstrapUno is the 95% percentile interval of Uno's C to tau over B
// resamples of the patients (each with its own censoring distribution).
func bootstrapUno(time []float64, event []bool, score []float64, tau float64, B int, seed uint64) (low, high float64) {
	return bootstrapIndex(time, event, score, B, seed, 0x0c0c, func(t []float64, e []bool, s []float64) float64 {
		return stats.UnoC(t, e, s, tau, stats.CensoringOf(t, e))
	})
}

// bootstrapIndex is the 95% percentile interval of index over B resamples
// of the patients, drawn with seed from the random stream given; a
// resample whose index is not finite is left out.
func bootstrapIndex(time []float64, event []bool, score []float64, B int, seed, stream uint64, index func([]float64, []bool, []float64) float64) (low, high float64) {
	rng := rand.New(rand.NewPCG(seed, stream))
	n := len(time)
	cs := make([]float64, 0, B)
	bt, bs := make([]float64, n), make([]float64, n)
	be := make([]bool, n)
	for range B {
		for i := range n {
			j := rng.IntN(n)
			bt[i], be[i], bs[i] = time[j], event[j], score[j]
		}
		if c := index(bt, be, bs); !math.IsNaN(c) && !math.IsInf(c, 0) {
			cs = append(cs, c)
		}
	}
	if len(cs) == 0 {
		return math.NaN(), math.NaN()
	}
	return stats.Central95(cs)
}

// calibrationAt groups the patients into tenths by predicted survival at
// t and sets each tenth's mean prediction beside its Kaplan-Meier estimate
// at t.
func calibrationAt(time []float64, event []bool, surv []float64, t float64) []SurvivalDecile {
	idx := make([]int, len(surv))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return surv[idx[a]] < surv[idx[b]] })
	groups := min(10, len(idx))
	out := make([]SurvivalDecile, 0, groups)
	for g := range groups {
		part := idx[g*len(idx)/groups : (g+1)*len(idx)/groups]
		var tt []float64
		var ee []bool
		mean := 0.0
		for _, i := range part {
			tt, ee = append(tt, time[i]), append(ee, event[i])
			mean += surv[i]
		}
		out = append(out, SurvivalDecile{Patients: len(part), Predicted: mean / float64(len(part)), Observed: stats.KaplanMeierOf(tt, ee).At(t)})
	}
	return out
}

// SurvivalGrid is the grid of times over which the integrated Brier score
// to the last of times is taken: a tenth of it to it, in tenths.
func SurvivalGrid(times []float64) []float64 { return ibsGrid(times) }

// JudgeSurvival judges a time-to-event model's predictions for patients
// followed for time[i], event[i]: risk[i] the log relative hazard, surv[i]
// the survival at each of times, gridSurv[i] at each time of
// SurvivalGrid(times). The C-index's interval takes bootstrap resamples
// drawn with seed. It is how RunSurvival judges its out-of-fold
// predictions, and how a validation judges a model on new patients.
func JudgeSurvival(time []float64, event []bool, risk []float64, surv, gridSurv [][]float64, times []float64, bootstrap int, seed uint64) SurvivalMetrics {
	return survivalMetrics(time, event, risk, surv, gridSurv, ibsGrid(times), SurvivalOptions{Times: times, Bootstrap: bootstrap, Seed: seed})
}

// JudgeSurvivalBy judges the predictions of each value of the column by
// (keys, of kind kind: a category, a flag, a grade; at most MaxGroups
// values) as JudgeSurvival judges them all; a value without an event has
// no metrics.
func JudgeSurvivalBy(by string, kind data.Kind, keys []data.Value, time []float64, event []bool, risk []float64, surv, gridSurv [][]float64, times []float64, bootstrap int, seed uint64) ([]SurvivalGroup, error) {
	if err := checkGroups(by, keys); err != nil {
		return nil, err
	}
	opts := SurvivalOptions{Times: times, Bootstrap: bootstrap, Seed: seed, By: by, ByKind: kind}
	return survivalGroups(keys, opts, time, event, risk, surv, gridSurv, ibsGrid(times)), nil
}

// SurvivalOutcome reads record r's (the i-th, from 0) follow-up and event
// for the spec's time-to-event target; ok is false where either is null,
// and a negative time or an event other than true/false or 0/1 is an error
// naming the row and the column.
func SurvivalOutcome(spec *features.Spec, r features.Record, i int) (time float64, event, ok bool, err error) {
	return survivalOf(spec.Target.Time, spec.Target.Event, r, i)
}

// survivalMetricsJSON is SurvivalMetrics as JSON: a figure that cannot be
// computed (NaN: a C-index of a subgroup without a comparable pair, an AUC
// at a time without a case) is null, which JSON can hold.
type survivalMetricsJSON struct {
	C           *float64           `json:"c_index"`
	CLow        *float64           `json:"c_index_low"`
	CHigh       *float64           `json:"c_index_high"`
	Uno         *float64           `json:"uno_c"`
	UnoLow      *float64           `json:"uno_c_low"`
	UnoHigh     *float64           `json:"uno_c_high"`
	Times       []float64          `json:"times"`
	AUC         []*float64         `json:"auc"`
	Brier       []*float64         `json:"brier"`
	NullBrier   []*float64         `json:"null_brier"`
	Calibration [][]SurvivalDecile `json:"calibration"`
	IBS         *float64           `json:"ibs"`
	NullIBS     *float64           `json:"null_ibs"`
}

func nullable(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func nullables(xs []float64) []*float64 {
	out := make([]*float64, len(xs))
	for i, x := range xs {
		out[i] = nullable(x)
	}
	return out
}

func orNaN(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func orNaNs(ps []*float64) []float64 {
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = orNaN(p)
	}
	return out
}

// MarshalJSON writes m with null for what could not be computed.
func (m SurvivalMetrics) MarshalJSON() ([]byte, error) {
	return json.Marshal(survivalMetricsJSON{C: nullable(m.C), CLow: nullable(m.CLow), CHigh: nullable(m.CHigh),
		Uno: nullable(m.Uno), UnoLow: nullable(m.UnoLow), UnoHigh: nullable(m.UnoHigh), Times: m.Times,
		AUC: nullables(m.AUC), Brier: nullables(m.Brier), NullBrier: nullables(m.NullBrier), Calibration: m.Calibration,
		IBS: nullable(m.IBS), NullIBS: nullable(m.NullIBS)})
}

// UnmarshalJSON reads what MarshalJSON wrote, null as NaN.
func (m *SurvivalMetrics) UnmarshalJSON(b []byte) error {
	var j survivalMetricsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*m = SurvivalMetrics{C: orNaN(j.C), CLow: orNaN(j.CLow), CHigh: orNaN(j.CHigh), Uno: orNaN(j.Uno), UnoLow: orNaN(j.UnoLow),
		UnoHigh: orNaN(j.UnoHigh), Times: j.Times, AUC: orNaNs(j.AUC), Brier: orNaNs(j.Brier), NullBrier: orNaNs(j.NullBrier),
		Calibration: j.Calibration, IBS: orNaN(j.IBS), NullIBS: orNaN(j.NullIBS)}
	return nil
}
