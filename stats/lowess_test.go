package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// lowessReference is train/testdata/lowess/reference.json (statsmodels'
// lowess; make_reference.py there).
type lowessReference struct {
	P, Y []float64
	Fits []struct {
		Frac, Delta float64
		Fit         []float64
	}
	Eavg, E50, E90, Emax float64
}

func readLowessReference(t *testing.T) lowessReference {
	t.Helper()
	b, err := os.ReadFile("testdata/lowess/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref lowessReference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestLowess(t *testing.T) {
	ref := readLowessReference(t)
	for _, f := range ref.Fits {
		// statsmodels weighs every point within the half-width by the
		// tricube, without clowess's cutoffs at 0.999 and 0.001 of it.
		for _, tt := range []struct {
			cutoffs bool
			tol     float64
		}{{false, 1e-12}, {true, 1e-9}} {
			got, _ := lowess(ref.P, ref.Y, f.Frac, f.Delta, tt.cutoffs)
			worst := 0.0
			for i := range got {
				worst = math.Max(worst, math.Abs(got[i]-f.Fit[i]))
			}
			if worst > tt.tol {
				t.Errorf("frac %.3f, delta %g, cutoffs %v: differs from statsmodels by up to %g", f.Frac, f.Delta, tt.cutoffs, worst)
			}
		}
	}
	for _, tt := range []struct {
		name string
		x, y []float64
		want []float64
	}{
		{"empty", nil, nil, []float64{}},
		{"one point", []float64{0.3}, []float64{1}, []float64{1}},
		// A straight line is its own smooth, in any order.
		{"line", []float64{0.4, 0.1, 0.3, 0.2}, []float64{0.8, 0.2, 0.6, 0.4}, []float64{0.8, 0.2, 0.6, 0.4}},
		// Every x the same: the mean of y (all weights 1, no slope).
		{"ties", []float64{0.5, 0.5, 0.5, 0.5}, []float64{1, 0, 0, 0}, []float64{0.25, 0.25, 0.25, 0.25}},
	} {
		got := Lowess(tt.x, tt.y, 2.0/3, 0)
		for i := range tt.want {
			if math.Abs(got[i]-tt.want[i]) > 1e-12 {
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
				break
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d values, want %d", tt.name, len(got), len(tt.want))
		}
	}
}

// TestCalibrationErrors checks ICI, E50, E90 and Emax against the
// reference's (numpy over statsmodels' smooth with R's lowess defaults: to
// 1e-9, the difference in weights of Lowess's doc), and that they tell a
// calibrated model from a miscalibrated one.
func TestCalibrationErrors(t *testing.T) {
	ref := readLowessReference(t)
	var m Metrics
	m.calibrationErrors(ref.P, ref.Y)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"ICI", m.ICI, ref.Eavg}, {"E50", m.E50, ref.E50}, {"E90", m.E90, ref.E90}, {"Emax", m.EMax, ref.Emax}} {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %.12f, want %.12f", c.name, c.got, c.want)
		}
	}
	if n := len(m.Smooth); n < 50 || n > SmoothPoints {
		t.Errorf("%d points of the smooth, want 50 to %d", n, SmoothPoints)
	}
	for i := 1; i < len(m.Smooth); i++ {
		if m.Smooth[i].Predicted <= m.Smooth[i-1].Predicted {
			t.Fatalf("the smooth's points are not in order of p: %v", m.Smooth[i-1:i+1])
		}
	}

	// 20,000 outcomes drawn from p itself, and from p squared.
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]float64, 20000)
	calibrated, over := make([]float64, len(p)), make([]float64, len(p))
	for i := range p {
		p[i] = rng.Float64()
		u := rng.Float64()
		calibrated[i], over[i] = b2f(u < p[i]), b2f(u < p[i]*p[i])
	}
	var good, bad Metrics
	good.calibrationErrors(p, calibrated)
	bad.calibrationErrors(p, over)
	// Over-prediction by p - p^2: mean 1/6, largest 1/4 (at 1/2).
	if good.ICI > 0.02 || math.Abs(bad.ICI-1.0/6) > 0.02 || math.Abs(bad.EMax-0.25) > 0.03 {
		t.Errorf("ICI %.4f calibrated (want near 0), %.4f over-predicting (want near 1/6), its Emax %.4f (want near 1/4)", good.ICI, bad.ICI, bad.EMax)
	}
}

// BenchmarkSmoothCalibration measures the smoothed calibration curve of
// 1,000,000 predictions, with the AUC of the same predictions, which every
// evaluation computes too, as its peer in the same run.
func BenchmarkSmoothCalibration(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	p, y := make([]float64, 1_000_000), make([]float64, 1_000_000)
	for i := range p {
		p[i] = rng.Float64()
		y[i] = b2f(rng.Float64() < p[i])
	}
	b.Run("smooth", func(b *testing.B) {
		for range b.N {
			SmoothCalibration(p, y)
		}
	})
	b.Run("auc", func(b *testing.B) {
		for range b.N {
			AUC(p, y)
		}
	})
}
