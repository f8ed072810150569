package stats

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// The Cox model is written out because no maintained Go library fits one
// (gonum has none, nor elastic-net penalties); it is checked against R's
// survival (coxph, survfit) and glmnet in cox_test.go, with the reference
// values and the script that made them in testdata/cox.

// CoxOptions configure FitCox.
type CoxOptions struct {
	// Lambda and Alpha set an elastic-net penalty on the coefficients, in
	// glmnet's form: FitCox minimises -loglik/n + Lambda x (Alpha x |b|_1 +
	// (1-Alpha)/2 x |b|^2), n the patients. Lambda 0 is no penalty (R's
	// coxph); Alpha 0 is ridge, 1 the lasso.
	Lambda, Alpha float64
	// MaxIter bounds the Newton iterations (default 100).
	MaxIter int
	// Start, if set, are the coefficients to start from (a neighbouring
	// penalty's fit); nil starts from 0.
	Start []float64
}

// Cox is a fitted Cox proportional hazards model: Efron's handling of tied
// event times, and Breslow's estimate of the cumulative baseline hazard.
type Cox struct {
	Coef []float64 `json:"coef"`
	// LogLik is Efron's log partial likelihood at Coef.
	LogLik     float64 `json:"loglik"`
	Iterations int     `json:"iterations"`
	// Baseline is Breslow's cumulative baseline hazard, for a patient
	// whose covariates are all 0 (its fields are the model's in JSON).
	Baseline
}

// Baseline is a cumulative baseline hazard: at each distinct event time,
// ascending (Times), the hazard summed to just after it (CumHaz), a step
// function from which a patient with log relative hazard lp has survival
// exp(-H0(t) exp(lp)).
type Baseline struct {
	Times  []float64 `json:"times"`
	CumHaz []float64 `json:"cumhaz"`
}

// CumHazAt is the cumulative hazard at time t: 0 before the first event.
func (b Baseline) CumHazAt(t float64) float64 {
	k := sort.SearchFloat64s(b.Times, t)
	if k < len(b.Times) && b.Times[k] == t {
		return b.CumHaz[k]
	}
	if k == 0 {
		return 0
	}
	return b.CumHaz[k-1]
}

// SurvivalAt is the probability of being event-free at t of a patient
// with log relative hazard lp.
func (b Baseline) SurvivalAt(lp, t float64) float64 {
	return math.Exp(-b.CumHazAt(t) * math.Exp(lp))
}

// MedianAt is the first event time at which the survival of a patient
// with log relative hazard lp reaches one half or less; ok is false when
// it stays above one half over the follow-up.
func (b Baseline) MedianAt(lp float64) (t float64, ok bool) {
	// S <= 0.5 where H0 >= ln 2 / exp(lp).
	k := sort.SearchFloat64s(b.CumHaz, math.Ln2/math.Exp(lp))
	if k == len(b.CumHaz) {
		return 0, false
	}
	return b.Times[k], true
}

// coxData is a data set ordered for the risk sets: by time, descending,
// so that the patients at risk at a time are a prefix.
type coxData struct {
	x     [][]float64
	time  []float64
	event []bool
	order []int
	// groups are the runs of order that share a time, in order.
	groups [][2]int
	p      int
}

func newCoxData(x [][]float64, time []float64, event []bool) (*coxData, error) {
	n := len(time)
	if len(x) != n || len(event) != n {
		return nil, fmt.Errorf("%w: %d rows of covariates, %d times and %d event flags", ErrCox, len(x), n, len(event))
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no patients", ErrCox)
	}
	p := len(x[0])
	events := 0
	for i := range time {
		if !(time[i] >= 0) || math.IsInf(time[i], 0) {
			return nil, fmt.Errorf("%w: row %d: time %v is not a finite number >= 0", ErrCox, i+1, time[i])
		}
		if len(x[i]) != p {
			return nil, fmt.Errorf("%w: row %d has %d covariates, row 1 has %d", ErrCox, i+1, len(x[i]), p)
		}
		for j, v := range x[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: row %d, covariate %d: %v is not a finite number", ErrCox, i+1, j+1, v)
			}
		}
		if event[i] {
			events++
		}
	}
	if events == 0 {
		return nil, fmt.Errorf("%w: no events among %d patients: a hazard cannot be estimated", ErrCox, n)
	}
	d := &coxData{x: x, time: time, event: event, p: p, order: make([]int, n)}
	for i := range d.order {
		d.order[i] = i
	}
	sort.SliceStable(d.order, func(a, b int) bool { return time[d.order[a]] > time[d.order[b]] })
	for k := 0; k < n; {
		end := k
		for end < n && time[d.order[end]] == time[d.order[k]] {
			end++
		}
		d.groups = append(d.groups, [2]int{k, end})
		k = end
	}
	return d, nil
}

