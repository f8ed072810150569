package models

import (
	"context"
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/abscopal/abscopal/internal/parallel"
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
		parts := make([]float64, newtonChunks)
		eachChunk(n, func(c, lo, hi int) {
			var f float64
			for i := lo; i < hi; i++ {
				z := b[p] + floats.Dot(d.Row(i), b[:p])
				eta[i] = z
				f += log1pexp(z) - d.Y[i]*z
			}
			parts[c] = f
		})
		var f float64
		for _, x := range parts { // in chunk order: the same sum on any number of cores
			f += x
		}
		return f + opts.Lambda/2*dot(b[:p], b[:p])
	}
	f := objective(beta)
	grad := make([]float64, k)
	hess := mat.NewSymDense(k, nil)
	step := make([]float64, k)
	trial := make([]float64, k)
	// Each chunk of rows sums its own gradient and Hessian (X'WX, by
	// gonum's blocked BLAS on blocks of rows scaled by sqrt(w)); the chunks
	// are added in order.
	const block = 512
	// A chunk's block of scaled rows is made once, no larger than the
	// chunk: a fit on a few hundred rows, of which tuning makes thousands,
	// spent a quarter of its time clearing blocks of 512 made at every step.
	gs, hs, bufs := make([][]float64, newtonChunks), make([]blas64.Symmetric, newtonChunks), make([]blas64.General, newtonChunks)
	for c := range gs {
		gs[c], hs[c] = make([]float64, k), blas64.Symmetric{Uplo: blas.Upper, N: k, Stride: k, Data: make([]float64, k*k)}
		rows := min(block, (c+1)*n/newtonChunks-c*n/newtonChunks)
		bufs[c] = blas64.General{Rows: rows, Cols: k, Stride: k, Data: make([]float64, rows*k)}
	}
	// On many rows the Hessian comes from every hstride-th row, scaled:
	// it only steers the steps (the gradient and the objective use every
	// row, and the fit stops on the step's size), and a quarter of a
	// million rows estimate it to a fraction of a percent (subsampled
	// Newton, Byrd et al., SIAM J Optim 2011;21:977).
	hstride := max(1, n/250_000)
	// Near the optimum the Hessian hardly changes: a step there reuses the
	// last one's factorization (the chord method), which costs a pass for
	// the gradient alone, a sixteenth of a Hessian's at 30 features; it
	// still converges (linearly, each step gaining digits while the
	// Hessian is close), and a step that does not shrink goes back to a
	// fresh Hessian.
	const chordBelow = 1e-2
	var chol mat.Cholesky
	fresh, lastStep := true, math.Inf(1)
	for it := 1; it <= opts.MaxIter; it++ {
		eachChunk(n, func(c, lo, hi int) {
			g, h := gs[c], hs[c]
			clear(g)
			if !fresh {
				for i := lo; i < hi; i++ {
					r := sigmoid(eta[i]) - d.Y[i]
					floats.AddScaled(g[:p], r, d.Row(i))
					g[p] += r
				}
				return
			}
			clear(h.Data)
			buf := bufs[c]
			m := 0
			flush := func() {
				buf.Rows = m
				blas64.Syrk(blas.Trans, float64(hstride), buf, 1, h)
				m = 0
			}
			for i := lo; i < hi; i++ {
				x := d.Row(i)
				pr := sigmoid(eta[i])
				r := pr - d.Y[i]
				floats.AddScaled(g[:p], r, x)
				g[p] += r
				if i%hstride != 0 {
					continue
				}
				sw := math.Sqrt(pr * (1 - pr))
				row := buf.Data[m*k : (m+1)*k]
				for a, xa := range x {
					row[a] = sw * xa
				}
				row[p] = sw
				if m++; m == len(buf.Data)/k {
					flush()
				}
			}
			if m > 0 {
				flush()
			}
		})
		clear(grad)
		for c := range gs {
			for a := 0; a < k; a++ {
				grad[a] += gs[c][a]
			}
		}
		for a := 0; a < p; a++ {
			grad[a] += opts.Lambda * beta[a]
		}
		if fresh {
			hess.Zero()
			for c := range hs {
				for a := 0; a < k; a++ {
					for b := a; b < k; b++ {
						hess.SetSym(a, b, hess.At(a, b)+hs[c].Data[a*k+b])
					}
				}
			}
			for a := 0; a < p; a++ {
				hess.SetSym(a, a, hess.At(a, a)+opts.Lambda)
			}
			if !chol.Factorize(hess) {
				return nil, errors.New("logistic: Hessian not positive definite (is the intercept column constant?)")
			}
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
			// Within rounding of a sum over every row, a step is no worse:
			// near the optimum, halving on the sum's noise would spend
			// fifty passes on nothing.
			if fNew = objective(trial); fNew <= f+1e-13*math.Abs(f) {
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
		// A chord step that had to be halved, or gained less than a
		// digit, asks for a fresh Hessian.
		fresh = maxStep >= chordBelow || t < 1 || (!fresh && maxStep > lastStep/10)
		lastStep = maxStep
	}
	return nil, fmt.Errorf("logistic: no convergence in %d iterations", opts.MaxIter)
}

// newtonChunks is how many chunks of rows a Newton step's sums are split
// into: a fixed number, not one per core, so that the sums, added in
// chunk order, and so the model are the same bits on any machine.
const newtonChunks = 16

// eachChunk calls f on each of newtonChunks chunks of n rows (c, rows lo
// to hi), concurrently when there are enough rows to pay for it.
func eachChunk(n int, f func(c, lo, hi int)) {
	bounds := func(c int) (int, int) { return c * n / newtonChunks, (c + 1) * n / newtonChunks }
	if n < 4096 {
		for c := range newtonChunks {
			lo, hi := bounds(c)
			f(c, lo, hi)
		}
		return
	}
	parallel.For(context.Background(), newtonChunks, func(c int) error {
		lo, hi := bounds(c)
		f(c, lo, hi)
		return nil
	})
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
