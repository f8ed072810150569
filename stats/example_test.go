package stats_test

import (
	"fmt"

	"github.com/abscopal/abscopal/stats"
)

// The discrimination and calibration of five predictions, worked by hand:
// of the 6 pairs of a positive and a negative, the positive ranks higher
// in 5 (0.4 is below 0.6): AUC 5/6; the squared errors, 0.01 + 0.36 + 0.09
// + 0.36 + 0.04, average 0.172; at 0.5, one positive of two is found and
// two negatives of three are cleared.
func ExampleEvaluate() {
	p := []float64{0.9, 0.4, 0.3, 0.6, 0.2}
	y := []float64{1, 1, 0, 0, 0}
	fmt.Printf("AUC %.4f, Brier %.3f\n", stats.AUC(p, y), stats.Brier(p, y))
	m := stats.Evaluate(p, y, 0.5, 0, 0)
	fmt.Printf("sensitivity %.2f, specificity %.2f at %.1f\n", m.Sensitivity, m.Specificity, m.Threshold)
	// Output:
	// AUC 0.8333, Brier 0.172
	// sensitivity 0.50, specificity 0.67 at 0.5
}