// eval returns Efron's log partial likelihood at beta and, when grad is
// not nil, its gradient in grad and the information (minus its Hessian)
// in info (p x p, row-major).
func (d *coxData) eval(beta []float64, grad, info []float64) float64 {
	p := d.p
	eta := make([]float64, len(d.time))
	c := math.Inf(-1) // exp(eta - c): no overflow for large linear predictors
	for i, xi := range d.x {
		for j, v := range xi {
			eta[i] += v * beta[j]
		}
		c = math.Max(c, eta[i])
	}
	withDeriv := grad != nil
	var s0, d0 float64
	var s1, d1, s2, d2, a1 []float64
	if withDeriv {
		clear(grad)
		clear(info)
		s1, d1, a1 = make([]float64, p), make([]float64, p), make([]float64, p)
		s2, d2 = make([]float64, p*p), make([]float64, p*p)
	}
	ll := 0.0
	for _, g := range d.groups {
		d0 = 0
		if withDeriv {
			clear(d1)
			clear(d2)
		}
		nd := 0
		for _, i := range d.order[g[0]:g[1]] {
			r := math.Exp(eta[i] - c)
			s0 += r
			if d.event[i] {
				d0 += r
				nd++
				ll += eta[i]
			}
			if !withDeriv {
				continue
			}
			// The sums of the risk set, and of the events among it: the
			// same additions in the same order either way, the test of
			// the event made once a row rather than once a product
			// (most of a Cox fit's time is here).
			xi := d.x[i][:p]
			if !d.event[i] {
				for j, xj := range xi {
					rx := r * xj
					s1[j] += rx
					row := s2[j*p : j*p+j+1]
					for k, xk := range xi[:j+1] {
						row[k] += rx * xk
					}
				}
				continue
			}
			for j, xj := range xi {
				rx := r * xj
				s1[j] += rx
				d1[j] += rx
				grad[j] += xj
				row, drow := s2[j*p:j*p+j+1], d2[j*p:j*p+j+1]
				for k, xk := range xi[:j+1] {
					row[k] += rx * xk
					drow[k] += rx * xk
				}
			}
		}
		// Efron: the l-th of the nd tied events sees the risk set less l/nd
		// of the tied events' own weight.
		for l := 0; l < nd; l++ {
			f := float64(l) / float64(nd)
			z0 := s0 - f*d0
			ll -= math.Log(z0) + c
			if !withDeriv {
				continue
			}
			// A multiplication by 1/z0 where a division was: this loop
			// runs once per event over p x p sums.
			inv := 1 / z0
			for j := 0; j < p; j++ {
				a1[j] = (s1[j] - f*d1[j]) * inv
				grad[j] -= a1[j]
			}
			for j := 0; j < p; j++ {
				irow, srow, drow, aj := info[j*p:j*p+j+1], s2[j*p:j*p+j+1], d2[j*p:j*p+j+1], a1[j]
				for k := range irow {
					irow[k] += (srow[k]-f*drow[k])*inv - aj*a1[k]
				}
			}
		}
	}
	if withDeriv {
		for j := 0; j < p; j++ {
			for k := 0; k < j; k++ {
				info[k*p+j] = info[j*p+k]
			}
		}
	}
	return ll
}

// CoxLogLik is Efron's log partial likelihood of the coefficients beta on
// the data: with a fit's coefficients, on more patients than it saw, the
// cross-validated partial likelihood of Verweij and van Houwelingen (Stat
// Med 1993) is a difference of two.
func CoxLogLik(x [][]float64, time []float64, event []bool, beta []float64) (float64, error) {
	d, err := newCoxData(x, time, event)
	if err != nil {
		return 0, err
	}
	if len(beta) != d.p {
		return 0, fmt.Errorf("%w: %d coefficients for %d covariates", ErrCox, len(beta), d.p)
	}
	return d.eval(beta, nil, nil), nil
}

