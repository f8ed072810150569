// Command logistic times abscopal's logistic regression on a synthetic
// matrix and writes the matrix (raw little-endian float64, for numpy's
// fromfile) and abscopal's fit (seconds, coefficients) for
// bench/logistic/run.sh to set beside scikit-learn's on the same rows.
//
//	go run ./bench/logistic -rows 1000000 -cols 30 -runs 3 -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/abscopal/abscopal/bench/internal/rawf64"
	"github.com/abscopal/abscopal/models"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows")
	cols := flag.Int("cols", 30, "features")
	runs := flag.Int("runs", 3, "fits timed (the median is reported)")
	lambda := flag.Float64("lambda", 1, "the L2 penalty (scikit-learn's C = 1/lambda)")
	out := flag.String("out", "", "directory for X.f64, y.f64 and abscopal.json")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "-out is required")
		os.Exit(2)
	}
	d := matrix(*rows, *cols)
	if err := rawf64.Write(filepath.Join(*out, "X.f64"), d.X); err != nil {
		fail(err)
	}
	if err := rawf64.Write(filepath.Join(*out, "y.f64"), d.Y); err != nil {
		fail(err)
	}
	var secs []float64
	var m *models.Logistic
	for range *runs {
		t := time.Now()
		var err error
		if m, err = models.FitLogistic(d, models.LogisticOptions{Lambda: *lambda}); err != nil {
			fail(err)
		}
		secs = append(secs, time.Since(t).Seconds())
	}
	slices.Sort(secs)
	b, _ := json.Marshal(map[string]any{"seconds": secs, "median": secs[len(secs)/2], "threads": runtime.GOMAXPROCS(0),
		"intercept": m.Intercept, "coef": m.Coef, "iterations": m.Iter, "lambda": *lambda})
	if err := os.WriteFile(filepath.Join(*out, "abscopal.json"), b, 0o644); err != nil {
		fail(err)
	}
}

// matrix draws standard normal features; the outcome depends on the first
// five, as a clinical score does on a few of many inputs.
func matrix(n, p int) *models.Data {
	rng := rand.New(rand.NewPCG(7, 11))
	d := &models.Data{Rows: n, Cols: p, X: make([]float64, n*p), Y: make([]float64, n)}
	for i := range d.X {
		d.X[i] = rng.NormFloat64()
	}
	for i := range n {
		z := -0.5
		for j := range min(5, p) {
			z += 0.4 * d.X[i*p+j]
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			d.Y[i] = 1
		}
	}
	return d
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
