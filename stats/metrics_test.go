package stats

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/sjwhitworth/golearn/base"
	"github.com/sjwhitworth/golearn/evaluation"
)

func TestMetricsByHand(t *testing.T) {
	// The example of scikit-learn's roc_auc_score documentation.
	y := []float64{0, 0, 1, 1}
	p := []float64{0.1, 0.4, 0.35, 0.8}
	if got := AUC(p, y); got != 0.75 {
		t.Errorf("AUC = %v, want 0.75", got)
	}
	// (0.1^2 + 0.4^2 + 0.65^2 + 0.2^2) / 4
	if got := Brier(p, y); math.Abs(got-0.158125) > 1e-12 {
		t.Errorf("Brier = %v, want 0.158125", got)
	}
	// -(ln 0.9 + ln 0.6 + ln 0.35 + ln 0.8) / 4
	want := -(math.Log(0.9) + math.Log(0.6) + math.Log(0.35) + math.Log(0.8)) / 4
	if got := LogLoss(p, y); math.Abs(got-want) > 1e-12 || math.Abs(got-0.4722880) > 1e-6 {
		t.Errorf("log loss = %v, want %v", got, want)
	}
	// Ties count half: one positive tied with one negative.
	if got := AUC([]float64{0.5, 0.5, 0.9}, []float64{0, 1, 1}); got != 0.75 {
		t.Errorf("AUC with a tie = %v, want 0.75", got)
	}
}

func TestCalibrationLineOfPerfectPredictions(t *testing.T) {
	// Labels drawn exactly in proportion to p: intercept 0 and slope 1.
	var p, y []float64
	for k := 1; k < 20; k++ {
		q := float64(k) / 20
		for i := 0; i < 400; i++ {
			p = append(p, q)
			y = append(y, b2f(i < int(math.Round(400*q))))
		}
	}
	a, b := CalibrationLine(p, y)
	if math.Abs(a) > 1e-3 || math.Abs(b-1) > 1e-3 {
		t.Errorf("intercept %v, slope %v; want 0 and 1", a, b)
	}
	// Overconfident predictions (logit doubled) have slope 1/2.
	var p2 []float64
	for _, q := range p {
		l := 2 * math.Log(q/(1-q))
		p2 = append(p2, Sigmoid(l))
	}
	if _, b := CalibrationLine(p2, y); math.Abs(b-0.5) > 1e-3 {
		t.Errorf("slope of doubled logits %v, want 0.5", b)
	}
	m := Evaluate(p, y, 0.5, 200, 1)
	if m.AUCLow > m.AUC || m.AUCHigh < m.AUC || m.AUCHigh-m.AUCLow > 0.05 {
		t.Errorf("AUC %v with CI [%v, %v]", m.AUC, m.AUCLow, m.AUCHigh)
	}
	if len(m.Curve) != 10 {
		t.Errorf("%d curve bins, want 10", len(m.Curve))
	}
}

func TestSensitivitySpecificity(t *testing.T) {
	y := []float64{1, 1, 1, 0, 0, 0, 0}
	p := []float64{0.9, 0.5, 0.2, 0.6, 0.1, 0.49, 0.3}
	tests := []struct {
		threshold, sens, spec float64
		confusion             [2][2]int64 // [actual][predicted]
	}{
		// p >= 0.5 is positive: TP 0.9, 0.5; FN 0.2; FP 0.6; TN 0.1, 0.49, 0.3.
		{0.5, 2.0 / 3, 3.0 / 4, [2][2]int64{{3, 1}, {1, 2}}},
		// p >= 0.3: FP 0.6, 0.49, 0.3; TN 0.1.
		{0.3, 2.0 / 3, 1.0 / 4, [2][2]int64{{1, 3}, {1, 2}}},
		{0.95, 0, 1, [2][2]int64{{4, 0}, {3, 0}}},
	}
	for _, tt := range tests {
		m := Evaluate(p, y, tt.threshold, 0, 1)
		if m.Confusion != tt.confusion || math.Abs(m.Sensitivity-tt.sens) > 1e-15 || math.Abs(m.Specificity-tt.spec) > 1e-15 {
			t.Errorf("threshold %v: confusion %v, sensitivity %v, specificity %v; want %v, %v, %v",
				tt.threshold, m.Confusion, m.Sensitivity, m.Specificity, tt.confusion, tt.sens, tt.spec)
		}
	}
}

