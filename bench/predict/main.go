// Command predict hands bench/predict/run.sh's peers what they need to
// score the file "abscopal predict" scores, and reads back what it wrote.
//
//	go run ./bench/predict matrix -registry DIR -model NAME -data FILE -out DIR
//
// writes, for the model's rows of FILE (every row; run.sh's target,
// objective_response, is defined for every patient), the vectors its
// feature pipeline makes (X.f64, raw little-endian float64 for numpy's
// fromfile), their labels (y.f64) and the model's hyperparameters
// (model.json), so that a peer trained on the training file's vectors with
// the same trees, depth and penalty scores the same inputs.
//
//	go run ./bench/predict probs -scores SCORES.parquet -out P.f64
//
// writes the probability column of abscopal's scores, for the peer's
// script to judge beside its own (their AUCs).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/abscopal/abscopal/bench/internal/rawf64"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	ctx := context.Background()
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	var err error
	switch os.Args[1] {
	case "matrix":
		reg := fs.String("registry", "", "the registry")
		model := fs.String("model", "", "the model")
		in := fs.String("data", "", "the file to score")
		out := fs.String("out", "", "the directory for X.f64, y.f64 and model.json")
		fs.Parse(os.Args[2:])
		if *reg == "" || *model == "" || *in == "" || *out == "" {
			usage()
		}
		err = matrix(ctx, &models.Registry{Dir: *reg}, *model, *in, *out)
	case "probs":
		scores := fs.String("scores", "", "abscopal predict's output")
		out := fs.String("out", "", "the .f64 file to write")
		fs.Parse(os.Args[2:])
		if *scores == "" || *out == "" {
			usage()
		}
		err = probs(ctx, *scores, *out)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/predict:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: predict matrix -registry DIR -model NAME -data FILE -out DIR | predict probs -scores FILE -out FILE")
	os.Exit(2)
}

// matrix writes X.f64, y.f64 and model.json for the model's rows of in.
func matrix(ctx context.Context, reg *models.Registry, ref, in, out string) error {
	m, err := reg.Load(ref)
	if err != nil {
		return err
	}
	src, spec, err := m.OpenSource(ctx, in, features.SourceOptions{})
	if err != nil {
		return err
	}
	defer src.Close()
	p := m.Bundle.Pipeline
	cols := p.NumOutputs()
	var X, y []float64
	var notes features.Notes
	err = src.Each(ctx, func(r features.Record) error {
		pos, ok := spec.Label(r)
		if !ok {
			return fmt.Errorf("%s: a row without %s", in, spec.Target.Column)
		}
		x := make([]float64, cols)
		notes.Reset()
		p.Transform(r, x, &notes)
		X = append(X, x...)
		label := 0.0
		if pos {
			label = 1
		}
		y = append(y, label)
		return nil
	})
	if err != nil {
		return err
	}
	info := map[string]any{"algo": m.Classifier.Algo(), "rows": len(y), "cols": cols}
	switch c := m.Classifier.(type) {
	case *models.GBM:
		info["trees"], info["depth"], info["learning_rate"], info["lambda"], info["min_child_weight"] =
			len(c.Trees), c.Opts.MaxDepth, c.Opts.LearningRate, c.Opts.Lambda, c.Opts.MinChildWeight
	case *models.Forest:
		info["trees"], info["depth"], info["min_leaf"], info["split_features"] = len(c.Trees), c.Opts.MaxDepth, c.Opts.MinLeaf, c.Opts.SplitFeatures
	case *models.Logistic:
		info["lambda"] = c.Lambda
	}
	b, err := json.Marshal(info)
	if err != nil {
		return err
	}
	if err := rawf64.Write(filepath.Join(out, "X.f64"), X); err != nil {
		return err
	}
	if err := rawf64.Write(filepath.Join(out, "y.f64"), y); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "model.json"), b, 0o644)
}

// probs writes the probability column of a scores file.
func probs(ctx context.Context, scores, out string) error {
	t, err := data.ReadTable(ctx, scores, nil)
	if err != nil {
		return err
	}
	c := t.Column("probability")
	if c == nil {
		return fmt.Errorf("%s: no probability column", scores)
	}
	return rawf64.Write(out, c.Num)
}
