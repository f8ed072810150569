package train

import (
	"math"
	"testing"
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
		p2 = append(p2, sigmoid(l))
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