// ErrCoxConvergence is wrapped by FitCox's error when the fit does not
// converge: the partial likelihood has no finite maximum (an event
// predicted perfectly by a covariate) and no penalty holds it.
var ErrCoxConvergence = errors.New("the Cox model did not converge")

// FitCox fits the Cox proportional hazards model of time[i], event[i]
// (true: the event ended follow-up; false: censored then) on the
// covariates x[i], by Newton's method on the penalised partial likelihood
// (proximal Newton with coordinate descent when the penalty has an L1
// part), from coefficients of 0. The caller standardises the covariates
// when the penalty should treat them alike.
func FitCox(x [][]float64, time []float64, event []bool, o CoxOptions) (*Cox, error) {
	d, err := newCoxData(x, time, event)
	if err != nil {
		return nil, err
	}
	if o.Lambda < 0 || o.Alpha < 0 || o.Alpha > 1 || math.IsNaN(o.Lambda) || math.IsNaN(o.Alpha) {
		return nil, fmt.Errorf("%w: penalty %v with L1 share %v: want a penalty >= 0 and a share in [0, 1]", ErrCox, o.Lambda, o.Alpha)
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 100
	}
	p, n := d.p, float64(len(time))
	l1, l2 := o.Lambda*o.Alpha, o.Lambda*(1-o.Alpha)
	objective := func(b []float64, ll float64) float64 {
		f := -ll / n
		for _, v := range b {
			f += l1*math.Abs(v) + l2/2*v*v
		}
		return f
	}
	beta := make([]float64, p)
	if len(o.Start) == p {
		copy(beta, o.Start)
	}
	grad, info := make([]float64, p), make([]float64, p*p)
	ll := d.eval(beta, grad, info)
	obj := objective(beta, ll)
	next, step := make([]float64, p), make([]float64, p)
	iter := 0
	converged := false
	for ; iter < o.MaxIter; iter++ {
		// The smooth part's gradient G and Hessian H, per patient.
		G := make([]float64, p)
		H := make([]float64, p*p)
		for j := 0; j < p; j++ {
			G[j] = -grad[j]/n + l2*beta[j]
			for k := 0; k < p; k++ {
				H[j*p+k] = info[j*p+k] / n
			}
			H[j*p+j] += l2
		}
		if err := newtonStep(G, H, beta, l1, step); err != nil {
			if iter > 0 {
				// The information vanished on the way: the coefficients
				// run off to infinity.
				break
			}
			return nil, err
		}
		// Backtracking on the objective, from the full step.
		decrease := 0.0
		for j := 0; j < p; j++ {
			decrease += G[j]*step[j] + l1*(math.Abs(beta[j]+step[j])-math.Abs(beta[j]))
		}
		t := 1.0
		var nll, nobj float64
		for half := 0; ; half++ {
			for j := range next {
				next[j] = beta[j] + t*step[j]
			}
			nll = d.eval(next, nil, nil)
			nobj = objective(next, nll)
			if nobj <= obj+1e-4*t*decrease || half == 50 {
				break
			}
			t /= 2
		}
		maxStep := 0.0
		for j := range step {
			maxStep = math.Max(maxStep, math.Abs(t*step[j]))
		}
		copy(beta, next)
		change := obj - nobj
		obj = nobj
		ll = d.eval(beta, grad, info)
		if maxStep < 1e-10 || (change >= 0 && change <= 1e-15*(1+math.Abs(obj)) && maxStep < 1e-6) {
			converged = true
			iter++
			break
		}
	}
	for _, b := range beta {
		if math.IsNaN(b) || math.IsInf(b, 0) || math.Abs(b) > 1e3 {
			converged = false
		}
	}
	if !converged {
		return nil, fmt.Errorf("%w in %d iterations: a covariate predicts the events perfectly, or the data are too few for it (a penalty helps)", ErrCoxConvergence, iter)
	}
	m := &Cox{Coef: beta, LogLik: ll, Iterations: iter}
	m.baseline(d)
	return m, nil
}

