package stats

import (
	"math"
	"reflect"
	"testing"
)

// TestSummarizeInstability checks the measures on two rows and four
// bootstrap models, worked by hand:
//
//	row 1: model 0.2; bootstrap 0.1 0.3 0.2 0.4: MAPE (0.1+0.1+0+0.2)/4 = 0.1,
//	       none at 0.5 or above (CII 0), central 95% of four values 0.1-0.4
//	row 2: model 0.6; bootstrap 0.7 0.4 0.6 0.9: MAPE (0.1+0.2+0+0.3)/4 = 0.15,
//	       0.4 on the other side of 0.5 (CII 1/4), range 0.4-0.9
//
// so MAPE 0.125, its 95th percentile and largest 0.15, mean width
// (0.3+0.5)/2 = 0.4, mean CII 0.125, and one row of two above 1 in 5.
// Central95's percentiles of four values are the least and the largest.
func TestSummarizeInstability(t *testing.T) {
	p := []float64{0.2, 0.6}
	pb := [][]float64{{0.1, 0.7}, {0.3, 0.4}, {0.2, 0.6}, {0.4, 0.9}}
	got := SummarizeInstability(p, pb, 0.5)
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if got.Bootstraps != 4 || got.Threshold != 0.5 || !near(got.MAPE, 0.125) || !near(got.MAPEP95, 0.15) || !near(got.MAPEMax, 0.15) ||
		!near(got.Width95, 0.4) || !near(got.CII, 0.125) || !near(got.Unstable, 0.5) {
		t.Errorf("summary %+v", got)
	}
	if len(got.ByDecile) != 2 {
		t.Fatalf("%d bins of two rows, want 2", len(got.ByDecile))
	}
	for i, want := range []InstabilityBin{{N: 1, Predicted: 0.2, MAPE: 0.1, Width95: 0.3}, {N: 1, Predicted: 0.6, MAPE: 0.15, Width95: 0.5, CII: 0.25}} {
		b := got.ByDecile[i]
		if b.N != want.N || !near(b.Predicted, want.Predicted) || !near(b.MAPE, want.MAPE) || !near(b.Width95, want.Width95) || !near(b.CII, want.CII) {
			t.Errorf("bin %d: %+v, want %+v", i+1, b, want)
		}
	}
	if want := []RowRange{{0.2, 0.1, 0.4}, {0.6, 0.4, 0.9}}; !reflect.DeepEqual(got.Rows, want) {
		t.Errorf("ranges %v, want %v", got.Rows, want)
	}
	// Bootstrap models that agree with the model: no instability.
	same := SummarizeInstability(p, [][]float64{p, p, p}, 0.5)
	if same.MAPE != 0 || same.Width95 != 0 || same.CII != 0 || same.Unstable != 0 {
		t.Errorf("identical models: %+v", same)
	}
}
