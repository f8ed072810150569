package stats

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// coxReference is testdata/cox/reference.json, made by make_reference.R
// with R's survival 3.5-3 (coxph, survfit, concordance) and glmnet 4.1-6.
type coxReference struct {
	N                   int       `json:"n"`
	EfronCoef           []float64 `json:"efron_coef"`
	EfronLogLik         float64   `json:"efron_loglik"`
	BaselineTimes       []float64 `json:"baseline_times"`
	BaselineCumHaz      []float64 `json:"baseline_cumhaz"`
	Patient             []float64 `json:"patient"`
	PatientSurv         []float64 `json:"patient_surv_6_12_24"`
	PatientMedian       float64   `json:"patient_median"`
	DistinctCoef        []float64 `json:"distinct_coef"`
	DistinctConcordance float64   `json:"distinct_concordance"`
	DistinctUnoC        []float64 `json:"distinct_uno_c"`
	RidgeLambda         float64   `json:"ridge_lambda"`
	RidgeCoef           []float64 `json:"ridge_coef"`
	EnetLambda          float64   `json:"enet_lambda"`
	Enet05Coef          []float64 `json:"enet_alpha_0.5_coef"`
	Enet1Coef           []float64 `json:"enet_alpha_1_coef"`
	ScoreTimes          []float64 `json:"score_times"`
	ScoreAUC            []float64 `json:"score_auc"`
	ScoreBrier          []float64 `json:"score_brier"`
	ScoreBrierNull      []float64 `json:"score_brier_null"`
	ScoreIBS            []float64 `json:"score_ibs"`
	ScoreIBSNull        []float64 `json:"score_ibs_null"`
}

func readCoxReference(t *testing.T) coxReference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cox", "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref coxReference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// readCoxData reads testdata/cox/os.csv: time, event, x1..x5.
func readCoxData(t *testing.T) (x [][]float64, time []float64, event []bool) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "cox", "os.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		v := make([]float64, len(r))
		for j, s := range r {
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		time = append(time, v[0])
		event = append(event, v[1] == 1)
		x = append(x, v[2:])
	}
	return x, time, event
}

func closeAll(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s[%d] = %.12g, R gives %.12g", what, i, got[i], want[i])
		}
	}
}

