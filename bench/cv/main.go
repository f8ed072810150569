// Command cv cross-validates abscopal's algorithms on a data file and writes
// each fold's design matrices (the feature pipeline fitted on that fold's
// training rows) as CSV, so that peers (bench/peers.py: scikit-learn and
// xgboost) fit on exactly the same inputs and folds. Run bench/compare.sh.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/abscopal/abscopal/bench/internal/matrixcsv"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

func main() {
	in := flag.String("data", "", "data file")
	specPath := flag.String("spec", "", "feature spec")
	folds := flag.Int("folds", 5, "folds")
	seed := flag.Uint64("seed", 1, "seed")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *in == "" || *specPath == "" || *out == "" {
		log.Fatal("usage: cv --data FILE --spec SPEC --out DIR")
	}
	ctx := context.Background()
	spec, err := features.LoadSpec(*specPath)
	check(err)
	src, err := features.OpenSource(ctx, *in, spec, features.SourceOptions{NeedTarget: true})
	check(err)
	spec = src.Spec()
	all, err := src.All(ctx)
	check(err)
	recs, y, _ := train.Labeled(spec, all)
	check(os.MkdirAll(*out, 0o755))
	fold := stats.StratifiedFolds(y, *folds, *seed)
	oof := map[string][]float64{"logistic": make([]float64, len(y)), "gbm": make([]float64, len(y)), "forest": make([]float64, len(y))}
	for k := 0; k < *folds; k++ {
		tr, te := stats.SplitFold(fold, k)
		pipe, err := features.Fit(spec, pick(recs, tr))
		check(err)
		mtr, _ := pipe.TransformAll(pick(recs, tr))
		mte, _ := pipe.TransformAll(pick(recs, te))
		check(matrixcsv.Write(filepath.Join(*out, fmt.Sprintf("fold%d_train.csv", k)), pipe.Outputs, mtr, pick(y, tr), nil))
		check(matrixcsv.Write(filepath.Join(*out, fmt.Sprintf("fold%d_test.csv", k)), pipe.Outputs, mte, pick(y, te), nil))
		d := &models.Data{Rows: mtr.Rows, Cols: mtr.Cols, X: mtr.Data, Y: pick(y, tr)}
		lr, err := models.FitLogistic(d, models.LogisticOptions{Lambda: 1})
		check(err)
		// The defaults of "abscopal train".
		gbo := train.DefaultGBM()
		gbo.Seed = *seed*1_000_003 + uint64(k+1)
		gb, err := models.FitGBM(ctx, d, gbo)
		check(err)
		fo, err := models.FitForest(ctx, d, models.ForestOptions{Trees: 101, Seed: *seed*1_000_003 + uint64(k+1)})
		check(err)
		for j, i := range te {
			oof["logistic"][i] = lr.Score(mte.Row(j))
			oof["gbm"][i] = gb.Score(mte.Row(j))
			oof["forest"][i] = fo.Score(mte.Row(j))
		}
	}
	res := map[string]float64{}
	for name, s := range oof {
		res[name] = stats.AUC(s, y)
	}
	// The GBM's settings, for bench/peers.py to give xgboost the same.
	b, _ := json.MarshalIndent(map[string]any{"rows": len(y), "folds": *folds, "seed": *seed, "auc": res, "gbm": train.DefaultGBM()}, "", "  ")
	check(os.WriteFile(filepath.Join(*out, "ours.json"), b, 0o644))
	fmt.Println(string(b))
}

// pick returns the elements of xs at idx, in that order.
func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = xs[i]
	}
	return out
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
