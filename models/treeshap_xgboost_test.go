package models

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestTreeSHAPMatchesXGBoost: on an xgboost model's own trees (depth 4,
// missing values routed by a learned side, its covers), abscopal's TreeSHAP
// gives xgboost's pred_contribs, feature by feature and the bias, to
// xgboost's float32 precision; the trees' score is xgboost's margin, which
// checks the conversion. testdata/treeshap/make_reference.py made the
// reference with xgboost 1.7.4.
func TestTreeSHAPMatchesXGBoost(t *testing.T) {
	b, err := os.ReadFile("testdata/treeshap/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		BaseMargin float64      `json:"base_margin"`
		Trees      []GBMTree    `json:"trees"`
		X          [][]*float64 `json:"x"`
		Contribs   [][]float64  `json:"contribs"`
		Margin     []float64    `json:"margin"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	m := &GBM{Base: ref.BaseMargin, Trees: ref.Trees}
	m.prepare()
	tabled := 0
	for _, tb := range m.tables {
		if tb != nil {
			tabled++
		}
	}
	const tol = 1e-5 // xgboost sums in float32
	missing, worst := 0, 0.0
	for i, row := range ref.X {
		x := make([]float64, len(row))
		for j, v := range row {
			x[j] = math.NaN()
			if v != nil {
				x[j] = *v
			} else {
				missing++
			}
		}
		if s := m.Score(x); math.Abs(s-ref.Margin[i]) > tol {
			t.Fatalf("row %d: score %v, xgboost's margin %v: the trees were not converted right", i, s, ref.Margin[i])
		}
		phi := make([]float64, len(x))
		bias := m.Contributions(x, phi)
		want := ref.Contribs[i]
		worst = max(worst, math.Abs(bias-want[len(x)]))
		for j := range phi {
			worst = max(worst, math.Abs(phi[j]-want[j]))
			if math.Abs(phi[j]-want[j]) > tol {
				t.Errorf("row %d, feature %d: %v, xgboost %v", i, j, phi[j], want[j])
			}
		}
		if math.Abs(bias-want[len(x)]) > tol {
			t.Errorf("row %d: bias %v, xgboost %v", i, bias, want[len(x)])
		}
	}
	if len(ref.X) < 40 || missing == 0 || tabled == len(m.Trees) {
		t.Errorf("%d rows, %d missing values, %d of %d trees tabled: the reference should have rows with missing values and trees walked whole", len(ref.X), missing, tabled, len(m.Trees))
	}
	t.Logf("%d rows, %d trees (%d tabled), %d missing values; largest difference from xgboost %.2g", len(ref.X), len(m.Trees), tabled, missing, worst)
}
