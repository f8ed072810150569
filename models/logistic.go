package models

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Logistic is an L2-penalized logistic regression with an unpenalized
// intercept: it minimizes sum(log loss) + lambda/2 ||w||^2, the objective of
// scikit-learn's LogisticRegression with C = 1/lambda.
type Logistic struct {
	Intercept float64   `json:"intercept"`
	Coef      []float64 `json:"coef"`
	Lambda    float64   `json:"lambda"`
	Iter      int       `json:"iterations"`
}

// LogisticOptions configure FitLogistic.
type LogisticOptions struct {
	Lambda  float64 // L2 penalty; default 1
	MaxIter int     // Newton iterations; default 100
	Tol     float64 // stop when the largest step is below Tol; default 1e-10
	// Start, if set, is where Newton's method starts: the coefficients
	// and then the intercept, as of a fit with a nearby penalty (a warm
	// start, which saves iterations when penalties are tried in turn).
	Start []float64
}

// FitLogistic fits by Newton-Raphson with step halving; the penalized
// objective is strictly convex for lambda > 0, so the solution is unique and
// does not depend on a seed.
func FitLogistic(d *Data, opts LogisticOptions) (*Logistic, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	if opts.Lambda == 0 {
		opts.Lambda = 1
	}
	if opts.Lambda < 0 {
		return nil, fmt.Errorf("logistic: lambda %v must be positive", opts.Lambda)
	}
	if opts.MaxIter == 0 {
		opts.MaxIter = 100
	}
	if opts.Tol == 0 {
		opts.Tol = 1e-10
	}
	n, p := d.Rows, d.Cols
	k := p + 1 // intercept last
	beta := make([]float64, k)
	if opts.Start != nil {
		if len(opts.Start) != k {
			return nil, fmt.Errorf("logistic: a start of %d values for %d coefficients and the intercept", len(opts.Start), p)
		}
		copy(beta, opts.Start)
	}
	eta := make([]float64, n)
	objective := func(b []float64) float64 {
		var f float64
		for i := 0; i < n; i++ {
			z := b[p] + dot(d.Row(i), b[:p])
			eta[i] = z
			f += log1pexp(z) - d.Y[i]*z
		}
		return f + opts.Lambda/2*dot(b[:p], b[:p])
	}
	f := objective(beta)
	grad := make([]float64, k)
	hess := mat.NewSymDense(k, nil)
	xt := make([]float64, k)
	step := make([]float64, k)
	trial := make([]float64, k)
	for it := 1; it <= opts.MaxIter; it++ {
		clear(grad)
		hess.Zero()
		for i := 0; i < n; i++ {
			pr := sigmoid(eta[i])
			w := pr * (1 - pr)
			copy(xt, d.Row(i))
			xt[p] = 1
			r := pr - d.Y[i]
			for a := 0; a < k; a++ {
				grad[a] += r * xt[a]
			}
			hess.SymRankOne(hess, w, mat.NewVecDense(k, xt))
		}
		for a := 0; a < p; a++ {
			grad[a] += opts.Lambda * beta[a]
			hess.SetSym(a, a, hess.At(a, a)+opts.Lambda)
		}
		var chol mat.Cholesky
		if !chol.Factorize(hess) {
			return nil, errors.New("logistic: Hessian not positive definite (is the intercept column constant?)")
		}
		s := mat.NewVecDense(k, step)
		if err := chol.SolveVecTo(s, mat.NewVecDense(k, grad)); err != nil {
			return nil, fmt.Errorf("logistic: %w", err)
		}
		// Step halving keeps every iteration downhill.
		t := 1.0
		var fNew float64
		for h := 0; h < 50; h++ {
			for a := range beta {
				trial[a] = beta[a] - t*step[a]
			}
			if fNew = objective(trial); fNew <= f {
				break
			}
			t /= 2
		}
		maxStep := 0.0
		for a := range beta {
			maxStep = math.Max(maxStep, math.Abs(beta[a]-trial[a]))
		}
		copy(beta, trial)
		f = fNew
		if maxStep < opts.Tol {
			return &Logistic{Intercept: beta[p], Coef: beta[:p:p], Lambda: opts.Lambda, Iter: it}, nil
		}
	}
	return nil, fmt.Errorf("logistic: no convergence in %d iterations", opts.MaxIter)
}

// Algo implements Classifier.
func (m *Logistic) Algo() string { return "logistic" }

// Score implements Classifier.
func (m *Logistic) Score(x []float64) float64 { return m.Intercept + dot(x, m.Coef) }

// Contributions implements Classifier: coefficient times value, in log-odds.
func (m *Logistic) Contributions(x []float64, dst []float64) float64 {
	for j, c := range m.Coef {
		dst[j] = c * x[j]
	}
	return m.Intercept
}

func (m *Logistic) validate() error {
	for _, c := range append([]float64{m.Intercept}, m.Coef...) {
		if math.IsNaN(c) || math.IsInf(c, 0) {
			return errors.New("non-finite coefficient")
		}
	}
	return nil
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range b {
		s += a[i] * b[i]
	}
	return s
}