// TestCoxAgainstR: coefficients, log partial likelihood, Breslow's
// baseline hazard, a patient's survival and median, Harrell's C, and the
// ridge and elastic-net fits agree with R's survival and glmnet to 1e-6.
func TestCoxAgainstR(t *testing.T) {
	ref := readCoxReference(t)
	x, time, event := readCoxData(t)
	if len(time) != ref.N {
		t.Fatalf("%d patients, R had %d", len(time), ref.N)
	}

	m, err := FitCox(x, time, event, CoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closeAll(t, "coef (coxph, Efron)", m.Coef, ref.EfronCoef, 1e-6)
	if math.Abs(m.LogLik-ref.EfronLogLik) > 1e-6 {
		t.Errorf("log partial likelihood %.12g, coxph %.12g", m.LogLik, ref.EfronLogLik)
	}
	closeAll(t, "baseline times", m.Times, ref.BaselineTimes, 1e-12)
	closeAll(t, "baseline cumulative hazard (survfit, ctype 1)", m.CumHaz, ref.BaselineCumHaz, 1e-6)
	var surv []float64
	for _, at := range []float64{6, 12, 24} {
		surv = append(surv, m.Survival(ref.Patient, at))
	}
	closeAll(t, "S(6, 12, 24) of a patient", surv, ref.PatientSurv, 1e-6)
	if med, ok := m.Median(ref.Patient); !ok || med != ref.PatientMedian {
		t.Errorf("median %v (%v), survfit %v", med, ok, ref.PatientMedian)
	}

	// Harrell's C, on the times made distinct as the script made them.
	distinct := make([]float64, len(time))
	for i := range time {
		distinct[i] = time[i] + float64(i)*1e-6
	}
	md, err := FitCox(x, distinct, event, CoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closeAll(t, "coef, distinct times", md.Coef, ref.DistinctCoef, 1e-6)
	score := make([]float64, len(x))
	for i := range x {
		score[i] = -md.LinearPredictor(x[i]) // higher: longer survival
	}
	if c := ConcordanceIndex(distinct, event, score); math.Abs(c-ref.DistinctConcordance) > 1e-9 {
		t.Errorf("Harrell's C %.12g, concordance() %.12g", c, ref.DistinctConcordance)
	}

	g := CensoringOf(distinct, event)
	closeAll(t, "Uno's C to 24 months and over all (concordance, timewt n/G2)",
		[]float64{UnoC(distinct, event, score, 24, g), UnoC(distinct, event, score, math.Inf(1), g)}, ref.DistinctUnoC, 1e-9)

	mr, err := FitCox(x, time, event, CoxOptions{Lambda: ref.RidgeLambda})
	if err != nil {
		t.Fatal(err)
	}
	closeAll(t, "ridge coef (coxph ridge(theta = n lambda))", mr.Coef, ref.RidgeCoef, 1e-6)

	for _, tc := range []struct {
		alpha float64
		want  []float64
	}{{0.5, ref.Enet05Coef}, {1, ref.Enet1Coef}} {
		me, err := FitCox(x, distinct, event, CoxOptions{Lambda: ref.EnetLambda, Alpha: tc.alpha})
		if err != nil {
			t.Fatal(err)
		}
		closeAll(t, "elastic-net coef (glmnet), alpha "+strconv.FormatFloat(tc.alpha, 'g', -1, 64), me.Coef, tc.want, 1e-6)
		for j, w := range tc.want {
			if w == 0 && me.Coef[j] != 0 {
				t.Errorf("alpha %v: coef %d is %g where glmnet's is exactly 0", tc.alpha, j, me.Coef[j])
			}
		}
	}
}

// TestCoxByHand: one covariate, three patients, no ties: the log partial
// likelihood at b is worked by hand, and so is the maximum.
func TestCoxByHand(t *testing.T) {
	// Times 1, 2, 3, all events, x = 0, 1, 0. At b: the first event (x=0)
	// sees risk set {0, 1, 0}: 1 - log(2 + e^b) ... the log partial
	// likelihood is 0 - log(2+e^b) + b - log(1+e^b) + 0 - log(1).
	x := [][]float64{{0}, {1}, {0}}
	time := []float64{1, 2, 3}
	event := []bool{true, true, true}
	d, err := newCoxData(x, time, event)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []float64{-1, 0, 0.7} {
		want := -math.Log(2+math.Exp(b)) + b - math.Log(1+math.Exp(b))
		if got := d.eval([]float64{b}, nil, nil); math.Abs(got-want) > 1e-14 {
			t.Errorf("loglik(%v) = %v, by hand %v", b, got, want)
		}
	}
	// d/db: -e^b/(2+e^b) + 1 - e^b/(1+e^b) = 0 gives e^b = sqrt(2).
	m, err := FitCox(x, time, event, CoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := math.Log(math.Sqrt2); math.Abs(m.Coef[0]-want) > 1e-12 {
		t.Errorf("b = %v, by hand ln sqrt 2 = %v", m.Coef[0], want)
	}
	// Breslow: H0(1) = 1/(2+sqrt2), H0(2) adds 1/(1+sqrt2), H0(3) adds 1.
	h1 := 1 / (2 + math.Sqrt2)
	closeAll(t, "cumhaz", m.CumHaz, []float64{h1, h1 + 1/(1+math.Sqrt2), h1 + 1/(1+math.Sqrt2) + 1}, 1e-12)
}

// TestCoxRefuses: what FitCox refuses, and why.
func TestCoxRefuses(t *testing.T) {
	ok := [][]float64{{0}, {1}, {0}, {1}}
	for _, tc := range []struct {
		name  string
		x     [][]float64
		time  []float64
		event []bool
		o     CoxOptions
		want  error
	}{
		{"a negative time", ok, []float64{1, -2, 3, 4}, []bool{true, true, false, true}, CoxOptions{}, ErrCox},
		{"no events", ok, []float64{1, 2, 3, 4}, []bool{false, false, false, false}, CoxOptions{}, ErrCox},
		{"a NaN covariate", [][]float64{{0}, {math.NaN()}, {0}, {1}}, []float64{1, 2, 3, 4}, []bool{true, true, false, true}, CoxOptions{}, ErrCox},
		{"a constant covariate", [][]float64{{1}, {1}, {1}, {1}}, []float64{1, 2, 3, 4}, []bool{true, true, false, true}, CoxOptions{}, ErrCox},
		{"events predicted perfectly", ok, []float64{5, 1, 6, 2}, []bool{false, true, false, true}, CoxOptions{}, ErrCoxConvergence},
		{"a negative penalty", ok, []float64{1, 2, 3, 4}, []bool{true, true, false, true}, CoxOptions{Lambda: -1}, ErrCox},
		{"rows that disagree", ok, []float64{1, 2, 3}, []bool{true, true, false}, CoxOptions{}, ErrCox},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FitCox(tc.x, tc.time, tc.event, tc.o)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	// A penalty holds the perfectly predicted events.
	if m, err := FitCox(ok, []float64{5, 1, 6, 2}, []bool{false, true, false, true}, CoxOptions{Lambda: 0.1}); err != nil || !(m.Coef[0] > 0) {
		t.Errorf("with a ridge penalty: %v, %v", m, err)
	}
}

// TestSurvivalScoresAgainstR: the time-dependent AUC, the Brier score and
// the integrated Brier score of the Cox model's predicted survival at 6,
// 12 and 24 months, and of the Kaplan-Meier null model, agree with
// riskRegression's Score (censoring weights from the Kaplan-Meier) to 1e-9.
func TestSurvivalScoresAgainstR(t *testing.T) {
	ref := readCoxReference(t)
	x, time, event := readCoxData(t)
	m, err := FitCox(x, time, event, CoxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := CensoringOf(time, event)
	km := KaplanMeierOf(time, event)
	var auc, brier, null []float64
	for _, at := range ref.ScoreTimes {
		surv, risk, kmAt := make([]float64, len(x)), make([]float64, len(x)), make([]float64, len(x))
		for i := range x {
			surv[i] = m.Survival(x[i], at)
			risk[i] = 1 - surv[i]
			kmAt[i] = km.At(at)
		}
		auc = append(auc, TimeAUC(time, event, risk, at, g))
		brier = append(brier, BrierAt(time, event, surv, at, g))
		null = append(null, BrierAt(time, event, kmAt, at, g))
	}
	closeAll(t, "AUC(t)", auc, ref.ScoreAUC, 1e-9)
	closeAll(t, "Brier(t)", brier, ref.ScoreBrier, 1e-9)
	closeAll(t, "Brier(t) of the null model", null, ref.ScoreBrierNull, 1e-9)
	for k := 1; k < len(ref.ScoreTimes); k++ {
		closeAll(t, "IBS", []float64{IntegratedBrier(ref.ScoreTimes[:k+1], brier[:k+1]), IntegratedBrier(ref.ScoreTimes[:k+1], null[:k+1])},
			[]float64{ref.ScoreIBS[k], ref.ScoreIBSNull[k]}, 1e-9)
	}
}

// BenchmarkCoxEval times one evaluation of the partial likelihood with its
// gradient and information, most of a Cox fit's time: 2,000 patients, 30
// covariates, a third of them censored.
func BenchmarkCoxEval(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 5))
	n, p := 2000, 30
	x, tm, ev := make([][]float64, n), make([]float64, n), make([]bool, n)
	for i := range x {
		x[i] = make([]float64, p)
		for j := range x[i] {
			x[i][j] = rng.NormFloat64()
		}
		tm[i], ev[i] = 60*rng.Float64(), rng.IntN(3) > 0
	}
	d, err := newCoxData(x, tm, ev)
	if err != nil {
		b.Fatal(err)
	}
	beta, grad, info := make([]float64, p), make([]float64, p), make([]float64, p*p)
	for b.Loop() {
		d.eval(beta, grad, info)
	}
}