// newtonStep sets step to the minimiser of the quadratic model G.s +
// s'Hs/2 + l1 |beta+s|_1: by a Cholesky solve without an L1 part, by
// coordinate descent with one.
func newtonStep(G, H, beta []float64, l1 float64, step []float64) error {
	p := len(G)
	if l1 == 0 {
		var ch mat.Cholesky
		if !ch.Factorize(mat.NewSymDense(p, append([]float64(nil), H...))) {
			return fmt.Errorf("%w: the information matrix is singular: a covariate is constant or a combination of others (a penalty helps)", ErrCox)
		}
		s := mat.NewVecDense(p, nil)
		if err := ch.SolveVecTo(s, mat.NewVecDense(p, append([]float64(nil), G...))); err != nil {
			return fmt.Errorf("%w: %v", ErrCox, err)
		}
		for j := range step {
			step[j] = -s.AtVec(j)
		}
		return nil
	}
	z := append([]float64(nil), beta...)
	for sweep := 0; sweep < 10000; sweep++ {
		maxChange := 0.0
		for j := 0; j < p; j++ {
			hjj := H[j*p+j]
			if hjj <= 0 {
				z[j] = 0
				continue
			}
			// The smooth part's derivative in z_j, without z_j's own term.
			g := G[j]
			for k := 0; k < p; k++ {
				g += H[j*p+k] * (z[k] - beta[k])
			}
			u := hjj*z[j] - g
			v := softThreshold(u, l1) / hjj
			maxChange = math.Max(maxChange, math.Abs(v-z[j]))
			z[j] = v
		}
		if maxChange < 1e-15 {
			break
		}
	}
	for j := range step {
		step[j] = z[j] - beta[j]
	}
	return nil
}

func softThreshold(u, l float64) float64 {
	switch {
	case u > l:
		return u - l
	case u < -l:
		return u + l
	}
	return 0
}

// baseline sets Times and CumHaz: Breslow's cumulative baseline hazard at
// the fitted coefficients.
func (m *Cox) baseline(d *coxData) {
	eta := make([]float64, len(d.time))
	for i, xi := range d.x {
		for j, v := range xi {
			eta[i] += v * m.Coef[j]
		}
	}
	m.Baseline.Times, m.Baseline.CumHaz = breslow(d, eta)
}

// BreslowBaseline is Breslow's estimate of the cumulative baseline hazard
// of patients with log relative hazards risk: at each distinct event time,
// ascending, the events over the sum of exp(risk) of the patients at risk,
// summed. It is the baseline of any model of a log relative hazard (a Cox
// model's, a boosted one's).
func BreslowBaseline(time []float64, event []bool, risk []float64) (times, cumhaz []float64, err error) {
	x := make([][]float64, len(time))
	for i := range x {
		x[i] = []float64{}
	}
	d, err := newCoxData(x, time, event)
	if err != nil {
		return nil, nil, err
	}
	if len(risk) != len(time) {
		return nil, nil, fmt.Errorf("%w: %d risks for %d patients", ErrCox, len(risk), len(time))
	}
	times, cumhaz = breslow(d, risk)
	return times, cumhaz, nil
}

func breslow(d *coxData, eta []float64) (times, cumhaz []float64) {
	var s0 float64
	var ts, hazards []float64
	for _, g := range d.groups { // longest time first
		events := 0
		for _, i := range d.order[g[0]:g[1]] {
			s0 += math.Exp(eta[i])
			if d.event[i] {
				events++
			}
		}
		if events > 0 {
			ts = append(ts, d.time[d.order[g[0]]])
			hazards = append(hazards, float64(events)/s0)
		}
	}
	times, cumhaz = make([]float64, len(ts)), make([]float64, len(ts))
	cum := 0.0
	for k := len(ts) - 1; k >= 0; k-- {
		cum += hazards[k]
		times[len(ts)-1-k] = ts[k]
		cumhaz[len(ts)-1-k] = cum
	}
	return times, cumhaz
}

// LinearPredictor is x.b, the log relative hazard of a patient with
// covariates x.
func (m *Cox) LinearPredictor(x []float64) float64 {
	lp := 0.0
	for j, v := range x {
		lp += v * m.Coef[j]
	}
	return lp
}

// Survival is the probability that a patient with covariates x is
// event-free at time t: exp(-H0(t) exp(x.b)).
func (m *Cox) Survival(x []float64, t float64) float64 {
	return m.SurvivalAt(m.LinearPredictor(x), t)
}

// Median is the predicted median time to the event of a patient with
// covariates x (Baseline.MedianAt).
func (m *Cox) Median(x []float64) (t float64, ok bool) {
	return m.MedianAt(m.LinearPredictor(x))
}
