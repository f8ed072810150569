// Command gbm times abscopal's GBM on -rows rows x 30 features (300 trees,
// depth 6, learning rate 0.1, 255 bins, every row and feature in each tree)
// and prints one JSON line: the seconds of the fit and the AUC on 20,000
// held-out rows. With -write it writes the same rows (raw float64) for
// bench/gbm/peer.py, which times xgboost's hist method with the same
// settings, and fits nothing. bench/gbm/run.sh runs both side by side.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/abscopal/abscopal/bench/internal/rawf64"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

const (
	cols, testRows = 30, 20_000
)

func main() {
	rows := flag.Int("rows", 100_000, "training rows")
	write := flag.String("write", "", "write the rows to this directory and fit nothing")
	threads := flag.Int("threads", runtime.NumCPU(), "cores the fit may use (GOMAXPROCS)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the fit to this file")
	flag.Parse()
	X, y := synthetic(*rows)
	if *write != "" {
		check(os.MkdirAll(*write, 0o755))
		check(rawf64.Write(filepath.Join(*write, "Xtr.f64"), X[:*rows*cols]))
		check(rawf64.Write(filepath.Join(*write, "ytr.f64"), y[:*rows]))
		check(rawf64.Write(filepath.Join(*write, "Xte.f64"), X[*rows*cols:]))
		check(rawf64.Write(filepath.Join(*write, "yte.f64"), y[*rows:]))
		return
	}
	runtime.GOMAXPROCS(*threads)
	d := &models.Data{Rows: *rows, Cols: cols, X: X[:*rows*cols], Y: y[:*rows]}
	opts := models.GBMOptions{Trees: 300, MaxDepth: 6, LearningRate: 0.1, Lambda: 1, MinChildWeight: 1, MaxBins: 255}
	runtime.GC()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	m, err := models.FitGBM(context.Background(), d, opts)
	secs := time.Since(start).Seconds()
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	check(err)
	p := make([]float64, testRows)
	for i := range p {
		p[i] = m.Score(X[(*rows+i)*cols : (*rows+i+1)*cols])
	}
	b, err := json.Marshal(map[string]any{"trainer": "abscopal gbm", "rows": *rows, "threads": *threads, "seconds": secs, "auc": stats.AUC(p, y[*rows:])})
	check(err)
	fmt.Println(string(b))
}

// synthetic draws rows+testRows rows of a known non-linear model: main
// effects, an interaction, a threshold and a curve, with 5% of one feature
// missing. The same rows on every call.
func synthetic(rows int) (X, y []float64) {
	rng := rand.New(rand.NewPCG(42, 7))
	X = make([]float64, (rows+testRows)*cols)
	y = make([]float64, rows+testRows)
	for i := range y {
		x := X[i*cols : (i+1)*cols]
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		z := -0.5 + 0.8*x[0] - 0.6*x[1] + 0.7*x[2]*x[3] + 1.2*b2f(x[4] > 0.5) - 0.5*x[5]*x[5] + 0.3*math.Sin(3*x[6])
		for j := 7; j < 15; j++ {
			z += 0.1 * x[j]
		}
		if rng.Float64() < 0.05 {
			x[8] = math.NaN()
		}
		y[i] = b2f(rng.Float64() < 1/(1+math.Exp(-z)))
	}
	return X, y
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
