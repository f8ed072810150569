package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// newRecalibrateCmd is "models recalibrate": a published version's model
// with its calibration refitted on other patients, published as a new
// version.
func newRecalibrateCmd(reg func(context.Context) (*models.Registry, error)) *cobra.Command {
	var (
		data string
		opts = train.RecalibrateOptions{Method: models.CalibrationPlatt}
	)
	cmd := &cobra.Command{
		Use:   "recalibrate NAME[@ALIAS|:VERSION] --data FILE",
		Short: "Refit a version's calibration on the labelled patients of another file and publish it as a new version",
		Long: `recalibrate keeps a published version's feature pipeline and model and fits
a new calibration (Platt by default, or isotonic) on the model's scores of
the labelled patients of FILE, or with --calibration intercept shifts the
old one by the log-odds that fits them best (recalibration in the large,
which keeps the slope and asks less of a small sample; for a version
calibrated by Platt or not at all): the update a model needs when "abscopal
evaluate" shows that it ranks the patients of a new centre or period well
but misjudges their risk (a calibration intercept far from 0 or a slope far
from 1). The order of the patients, and so the AUC, does not change.

The new version's card opens with the calibration on FILE before and after
(after is in-sample: validate the new version on other patients), and
records FILE's SHA-256; "abscopal models reproduce NEW --data FILE" checks
that recalibrating again gives the same files. FILE may not be the
version's own training data.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reg(cmd.Context())
			if err != nil {
				return err
			}
			if data == "" {
				return usageError{errors.New("--data is required")}
			}
			switch opts.Method {
			case models.CalibrationPlatt, models.CalibrationIsotonic, models.CalibrationIntercept:
			default:
				return usageError{fmt.Errorf("--calibration %s: platt, isotonic or intercept", opts.Method)}
			}
			if opts.Bootstrap < 0 || opts.Bootstrap > 100000 {
				return usageError{fmt.Errorf("--bootstrap must be in [0, 100000], got %d", opts.Bootstrap)}
			}
			rec, err := workflow.Recalibrate(cmd.Context(), r, args[0], data, opts)
			if err != nil {
				return err
			}
			printRecalibration(cmd.OutOrStdout(), rec.Name, rec.Version, rec.Recalibrated)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "labelled patients to recalibrate on (Parquet or CSV), not the training data")
	f.StringVar(&opts.Method, "calibration", opts.Method, "platt or isotonic (a new map), or intercept (the old one shifted: for a small sample)")
	f.IntVar(&opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples for the AUC intervals of the report")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed of the resamples")
	return cmd
}

func printRecalibration(w io.Writer, name, version string, rec *train.Recalibrated) {
	rc := rec.Bundle.Recalibrated
	fmt.Fprintf(w, "published %s:%s: %s recalibrated (%s) on %s, %d labelled patients (%d positive)\n",
		name, version, rc.From, rc.Method, rc.DataFile, rc.Rows, rc.Positives)
	if rc.Method == models.CalibrationIntercept {
		fmt.Fprintf(w, "every patient's log-odds shifted by %+.3f\n", rec.Shift)
	}
	if rec.Bundle.Synthetic() {
		fmt.Fprintln(w, "SYNTHETIC data: a demonstration, not for clinical use")
	}
	if rec.Unlabelled+rec.Undefined > 0 {
		fmt.Fprintf(w, "left out: %d with a null %s, %d for which it has no meaning\n", rec.Unlabelled, rec.Bundle.Target, rec.Undefined)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ON %s\tBEFORE\tAFTER (IN-SAMPLE)\n", rc.DataFile)
	b, a := rec.Before, rec.After
	fmt.Fprintf(tw, "ROC AUC\t%.3f\t%.3f\n", b.AUC, a.AUC)
	fmt.Fprintf(tw, "Brier score\t%.4f\t%.4f\n", b.Brier, a.Brier)
	fmt.Fprintf(tw, "calibration intercept / slope\t%.3f / %.3f\t%.3f / %.3f\n", b.CalIntercept, b.CalSlope, a.CalIntercept, a.CalSlope)
	fmt.Fprintf(tw, "ICI / E90 (smoothed calibration)\t%.3f / %.3f\t%.3f / %.3f\n", b.ICI, b.E90, a.ICI, a.E90)
	tw.Flush()
	fmt.Fprintln(w, "\nAfter is in-sample (fitted on these patients): validate the new version on others with abscopal evaluate.")
}
