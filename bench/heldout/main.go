// Command heldout trains abscopal's algorithms on synthetic patients and
// scores a held-out quarter, beside the AUC of the generator's true
// probabilities: the split of train.TestRecoversTheTruth (20,000 patients
// from seed 2, the first 15,000 for training). It writes each target's
// design matrices as CSV (the test file with the true probability), so that
// bench/heldout.py can fit scikit-learn's forests and xgboost on exactly the
// same inputs. Run bench/compare.sh.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/abscopal/abscopal/bench/internal/matrixcsv"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// result is one algorithm's held-out AUC and fitting time.
type result struct {
	AUC     float64 `json:"auc"`
	Seconds float64 `json:"seconds"`
}

func main() {
	n := flag.Int("n", 20000, "synthetic patients (three quarters train, one quarter test)")
	seed := flag.Uint64("seed", 2, "generator seed")
	out := flag.String("out", "", "output directory")
	// The forest's settings, to see how far from the truth other forests
	// land; the defaults are those of "abscopal train".
	var fo models.ForestOptions
	flag.IntVar(&fo.Trees, "forest-trees", 101, "forest: trees (odd)")
	flag.IntVar(&fo.MinLeaf, "forest-min-leaf", 10, "forest: fewest bootstrap rows in a leaf")
	flag.IntVar(&fo.SplitFeatures, "forest-split-features", 0, "forest: features drawn per split (0: square root of their count)")
	flag.IntVar(&fo.MaxBins, "forest-max-bins", 32, "forest: distinct values per feature given to golearn")
	flag.Parse()
	fo.Seed = 1
	ctx := context.Background()
	if *out == "" {
		log.Fatal("usage: heldout --out DIR")
	}
	check(os.MkdirAll(*out, 0o755))
	ps := synth.Generate(*n, *seed)
	cut := *n * 3 / 4
	targets := map[string]func(*data.Patient) (*bool, *float64){
		"objective_response": func(p *data.Patient) (*bool, *float64) { return p.ObjectiveResponse, p.TruePResponse },
		"abscopal_response":  func(p *data.Patient) (*bool, *float64) { return p.AbscopalResponse, p.TruePAbscopal },
	}
	gbo := train.DefaultGBM()
	gbo.Seed = 1
	report := map[string]any{"n": *n, "seed": *seed, "train": cut, "forest": fo, "gbm": gbo}
	for name, label := range targets {
		var trR, teR []features.Record
		var ytr, yte, truth []float64
		for i := range ps {
			l, tp := label(&ps[i])
			if l == nil { // abscopal response is undefined without RT
				continue
			}
			y := 0.0
			if *l {
				y = 1
			}
			if i < cut {
				trR, ytr = append(trR, features.PatientRecord{P: &ps[i]}), append(ytr, y)
			} else {
				teR, yte, truth = append(teR, features.PatientRecord{P: &ps[i]}), append(yte, y), append(truth, *tp)
			}
		}
		pipe, err := features.Fit(features.BuiltinSpec(name), trR)
		check(err)
		mtr, _ := pipe.TransformAll(trR)
		mte, _ := pipe.TransformAll(teR)
		check(matrixcsv.Write(filepath.Join(*out, name+"_train.csv"), pipe.Outputs, mtr, ytr, nil))
		check(matrixcsv.Write(filepath.Join(*out, name+"_test.csv"), pipe.Outputs, mte, yte, truth))
		d := &models.Data{Rows: mtr.Rows, Cols: mtr.Cols, X: mtr.Data, Y: ytr}
		// The defaults of "abscopal train"; calibration is left out, as Platt
		// scaling is monotone and does not change the AUC.
		fits := map[string]func() (models.Classifier, error){
			"logistic": func() (models.Classifier, error) { return models.FitLogistic(d, models.LogisticOptions{Lambda: 1}) },
			"gbm": func() (models.Classifier, error) {
				return models.FitGBM(ctx, d, gbo)
			},
			"forest": func() (models.Classifier, error) {
				return models.FitForest(ctx, d, fo)
			},
		}
		res := map[string]result{}
		for algo, fit := range fits {
			t0 := time.Now()
			c, err := fit()
			check(err)
			secs := time.Since(t0).Seconds()
			s := make([]float64, mte.Rows)
			for i := range s {
				s[i] = c.Score(mte.Row(i))
			}
			res[algo] = result{AUC: stats.AUC(s, yte), Seconds: secs}
		}
		report[name] = map[string]any{"train_rows": mtr.Rows, "test_rows": mte.Rows, "columns": mtr.Cols,
			"truth_auc": stats.AUC(truth, yte), "ours": res}
	}
	b, _ := json.MarshalIndent(report, "", "  ")
	check(os.WriteFile(filepath.Join(*out, "ours.json"), b, 0o644))
	fmt.Println(string(b))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