// TestConfusionMatchesGolearn checks the confusion counts against golearn's
// evaluation package (the reference DESIGN.md names): its recall of class 1
// is the sensitivity, of class 0 the specificity.
func TestConfusionMatchesGolearn(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	n := 500
	p, y := make([]float64, n), make([]float64, n)
	for i := range p {
		p[i] = rng.Float64()
		y[i] = b2f(rng.Float64() < p[i])
	}
	grid := func(labels func(i int) bool) base.FixedDataGrid {
		inst := base.NewDenseInstances()
		class := base.NewCategoricalAttribute()
		class.SetName("class")
		class.GetSysValFromString("0")
		class.GetSysValFromString("1")
		spec := inst.AddAttribute(class)
		if err := inst.AddClassAttribute(class); err != nil {
			t.Fatal(err)
		}
		if err := inst.Extend(n); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			v := "0"
			if labels(i) {
				v = "1"
			}
			inst.Set(spec, i, spec.GetAttribute().GetSysValFromString(v))
		}
		return inst
	}
	const threshold = 0.4
	cm, err := evaluation.GetConfusionMatrix(grid(func(i int) bool { return y[i] == 1 }), grid(func(i int) bool { return p[i] >= threshold }))
	if err != nil {
		t.Fatal(err)
	}
	m := Evaluate(p, y, threshold, 0, 1)
	for a, actual := range []string{"0", "1"} {
		for q, pred := range []string{"0", "1"} {
			if m.Confusion[a][q] != int64(cm[actual][pred]) {
				t.Errorf("actual %s, predicted %s: %d; golearn counts %d", actual, pred, m.Confusion[a][q], cm[actual][pred])
			}
		}
	}
	if want := evaluation.GetRecall("1", cm); math.Abs(m.Sensitivity-want) > 1e-12 {
		t.Errorf("sensitivity %v, golearn's recall of 1 %v", m.Sensitivity, want)
	}
	if want := evaluation.GetRecall("0", cm); math.Abs(m.Specificity-want) > 1e-12 {
		t.Errorf("specificity %v, golearn's recall of 0 %v", m.Specificity, want)
	}
}

