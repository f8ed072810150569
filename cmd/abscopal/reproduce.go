package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// newReproduceCmd is "models reproduce": it retrains a published version
// from its training record and says whether the same files come out.
func newReproduceCmd(reg func() (*models.Registry, error)) *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "reproduce NAME[@ALIAS|:VERSION] --data FILE",
		Short: "Retrain a published version from its recorded data and settings and check that the same files come out",
		Long: `reproduce checks that FILE is the version's training data (its SHA-256), trains
again with the settings the bundle records (algorithm, seed, folds, bootstrap
resamples, calibration, threshold, subgroup or fold column, hyperparameters), and
compares what comes out with the published files (bundle.json, card.md and
the plots), byte for byte. Exit 0 when all are the same; 1, naming what
differs, when they are not. An abscopal or Go other than the one that
made the version (the card names both) may explain a difference.

A recalibrated version (abscopal models recalibrate) is reproduced from the
file it was recalibrated on: the version it came from is recalibrated again
and its files (recalibration.svg too) compared.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			if data == "" {
				return usageError{errors.New("--data is required")}
			}
			m, published, err := r.LoadFiles(args[0])
			if err != nil {
				return err
			}
			b, name, version := m.Bundle, m.Bundle.Name, m.Version
			var files map[string][]byte
			if rc := b.Recalibrated; rc != nil {
				files, err = reproduceRecalibration(cmd.Context(), r, name, version, rc, data)
			} else {
				files, err = retrain(cmd.Context(), name, version, b, data, cmd.ErrOrStderr())
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			same := true
			for _, f := range slices.Sorted(maps.Keys(files)) {
				if bytes.Equal(files[f], published[f]) {
					fmt.Fprintf(out, "same       %s\n", f)
					continue
				}
				same = false
				fmt.Fprintf(out, "DIFFERENT  %s%s\n", f, bundleParts(f, files[f], published[f]))
			}
			if !same {
				info := buildinfo.Read()
				fmt.Fprintf(cmd.ErrOrStderr(), "abscopal: %s:%s not reproduced from %s (made by abscopal %s with %s; this is abscopal %s with %s)\n",
					name, version, filepath.Base(data), b.Training.AbscopalVersion, b.Training.GoVersion, info.Version, info.GoVersion)
				return exitError{1}
			}
			fmt.Fprintf(out, "reproduced %s:%s from %s, byte for byte\n", name, version, filepath.Base(data))
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the version's training data (Parquet or CSV); for a recalibrated version, the data it was recalibrated on")
	return cmd
}

// bundleParts names the top-level parts of two bundle.json files that
// differ (" (model, metrics)"); "" for other files.
func bundleParts(name string, a, b []byte) string {
	if name != "bundle.json" {
		return ""
	}
	var pa, pb map[string]json.RawMessage
	if json.Unmarshal(a, &pa) != nil || json.Unmarshal(b, &pb) != nil {
		return ""
	}
	var diff []string
	for _, k := range []string{"format", "name", "target", "algo", "pipeline", "model", "calibration", "training", "metrics"} {
		if !bytes.Equal(pa[k], pb[k]) {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return ""
	}
	return " (" + strings.Join(diff, ", ") + ")"
}

// retrain trains name:version (bundle b) again from its training data file
// and recorded settings, and renders its files.
func retrain(ctx context.Context, name, version string, b *models.Bundle, data string, log io.Writer) (map[string][]byte, error) {
	sum, err := fileSHA256(data)
	if err != nil {
		return nil, err
	}
	if sum != b.Training.DataSHA256 {
		return nil, fmt.Errorf("%s is not the training data of %s:%s: SHA-256 %s, recorded %s (%s)", data, name, version, sum, b.Training.DataSHA256, b.Training.DataFile)
	}
	opts, err := train.OptionsOf(b)
	if err != nil {
		return nil, err
	}
	spec := *b.Pipeline.Spec
	td, err := readTraining(ctx, data, &spec, opts.By, opts.Survival, log)
	if err != nil {
		return nil, err
	}
	records := td.records
	opts.ByKind = td.byKind
	var stop func()
	opts.Progress, stop = newProgress(log, fmt.Sprintf("retraining %s:%s (%s) on %d rows", name, version, opts.Algo, len(records)))
	res, err := train.Run(ctx, &spec, records, opts)
	stop()
	if err != nil {
		return nil, err
	}
	again, err := train.Bundle(b.Name, res, b.Training)
	if err != nil {
		return nil, err
	}
	return workflow.Files(again, res)
}

// reproduceRecalibration recalibrates the version a recalibrated one came
// from on the data file again, with the recorded settings, and renders the
// files.
func reproduceRecalibration(ctx context.Context, r *models.Registry, name, version string, rc *models.Recalibration, data string) (map[string][]byte, error) {
	sum, err := fileSHA256(data)
	if err != nil {
		return nil, err
	}
	if sum != rc.DataSHA256 {
		return nil, fmt.Errorf("%s is not the data %s:%s was recalibrated on: SHA-256 %s, recorded %s (%s)", data, name, version, sum, rc.DataSHA256, rc.DataFile)
	}
	from, fromFiles, err := r.LoadFiles(rc.From)
	if err != nil {
		return nil, fmt.Errorf("%s:%s was recalibrated from %s: %w", name, version, rc.From, err)
	}
	_, files, err := recalibrate(ctx, from, fromFiles, data, sum, train.RecalibrateOptions{Method: rc.Method, Bootstrap: rc.Bootstrap, Seed: rc.Seed})
	return files, err
}
