// Command forest times abscopal's random forest on synthetic training rows
// and judges it on held-out ones, and writes both matrices (raw
// little-endian float64, for numpy's fromfile) and its figures for
// bench/forest/run.sh to set beside scikit-learn's forest on the same rows.
//
//	go run ./bench/forest -rows 10000 -trees 101 -runs 3 -out DIR
package main

import (
	"context"
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
	"github.com/abscopal/abscopal/stats"
)

func main() {
	rows := flag.Int("rows", 10_000, "training rows (as many held out)")
	cols := flag.Int("cols", 30, "features")
	trees := flag.Int("trees", 101, "trees (odd)")
	minLeaf := flag.Int("min-leaf", 10, "the fewest rows of a leaf (scikit-learn's min_samples_leaf)")
	runs := flag.Int("runs", 3, "fits timed (the median is reported)")
	learner := flag.String("learner", models.ForestHistogram, "histogram or golearn")
	bins := flag.Int("bins", 0, "bins per feature (0: the forest's default)")
	out := flag.String("out", "", "directory for the matrices and abscopal.json")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "-out is required")
		os.Exit(2)
	}
	train, test := matrix(*rows, *cols, 1), matrix(*rows, *cols, 2)
	for name, xs := range map[string][]float64{"Xtr.f64": train.X, "ytr.f64": train.Y, "Xte.f64": test.X, "yte.f64": test.Y} {
		if err := rawf64.Write(filepath.Join(*out, name), xs); err != nil {
			fail(err)
		}
	}
	var secs []float64
	var f *models.Forest
	for range *runs {
		t := time.Now()
		var err error
		if f, err = models.FitForest(context.Background(), train, models.ForestOptions{Trees: *trees, MinLeaf: *minLeaf, Seed: 1, Learner: *learner, MaxBins: *bins}); err != nil {
			fail(err)
		}
		secs = append(secs, time.Since(t).Seconds())
	}
	slices.Sort(secs)
	p := make([]float64, test.Rows)
	for i := range p {
		p[i] = f.Proba(test.Row(i))
	}
	b, _ := json.Marshal(map[string]any{"seconds": secs, "median": secs[len(secs)/2], "threads": runtime.GOMAXPROCS(0),
		"auc": stats.AUC(p, test.Y), "trees": *trees, "min_leaf": *minLeaf, "learner": *learner, "split_features": f.Opts.SplitFeatures})
	if err := os.WriteFile(filepath.Join(*out, "abscopal.json"), b, 0o644); err != nil {
		fail(err)
	}
}

// matrix draws standard normal inputs and an outcome with main effects,
// an interaction and a sine (models' benchmark data).
func matrix(n, p int, seed uint64) *models.Data {
	rng := rand.New(rand.NewPCG(42, seed))
	d := &models.Data{Rows: n, Cols: p, X: make([]float64, n*p), Y: make([]float64, n)}
	for i := range n {
		x := d.X[i*p : (i+1)*p]
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		z := -0.5 + 0.8*x[0] - 0.6*x[1] + 0.7*x[2]*x[3] + 0.3*math.Sin(3*x[6])
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