// TestCalibrationLineMatchesScipy: predictions of exactly 0 and 1 (logits of
// +-27.6 once clamped) sent plain Newton's method far off (a slope of -3289
// for an isotonic calibrator's output); the reference is scipy's maximum
// likelihood on the same data (testdata/calibration_line/make.py).
func TestCalibrationLineMatchesScipy(t *testing.T) {
	f, err := os.Open("testdata/calibration_line/cases.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var p, y []float64
	for _, r := range rows[1:] {
		pv, err1 := strconv.ParseFloat(r[0], 64)
		yv, err2 := strconv.ParseFloat(r[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("row %v", r)
		}
		p, y = append(p, pv), append(y, yv)
	}
	b, err := os.ReadFile("testdata/calibration_line/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct{ Intercept, Slope float64 }
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	a, s := CalibrationLine(p, y)
	if math.Abs(a-ref.Intercept) > 1e-6 || math.Abs(s-ref.Slope) > 1e-6 {
		t.Errorf("intercept %v, slope %v; scipy: %v, %v", a, s, ref.Intercept, ref.Slope)
	}
}

// TestWilsonMatchesNewcombe: the 95% intervals of Newcombe (Stat Med 1998;
// 17:857-872, Table II, method 3), to the 4 decimals printed there.
func TestWilsonMatchesNewcombe(t *testing.T) {
	for _, tt := range []struct{ k, n, lo, hi float64 }{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		lo, hi := wilson(tt.k, tt.n)
		if math.Abs(lo-tt.lo) > 5e-5 || math.Abs(hi-tt.hi) > 5e-5 {
			t.Errorf("%v/%v: [%.4f, %.4f], want [%v, %v]", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
	// The curve's bins carry them.
	p := []float64{0.1, 0.2, 0.3, 0.4}
	y := []float64{0, 1, 0, 1}
	for _, b := range Curve(p, y, 2) {
		if lo, hi := wilson(b.Observed*float64(b.N), float64(b.N)); b.ObservedLow != lo || b.ObservedHigh != hi || !(lo <= b.Observed && b.Observed <= hi) {
			t.Errorf("bin %+v", b)
		}
	}
}

func TestCompareAUC(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	n := 800
	y, good, twin, noisy := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range y {
		z := rng.NormFloat64()
		y[i] = b2f(rng.Float64() < Sigmoid(1.5*z))
		// good and twin see the signal through noise of the same size;
		// noisy through much more.
		good[i], twin[i], noisy[i] = z+0.5*rng.NormFloat64(), z+0.5*rng.NormFloat64(), z+2*rng.NormFloat64()
	}
	// A model against itself: no difference, no width.
	if d, lo, hi := CompareAUC(good, good, y, 200, 1); d != 0 || lo != 0 || hi != 0 {
		t.Errorf("self: %v [%v, %v]", d, lo, hi)
	}
	// The difference is that of the AUCs; swapping the models flips the
	// interval (the same resamples).
	d, lo, hi := CompareAUC(good, noisy, y, 500, 1)
	if want := AUC(good, y) - AUC(noisy, y); math.Abs(d-want) > 1e-15 {
		t.Errorf("difference %v, want %v", d, want)
	}
	if !(lo > 0 && lo < d && d < hi) {
		t.Errorf("a clearly better model: %v [%v, %v]; the interval should exclude 0", d, lo, hi)
	}
	d2, lo2, hi2 := CompareAUC(noisy, good, y, 500, 1)
	if d2 != -d || lo2 != -hi || hi2 != -lo {
		t.Errorf("swapped: %v [%v, %v] against %v [%v, %v]", d2, lo2, hi2, d, lo, hi)
	}
	// Two equally good models: the interval holds 0.
	if d, lo, hi := CompareAUC(good, twin, y, 500, 2); !(lo < 0 && hi > 0) {
		t.Errorf("equal models: %v [%v, %v] excludes 0", d, lo, hi)
	}
}

// BenchmarkEvaluate: the metrics of 20,000 out-of-fold predictions with the
// default 1,000 bootstrap resamples, as train does after cross-validation.
func BenchmarkEvaluate(b *testing.B) {
	p, y := benchPredictions(20000)
	for b.Loop() {
		Evaluate(p, y, 0.5, 1000, 1)
	}
}

// BenchmarkCompareAUC: two models' AUC difference on 20,000 rows, 1,000
// paired resamples, as compare does for each algorithm.
func BenchmarkCompareAUC(b *testing.B) {
	p, y := benchPredictions(20000)
	q := make([]float64, len(p))
	for i := range p {
		q[i] = math.Round(p[i]*50) / 50 // a coarser model, with ties
	}
	for b.Loop() {
		CompareAUC(p, q, y, 1000, 1)
	}
}

func benchPredictions(n int) (p, y []float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	p, y = make([]float64, n), make([]float64, n)
	for i := range p {
		p[i] = rng.Float64()
		if rng.Float64() < p[i] {
			y[i] = 1
		}
	}
	return p, y
}

// TestRankedMatchesResample: the AUC of weighted rows (a bootstrap resample
// as counts) is, bit for bit, the AUC of the resample written out, ties and
// one-class resamples included.
func TestRankedMatchesResample(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 2, 5, 40, 1000} {
		p, y := make([]float64, n), make([]float64, n)
		for i := range p {
			p[i] = math.Round(rng.Float64()*8) / 8 // many ties
			if rng.Float64() < p[i] {
				y[i] = 1
			}
		}
		r := newRanked(p, y)
		w := make([]float64, n)
		bp, by := make([]float64, n), make([]float64, n)
		for b := 0; b < 50; b++ {
			clear(w)
			for i := range bp {
				j := rng.IntN(n)
				w[j]++
				bp[i], by[i] = p[j], y[j]
			}
			got, want := r.auc(w), AUC(bp, by)
			if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("n %d, resample %d: weighted %v, written out %v", n, b, got, want)
			}
		}
		for i := range w {
			w[i] = 1
		}
		if got, want := r.auc(w), AUC(p, y); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("n %d, every row once: %v, AUC %v", n, got, want)
		}
	}
}

// TestDecisionCurveByHand: five patients, net benefit = TP/n - FP/n x
// pt/(1-pt) (Vickers and Elkin 2006), worked out by hand.
func TestDecisionCurveByHand(t *testing.T) {
	p := []float64{0.9, 0.6, 0.3, 0.2, 0.1}
	y := []float64{1, 0, 1, 0, 0}
	tests := []struct {
		pt, model, all float64
	}{
		{0.05, 0.4 - 0.6/19, 0.4 - 0.6/19}, // everyone above: the model acts on all
		{0.25, 0.4 - 0.2/3, 0.4 - 0.6/3},   // acts on 0.9, 0.6, 0.3: TP 2, FP 1
		{0.5, 0.2 - 0.2, 0.4 - 0.6},        // acts on 0.9, 0.6: TP 1, FP 1
		{0.95, 0, 0.4 - 0.6*19},            // acts on no one
	}
	pts := make([]float64, len(tests))
	for i, tt := range tests {
		pts[i] = tt.pt
	}
	got := DecisionCurve(p, y, pts)
	for i, tt := range tests {
		g := got[i]
		if g.Threshold != tt.pt || math.Abs(g.Model-tt.model) > 1e-12 || math.Abs(g.TreatAll-tt.all) > 1e-12 {
			t.Errorf("pt %v: %+v, want model %v, treat all %v", tt.pt, g, tt.model, tt.all)
		}
	}
	if m := Evaluate(p, y, 0.5, 0, 1); len(m.DecisionCurve) != len(DecisionThresholds()) || m.DecisionCurve[4] != DecisionCurve(p, y, []float64{0.25})[0] {
		t.Errorf("Evaluate's decision curve %+v", m.DecisionCurve)
	}
}
