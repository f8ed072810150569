package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// newReproduceCmd is "models reproduce": it retrains a published version
// from its training record and says whether the same files come out.
func newReproduceCmd(reg func(context.Context) (*models.Registry, error)) *cobra.Command {
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
			r, err := reg(cmd.Context())
			if err != nil {
				return err
			}
			if data == "" {
				return usageError{errors.New("--data is required")}
			}
			rep, err := workflow.Reproduce(cmd.Context(), r, args[0], data, tracker(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range rep.Files {
				switch {
				case f.Same:
					fmt.Fprintf(out, "same       %s\n", f.Name)
				case f.Parts != "":
					fmt.Fprintf(out, "DIFFERENT  %s (%s)\n", f.Name, f.Parts)
				default:
					fmt.Fprintf(out, "DIFFERENT  %s\n", f.Name)
				}
			}
			if !rep.Reproducible() {
				fmt.Fprintf(cmd.ErrOrStderr(), "abscopal: %s:%s not reproduced from %s (made by %s; this is %s)\n",
					rep.Name, rep.Version, rep.DataFile, rep.MadeBy, rep.ThisBinary)
				return exitError{1}
			}
			fmt.Fprintf(out, "reproduced %s:%s from %s, byte for byte\n", rep.Name, rep.Version, rep.DataFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the version's training data (Parquet or CSV); for a recalibrated version, the data it was recalibrated on")
	return cmd
}
