package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// InnerFolds is the number of folds of the cross-validation that tunes a
// penalty within each fit's rows.
const InnerFolds = 5

// LambdaGrid returns the L2 penalties that Options.Tune chooses among:
// 10^-2 to 10^3 in half decades. The logistic regression's loss is a sum
// over rows, so a cohort of a few hundred patients wants a penalty near the
// top of it, and one of a hundred thousand one near the bottom.
func LambdaGrid() []float64 {
	grid := make([]float64, 11)
	for i := range grid {
		grid[i] = math.Pow(10, float64(i-4)/2)
	}
	return grid
}

// tuneLambda returns the penalty of LambdaGrid with the least log loss over
// an inner stratified cross-validation of rows, each inner fold with its own
// pipeline; ties go to the larger penalty. It sees only the rows it is
// given, which in a training run are one outer fold's training rows: the
// outer out-of-fold metrics then judge the tuning too (nested
// cross-validation). The inner folds run in parallel, each trying the
// penalties from the largest down, each fit starting where the last ended.
//
// groups, if set, are the rows' groups (a bootstrap sample's copies of a
// patient share one), each kept in one inner fold.
func tuneLambda(ctx context.Context, spec *features.Spec, rows []features.Record, y []float64, groups []int32, opts models.LogisticOptions, seed uint64) (float64, error) {
	grid := LambdaGrid()
	fold := stats.GroupedStratifiedFolds(y, groups, InnerFolds, seed)
	losses := make([][]float64, InnerFolds)
	errs := make([]error, InnerFolds)
	var wg sync.WaitGroup
	for k := range InnerFolds {
		wg.Go(func() {
			losses[k], errs[k] = innerLosses(ctx, spec, rows, y, fold, k, grid, opts)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	// Summed in fold order, so that the choice does not depend on which
	// goroutine finished first.
	loss := make([]float64, len(grid))
	for _, l := range losses {
		for g := range grid {
			loss[g] += l[g]
		}
	}
	best := 0
	for g := range grid {
		if loss[g] <= loss[best] {
			best = g
		}
	}
	return grid[best], nil
}

// innerLosses returns the summed log loss on inner fold k of a model fitted
// on the other inner folds, for each penalty of grid.
func innerLosses(ctx context.Context, spec *features.Spec, rows []features.Record, y []float64, fold []int, k int, grid []float64, opts models.LogisticOptions) ([]float64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	trainIdx, testIdx := stats.SplitFold(fold, k)
	trainRows := pick(rows, trainIdx)
	pipe, err := features.Fit(spec, trainRows)
	if err != nil {
		return nil, fmt.Errorf("tuning the penalty, inner fold %d: %w", k+1, err)
	}
	xtr, _ := pipe.TransformAll(trainRows)
	xte, _ := pipe.TransformAll(pick(rows, testIdx))
	yte := pick(y, testIdx)
	d := &models.Data{Rows: xtr.Rows, Cols: xtr.Cols, X: xtr.Data, Y: pick(y, trainIdx)}
	p := make([]float64, len(testIdx))
	loss := make([]float64, len(grid))
	var start []float64
	for g := len(grid) - 1; g >= 0; g-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := opts
		o.Lambda, o.Start = grid[g], start
		m, err := models.FitLogistic(d, o)
		if err != nil {
			return nil, fmt.Errorf("tuning the penalty, inner fold %d, lambda %g: %w", k+1, grid[g], err)
		}
		start = append(append(start[:0], m.Coef...), m.Intercept)
		for j := range p {
			p[j] = stats.Sigmoid(m.Score(xte.Row(j)))
		}
		loss[g] = stats.LogLoss(p, yte) * float64(len(p))
	}
	return loss, nil
}

// FormatLambda writes a penalty of the grid as briefly as it reads: 0.01,
// 0.0316, 3.16, 316, 1000.
func FormatLambda(l float64) string {
	if l >= 100 {
		return fmt.Sprintf("%.0f", l)
	}
	return fmt.Sprintf("%.3g", l)
}

// TunedLambda describes, with Options.Tune, the penalty the final model was
// given and those of the outer folds: "10 (per fold: 10, 3.16, 10, 10,
// 31.6)"; "" without tuning.
func (r *Result) TunedLambda() string {
	l, ok := r.Model.(*models.Logistic)
	if !ok || !r.Options.Tune {
		return ""
	}
	folds := make([]string, len(r.FoldLambdas))
	for i, f := range r.FoldLambdas {
		folds[i] = FormatLambda(f)
	}
	return fmt.Sprintf("%s (per fold: %s)", FormatLambda(l.Lambda), strings.Join(folds, ", "))
}

// LambdaRange describes LambdaGrid, as the card says it.
func LambdaRange() string {
	g := LambdaGrid()
	return fmt.Sprintf("%d values from %s to %s", len(g), FormatLambda(g[0]), FormatLambda(g[len(g)-1]))
}
