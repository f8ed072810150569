package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// CorrectedDiff is the mean of two models' per-fold differences over
// repeated k-fold cross-validation on the same folds, with a 95% interval
// from the corrected resampled t.
type CorrectedDiff struct {
	Mean, Low, High float64
	N               int // test folds: repeats times folds
}

// CorrectedResampledT returns the mean of per-fold differences d between two
// models (repeats of k-fold cross-validation, both models on the same folds,
// len(d) = repeats x k) and its 95% interval from the corrected resampled t
// (Nadeau and Bengio, Mach Learn 2003;52:239; for repeated k-fold, Bouckaert
// and Frank, PAKDD 2004): the folds' training sets overlap, so the variance
// of the mean is not s²/n but s²(1/n + n_test/n_train), with n_test/n_train
// = 1/(k-1), on n-1 degrees of freedom. The plain t interval, which ignores
// the overlap, is too narrow: it calls differences significant far more
// often than it should.
func CorrectedResampledT(d []float64, k int) (CorrectedDiff, error) {
	n := len(d)
	if k < 2 || n < 2 || n%k != 0 {
		return CorrectedDiff{}, fmt.Errorf("corrected resampled t: %d differences for %d folds: %w", n, k, errTooFewFolds)
	}
	mean, sd := stat.MeanStdDev(d, nil)
	se := sd * math.Sqrt(1/float64(n)+1/float64(k-1))
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.975)
	return CorrectedDiff{Mean: mean, Low: mean - q*se, High: mean + q*se, N: n}, nil
}

var errTooFewFolds = errors.New("want at least two folds and a whole number of repeats")
