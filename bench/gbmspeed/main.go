// Command gbmspeed times abscopal's GBM on -rows rows x 30 features (300
// trees, depth 6, learning rate 0.1, 255 bins) and writes the same data
// (raw float64) for bench/gbmspeed.py, which times xgboost's hist method with the same
// settings. Run bench/compare.sh.
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
	"time"

	"github.com/abscopal/abscopal/bench/internal/rawf64"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

const (
	cols, testRows = 30, 20_000
)

func main() {
	out := flag.String("out", "", "output directory")
	rowsFlag := flag.Int("rows", 100_000, "training rows")
	flag.Parse()
	rows := *rowsFlag
	ctx := context.Background()
	if *out == "" {
		log.Fatal("usage: gbmspeed --out DIR")
	}
	check(os.MkdirAll(*out, 0o755))
	// A known non-linear model: main effects, an interaction, a threshold
	// and a curve, with 5% of one feature missing.
	rng := rand.New(rand.NewPCG(42, 7))
	X := make([]float64, (rows+testRows)*cols)
	y := make([]float64, rows+testRows)
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
	check(rawf64.Write(filepath.Join(*out, "Xtr.f64"), X[:rows*cols]))
	check(rawf64.Write(filepath.Join(*out, "ytr.f64"), y[:rows]))
	check(rawf64.Write(filepath.Join(*out, "Xte.f64"), X[rows*cols:]))
	check(rawf64.Write(filepath.Join(*out, "yte.f64"), y[rows:]))

	d := &models.Data{Rows: rows, Cols: cols, X: X[:rows*cols], Y: y[:rows]}
	opts := models.GBMOptions{Trees: 300, MaxDepth: 6, LearningRate: 0.1, Lambda: 1, MinChildWeight: 1, MaxBins: 255}
	runtime.GC()
	start := time.Now()
	m, err := models.FitGBM(ctx, d, opts)
	check(err)
	secs := time.Since(start).Seconds()
	p := make([]float64, testRows)
	for i := range p {
		p[i] = m.Score(X[(rows+i)*cols : (rows+i+1)*cols])
	}
	res := map[string]any{"seconds": secs, "auc": stats.AUC(p, y[rows:]), "threads": runtime.GOMAXPROCS(0), "rows": rows, "cols": cols, "test_rows": testRows}
	b, _ := json.Marshal(res)
	check(os.WriteFile(filepath.Join(*out, "ours.json"), b, 0o644))
	fmt.Printf("abscopal gbm: %.2f s, test AUC %.4f (GOMAXPROCS %d)\n", secs, res["auc"], res["threads"])
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
