package models

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readCSV loads testdata/logistic/data.csv (made by make_reference.py there).
func readCSV(t *testing.T, path string) *Data {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{Cols: len(recs[0]) - 1}
	for _, r := range recs[1:] {
		for j, s := range r {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatal(err)
			}
			if j == d.Cols {
				d.Y = append(d.Y, v)
			} else {
				d.X = append(d.X, v)
			}
		}
		d.Rows++
	}
	return d
}

// TestLogisticMatchesScikitLearn compares with LogisticRegression(C=1/lambda)
// of scikit-learn 1.2.1 (testdata/logistic/reference.json).
func TestLogisticMatchesScikitLearn(t *testing.T) {
	d := readCSV(t, "testdata/logistic/data.csv")
	b, err := os.ReadFile("testdata/logistic/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Fits []struct {
			Lambda    float64   `json:"lambda"`
			Intercept float64   `json:"intercept"`
			Coef      []float64 `json:"coef"`
			Proba     []float64 `json:"proba_first5"`
		} `json:"fits"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, r := range ref.Fits {
		m, err := FitLogistic(d, LogisticOptions{Lambda: r.Lambda})
		if err != nil {
			t.Fatal(err)
		}
		worst := math.Abs(m.Intercept - r.Intercept)
		for j := range r.Coef {
			worst = math.Max(worst, math.Abs(m.Coef[j]-r.Coef[j]))
		}
		t.Logf("lambda %v: largest difference from scikit-learn %.2g", r.Lambda, worst)
		if math.Abs(m.Intercept-r.Intercept) > 1e-4 {
			t.Errorf("lambda %v: intercept %.8f, scikit-learn %.8f", r.Lambda, m.Intercept, r.Intercept)
		}
		for j := range r.Coef {
			if math.Abs(m.Coef[j]-r.Coef[j]) > 1e-4 {
				t.Errorf("lambda %v: coef %d = %.8f, scikit-learn %.8f", r.Lambda, j, m.Coef[j], r.Coef[j])
			}
		}
		// scikit-learn's lbfgs stops about 1e-6 short of the optimum that
		// Newton's method reaches; probabilities agree to 1e-5.
		for i, p := range r.Proba {
			if got := Proba(m, d.Row(i)); math.Abs(got-p) > 1e-5 {
				t.Errorf("lambda %v: P(row %d) = %.8f, scikit-learn %.8f", r.Lambda, i, got, p)
			}
		}
		// Contributions add up to the score.
		dst := make([]float64, d.Cols)
		bias := m.Contributions(d.Row(3), dst)
		sum := bias
		for _, c := range dst {
			sum += c
		}
		if math.Abs(sum-m.Score(d.Row(3))) > 1e-12 {
			t.Errorf("contributions sum to %v, score %v", sum, m.Score(d.Row(3)))
		}
		t.Logf("lambda %v: %d Newton iterations", r.Lambda, m.Iter)
	}
}

func TestDataErrors(t *testing.T) {
	tests := []struct {
		name string
		d    Data
		want string
	}{
		{"single class", Data{Rows: 3, Cols: 1, X: []float64{1, 2, 3}, Y: []float64{1, 1, 1}}, "a single class"},
		{"label not 0/1", Data{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{1, 2}}, "label 2 in row 2"},
		{"NaN feature", Data{Rows: 2, Cols: 2, X: []float64{1, 2, math.NaN(), 4}, Y: []float64{0, 1}}, "feature 0 of row 2 is NaN"},
		{"empty", Data{}, "0 rows"},
	}
	for _, tt := range tests {
		_, err := FitLogistic(&tt.d, LogisticOptions{})
		if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// The GBM takes NaN (it learns where missing values go) but not a single class.
	nan := Data{Rows: 4, Cols: 1, X: []float64{1, math.NaN(), 3, 4}, Y: []float64{0, 1, 0, 1}}
	if _, err := FitGBM(t.Context(), &nan, GBMOptions{Trees: 2}); err != nil {
		t.Errorf("gbm with NaN: %v", err)
	}
}

// TestLogisticWarmStart: started from the fit of a nearby penalty, Newton's
// method reaches the same coefficients (the objective is strictly convex)
// in fewer iterations; a start of the wrong length is refused.
func TestLogisticWarmStart(t *testing.T) {
	d := benchData(3000, 20, false)
	near, err := FitLogistic(d, LogisticOptions{Lambda: 10})
	if err != nil {
		t.Fatal(err)
	}
	cold, err := FitLogistic(d, LogisticOptions{Lambda: 3})
	if err != nil {
		t.Fatal(err)
	}
	warm, err := FitLogistic(d, LogisticOptions{Lambda: 3, Start: append(append([]float64(nil), near.Coef...), near.Intercept)})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(warm.Intercept-cold.Intercept) > 1e-9 || warm.Iter >= cold.Iter {
		t.Errorf("warm: intercept %v in %d iterations; cold %v in %d", warm.Intercept, warm.Iter, cold.Intercept, cold.Iter)
	}
	for j := range cold.Coef {
		if math.Abs(warm.Coef[j]-cold.Coef[j]) > 1e-9 {
			t.Errorf("coefficient %d: warm %v, cold %v", j, warm.Coef[j], cold.Coef[j])
		}
	}
	if _, err := FitLogistic(d, LogisticOptions{Lambda: 3, Start: near.Coef}); err == nil {
		t.Error("a start without the intercept was accepted")
	}
}

// TestLogisticSameOnAnyCores: the Newton sums are over fixed chunks of
// rows, added in order, so the fit is the same bits on one core as on
// several.
func TestLogisticSameOnAnyCores(t *testing.T) {
	n, p := 20_000, 6
	rng := rand.New(rand.NewPCG(3, 4))
	d := &Data{Rows: n, Cols: p, X: make([]float64, n*p), Y: make([]float64, n)}
	for i := range d.X {
		d.X[i] = rng.NormFloat64()
	}
	for i := range n {
		if rng.Float64() < 1/(1+math.Exp(-d.X[i*p]-0.5*d.X[i*p+1])) {
			d.Y[i] = 1
		}
	}
	fit := func(procs int) *Logistic {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		m, err := FitLogistic(d, LogisticOptions{Lambda: 1})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	one, four := fit(1), fit(4)
	if one.Intercept != four.Intercept || !slices.Equal(one.Coef, four.Coef) {
		t.Errorf("one core %v %v, four %v %v", one.Intercept, one.Coef, four.Intercept, four.Coef)
	}
}
