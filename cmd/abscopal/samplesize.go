package main

import (
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newSampleSizeCmd() *cobra.Command {
	var (
		registry, ref, in string
		opts              train.PlanOptions
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "samplesize --registry DIR --model NAME[@ALIAS|:VERSION] --data FILE",
		Short: "How many patients an external validation of a model needs (Riley et al.)",
		Long: `samplesize plans an external validation: from a file of the new population's
patients (their covariates; outcomes not needed), it gives the minimum number
of patients, and of them with the outcome, for estimating the model's
observed/expected ratio, calibration slope and C-statistic to 95% intervals
of the given widths (Riley et al., Stat Med 2021;40:4230-51; the criteria of
the R package pmvalsampsize). The slope's criterion takes the distribution of
the model's linear predictor from its predictions for the file's patients.

It anticipates the model's cross-validated AUC (or --c-statistic) and the
prevalence of the file's labelled rows when they hold both outcomes, else of
the training rows (or --prevalence).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry == "" || ref == "" || in == "" {
				return usageError{errors.New("--registry, --model and --data are required")}
			}
			if opts.Prevalence < 0 || opts.Prevalence >= 1 {
				return usageError{fmt.Errorf("--prevalence %v must be in (0, 1)", opts.Prevalence)}
			}
			if opts.CStatistic != 0 && !(opts.CStatistic > 0.5 && opts.CStatistic < 1) {
				return usageError{fmt.Errorf("--c-statistic %v must be in (0.5, 1)", opts.CStatistic)}
			}
			if ws := opts.Widths; !(ws.OE > 0 && ws.Slope > 0 && ws.C > 0 && ws.C < 1) {
				return usageError{errors.New("--oe-width, --slope-width and --c-width must be positive (--c-width under 1)")}
			}
			reg, err := openRegistry(cmd.Context(), registry)
			if err != nil {
				return err
			}
			out, err := workflow.PlanValidation(cmd.Context(), reg, ref, in, opts)
			if err != nil {
				return err
			}
			plan, cFrom := out.ValidationPlan, out.CStatisticFrom
			if asJSON {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "validating %s:%s (%s) on patients like the %d of %s", out.Model, out.Version, out.Outcome, plan.Patients, out.DataFile)
			if plan.Undefined > 0 {
				fmt.Fprintf(w, " (%d more left out: %s has no meaning for them)", plan.Undefined, out.Target)
			}
			fmt.Fprintln(w)
			fmt.Fprintf(w, "anticipating a prevalence of %.3f (%s) and a C-statistic of %.3f (%s)\n\n", plan.Prevalence, plan.PrevalenceFrom, plan.CStatistic, cFrom)
			// evaluate's minimum comes from the labelled patients alone: on a
			// file with some unlabelled, the two differ, and each says whose.
			fmt.Fprintf(w, "%s (the file's, labelled or not)\n", plan.Describe())
			if plan.Labelled > 0 {
				fmt.Fprintf(w, "\nthe file has %d labelled patients (%d with the outcome)", plan.Labelled, plan.Positives)
				if plan.Labelled >= plan.Minimum && plan.Positives >= plan.Events {
					fmt.Fprintf(w, ": enough\n")
				} else {
					fmt.Fprintf(w, ": %d short of the minimum\n", max(0, plan.Minimum-plan.Labelled))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", registryFlagHelp)
	cmd.Flags().StringVar(&ref, "model", "", "model: NAME (the production alias, else the latest), NAME@ALIAS or NAME:VERSION")
	cmd.Flags().StringVar(&in, "data", "", "Parquet or CSV file of the new population's patients (outcomes not needed)")
	cmd.Flags().Float64Var(&opts.Prevalence, "prevalence", 0, "anticipated prevalence of the outcome there (default: the file's labelled rows', else the training rows')")
	cmd.Flags().Float64Var(&opts.CStatistic, "c-statistic", 0, "anticipated C-statistic there (default: the model's cross-validated AUC)")
	w := stats.DefaultValidationWidths()
	cmd.Flags().Float64Var(&opts.Widths.OE, "oe-width", w.OE, "width of the observed/expected ratio's 95% interval")
	cmd.Flags().Float64Var(&opts.Widths.Slope, "slope-width", w.Slope, "width of the calibration slope's 95% interval")
	cmd.Flags().Float64Var(&opts.Widths.C, "c-width", w.C, "width of the C-statistic's 95% interval")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}
