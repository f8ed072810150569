package main

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newEvaluateCmd() *cobra.Command {
	var (
		registry, in, plot string
		dcaPlot            string
		survivalPlots      string
		refs               []string
		opts               train.ValidateOptions
		asJSON             bool
	)
	cmd := &cobra.Command{
		Use:   "evaluate --registry DIR --model NAME[@ALIAS|:VERSION] [--model ...] --data FILE",
		Short: "Validate published models on a labelled file: AUC, calibration, sensitivity, beside their cross-validation",
		Long: `evaluate scores every row of FILE with a published model, as predict does, and
compares the calibrated probabilities with the outcomes the file records: ROC AUC
with a bootstrap 95% CI, Brier score, log loss, calibration intercept and slope,
the calibration curve (deciles, each with a 95% interval), sensitivity and
specificity at the threshold the model was trained with (--threshold to change
it), and the decision curve, beside the model's cross-validated figures.

On patients the model has not seen (another centre, a later period) this is
external validation, which a model card's cross-validation cannot replace. Rows
whose outcome is null, or has no meaning (an abscopal response without RT), are
left out and counted. Run on the training file itself, the figures are
in-sample and optimistic, and evaluate says so.

Given several models of one target (--model a --model b, or --model a,b), it
scores each on the same rows and prints them side by side, with each one's AUC
minus the first one's and a 95% interval from paired bootstrap resamples of
the patients: a new version against the one in production, say.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry == "" || len(refs) == 0 || in == "" {
				return usageError{errors.New("--registry, --model and --data are required")}
			}
			if opts.Bootstrap < 0 || opts.Bootstrap > 100000 {
				return usageError{fmt.Errorf("--bootstrap must be in [0, 100000], got %d", opts.Bootstrap)}
			}
			reg, err := openRegistry(cmd.Context(), registry)
			if err != nil {
				return err
			}
			if m, err := reg.Load(refs[0]); err == nil && m.Survival != nil {
				return evaluateSurvival(cmd, workflow.EvaluateSurvivalOptions{Registry: reg, Data: in, Bootstrap: opts.Bootstrap, Seed: opts.Seed, By: opts.By}, refs, asJSON)
			}
			plots := workflow.EvaluationPlots{Calibration: plot, DecisionCurve: dcaPlot, SurvivalDir: survivalPlots}
			for _, pf := range []struct{ flag, path string }{{"--plot", plot}, {"--dca-plot", dcaPlot}} {
				if err := (workflow.EvaluationPlots{Calibration: pf.path}).CheckPlots(); err != nil { // before the evaluation, not after it
					if oe, ok := errors.AsType[*workflow.OptionError](err); ok {
						return usageError{fmt.Errorf("%s %w", pf.flag, oe.Err)}
					}
					return err
				}
			}
			if opts.Pool && opts.By == "" {
				return usageError{errors.New("--pool pools the subgroups of --by: give the centre column with --by")}
			}
			if _, err := stats.ParseTau2Method(string(opts.Tau2)); err != nil {
				return usageError{fmt.Errorf("--tau2: %w", err)}
			}
			if !opts.Pool && cmd.Flags().Changed("tau2") {
				return usageError{errors.New("--tau2 sets how --pool pools the centres' AUCs: give it with --pool")}
			}
			if len(refs) > 1 && (plot != "" || dcaPlot != "" || opts.By != "" || len(opts.Survival) > 0) {
				return usageError{errors.New("--plot, --dca-plot, --by and --survival take one model; evaluate the models one by one for them")}
			}
			if err := checkEndpoints(opts.Survival); err != nil {
				return err
			}
			if survivalPlots != "" && len(opts.Survival) == 0 {
				return usageError{errors.New("--survival-plots draws the curves of --survival: give the endpoints")}
			}
			if cmd.Flags().Changed("threshold") && !(opts.Threshold > 0 && opts.Threshold < 1) {
				return usageError{fmt.Errorf("--threshold must be in (0, 1), got %v", opts.Threshold)}
			}
			evs, err := workflow.Evaluate(cmd.Context(), workflow.EvaluateOptions{Registry: reg, Models: refs, Data: in, Validate: opts})
			if err != nil {
				return err
			}
			if len(evs) == 1 {
				if err := plots.WritePlots(evs[0]); err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), evs[0])
				}
				printEvaluation(cmd.OutOrStdout(), evs[0])
				return nil
			}
			set, err := workflow.CompareEvaluations(evs, opts.Bootstrap, opts.Seed)
			if err != nil {
				return fmt.Errorf("%s: %w", in, err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), set)
			}
			printEvaluationSet(cmd.OutOrStdout(), set)
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", registryFlagHelp)
	cmd.Flags().StringSliceVar(&refs, "model", nil, "model: NAME (the production alias, else the latest), NAME@ALIAS or NAME:VERSION; several to compare them")
	cmd.Flags().StringVar(&in, "data", "", "labelled Parquet or CSV file (the model's target column)")
	cmd.Flags().Float64Var(&opts.Threshold, "threshold", 0, "probability threshold for sensitivity and specificity (default: the one the model was trained with)")
	cmd.Flags().IntVar(&opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples for the AUC's 95% CI")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the bootstrap resamples")
	cmd.Flags().StringVar(&opts.By, "by", "", fmt.Sprintf("also evaluate each subgroup of this column (at most %d values: a category, a flag, a grade)", train.MaxGroups))
	cmd.Flags().BoolVar(&opts.Pool, "pool", false, "with --by centres: pool their AUCs by random effects (the mean across centres, and what to expect at another)")
	cmd.Flags().StringVar((*string)(&opts.Tau2), "tau2", string(stats.PauleMandel), fmt.Sprintf("with --pool: the estimator of the between-centre variance, %s or %s", stats.PauleMandel, stats.REML))
	cmd.Flags().StringVar(&plot, "plot", "", "also write the calibration plot to this .svg file")
	cmd.Flags().StringVar(&dcaPlot, "dca-plot", "", "also write the decision curve (net benefit against the thresholds) to this .svg file")
	cmd.Flags().StringSliceVar(&opts.Survival, "survival", nil, "also compare the survival of the patients given a probability at or above the threshold with the others', on these endpoints (os, pfs: the columns os_months and os_event, pfs_months and pfs_event)")
	cmd.Flags().StringVar(&survivalPlots, "survival-plots", "", "with --survival, write the Kaplan-Meier curves into this directory (survival_os.svg, ...)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the figures as JSON")
	return cmd
}

func printEvaluationSet(w io.Writer, set *workflow.EvaluationSet) {
	first := set.Models[0]
	fmt.Fprintf(w, "%d models of %s on %s (SHA-256 %s)\n", len(set.Models), first.Outcome, first.DataFile, first.DataSHA256)
	if first.Synthetic {
		fmt.Fprintf(w, "SYNTHETIC data: a demonstration, not clinical evidence\n")
	}
	printScored(w, &first.Evaluation)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "MODEL\tALGO\tROC AUC (95%% CI)\tBRIER\tLOG LOSS\tCAL. INTERCEPT / SLOPE\tCV AUC\tAUC - %s (95%% CI)\n", set.Reference)
	insample := false
	for i, cm := range set.Models {
		mm := cm.Metrics
		name := cm.Model + ":" + cm.Version
		if cm.TrainingFile || cm.RecalibrationFile {
			name += " *"
			insample = true
		}
		diff := "reference"
		if i > 0 {
			diff = fmt.Sprintf("%+.3f (%+.3f to %+.3f)", cm.MinusReference, cm.MinusReferenceCI[0], cm.MinusReferenceCI[1])
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f (%.3f-%.3f)\t%.4f\t%.4f\t%.3f / %.3f\t%.3f\t%s\n", name, cm.Algo, mm.AUC, mm.AUCLow, mm.AUCHigh,
			mm.Brier, mm.LogLoss, mm.CalIntercept, mm.CalSlope, cm.CrossValidated.AUC, diff)
	}
	tw.Flush()
	if insample {
		fmt.Fprintf(w, "\n* trained or recalibrated on this file: its figures are in-sample and optimistic, not a validation\n")
	}
	// Each model's inputs and case mix, models of other specs reading the
	// file differently; the models with nothing to report in one line.
	var quiet []string
	for i, cm := range set.Models {
		name := cm.Model + ":" + cm.Version
		shifted := len(cm.CaseMix) > 0 && cm.CaseMix[0].PSI >= features.ShiftModerate
		if len(cm.Inputs) == 0 && !shifted {
			if len(cm.CaseMix) > 0 {
				quiet = append(quiet, name)
			}
			continue
		}
		if j := slices.IndexFunc(set.Models[:i], func(o workflow.ComparedModel) bool {
			return reflect.DeepEqual(o.Inputs, cm.Inputs) && reflect.DeepEqual(o.CaseMix, cm.CaseMix)
		}); j >= 0 {
			fmt.Fprintf(w, "\n%s: inputs and case mix the same as %s:%s's.\n", name, set.Models[j].Model, set.Models[j].Version)
			continue
		}
		fmt.Fprintf(w, "\n%s: ", name)
		if len(cm.Inputs) > 0 {
			printInputs(w, cm.Inputs, cm.Metrics.N)
		} else {
			fmt.Fprintln(w, "no input filled in or unknown")
		}
		printCaseMix(w, cm.CaseMix)
	}
	if len(quiet) > 0 {
		fmt.Fprintf(w, "\nInputs and case mix of %s: no input filled in or unknown; no feature's values moved from the training rows' (population stability index under %.2f).\n",
			strings.Join(quiet, ", "), features.ShiftModerate)
	}
}

// printScored says how many rows were scored and left out, and warns when
// they are too few for a validation.
func printScored(w io.Writer, ev *workflow.Evaluation) {
	fmt.Fprintf(w, "%d rows scored (%d positive); left out: %d with a null %s, %d for which it has no meaning\n\n",
		ev.Metrics.N, ev.Metrics.Positives, ev.Unlabelled, ev.Target, ev.Undefined)
	if ev.SampleWarning != "" {
		fmt.Fprintf(w, "Warning: %s.\n\n", ev.SampleWarning)
	}
	if s := ev.ValidationSize; s != nil && ev.Metrics.N < s.Minimum {
		var short []string
		for _, c := range []struct {
			what  string
			need  int
			width float64
		}{{"the observed/expected ratio", s.ForOE, s.Widths.OE}, {"the calibration slope", s.ForSlope, s.Widths.Slope}, {"the AUC", s.ForC, s.Widths.C}} {
			if ev.Metrics.N < c.need {
				short = append(short, fmt.Sprintf("%s needs %d for a 95%% interval %.2g wide", c.what, c.need, c.width))
			}
		}
		fmt.Fprintf(w, "Warning: %d labelled patients, fewer than Riley et al.'s criteria want for validating this model on patients like these\n"+
			"(minimum %d, %d with the outcome, from its predictions for these %d): %s; those intervals are wider here\n"+
			"(abscopal samplesize says more, from the predictions for all the file's patients, labelled or not).\n\n",
			ev.Metrics.N, s.Minimum, s.Events, s.Patients, strings.Join(short, ", "))
	}
}

func printEvaluation(w io.Writer, ev *workflow.Evaluation) {
	m, cv := ev.Metrics, ev.CrossValidated
	fmt.Fprintf(w, "%s:%s (%s, target %s) on %s\n", ev.Model, ev.Version, ev.Algo, ev.Outcome, ev.DataFile)
	fmt.Fprintf(w, "data SHA-256 %s\n", ev.DataSHA256)
	if ev.TrainingFile {
		fmt.Fprintf(w, "\nThis is the file the model was trained on (same SHA-256): these figures are in-sample and\noptimistic, not a validation. Evaluate on patients the model has not seen.\n")
	}
	if ev.RecalibrationFile {
		fmt.Fprintf(w, "\nThis is the file the model was recalibrated on (same SHA-256): its calibration figures are in-sample\nand optimistic, not a validation. Evaluate on other patients of the same setting.\n")
	}
	if ev.Synthetic {
		fmt.Fprintf(w, "\nSYNTHETIC data: a demonstration, not clinical evidence.\n")
	}
	fmt.Fprintln(w)
	printScored(w, ev)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tTHIS FILE\tCROSS-VALIDATED AT TRAINING\n")
	fmt.Fprintf(tw, "ROC AUC (95%% CI)\t%.3f (%.3f-%.3f)\t%.3f (%.3f-%.3f)\n", m.AUC, m.AUCLow, m.AUCHigh, cv.AUC, cv.AUCLow, cv.AUCHigh)
	fmt.Fprintf(tw, "Brier score\t%.4f\t%.4f\n", m.Brier, cv.Brier)
	fmt.Fprintf(tw, "log loss\t%.4f\t%.4f\n", m.LogLoss, cv.LogLoss)
	fmt.Fprintf(tw, "calibration intercept / slope\t%.3f / %.3f\t%.3f / %.3f\n", m.CalIntercept, m.CalSlope, cv.CalIntercept, cv.CalSlope)
	cvICI := "- (trained before abscopal measured it)"
	if len(cv.Smooth) > 0 {
		cvICI = fmt.Sprintf("%.3f / %.3f", cv.ICI, cv.E90)
	}
	fmt.Fprintf(tw, "ICI / E90 (smoothed calibration)\t%.3f / %.3f\t%s\n", m.ICI, m.E90, cvICI)
	fmt.Fprintf(tw, "sensitivity / specificity at %.2f\t%.3f / %.3f\t", m.Threshold, m.Sensitivity, m.Specificity)
	if cv.Threshold == m.Threshold {
		fmt.Fprintf(tw, "%.3f / %.3f\n", cv.Sensitivity, cv.Specificity)
	} else {
		fmt.Fprintf(tw, "(at %.2f: %.3f / %.3f)\n", cv.Threshold, cv.Sensitivity, cv.Specificity)
	}
	tw.Flush()
	if len(ev.Inputs) > 0 {
		fmt.Fprintln(w)
		printInputs(w, ev.Inputs, m.N)
	}
	printCaseMix(w, ev.CaseMix)
	fmt.Fprintf(w, "\nCalibration on this file (deciles of the predicted probability):\n\n")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "DECILE\tN\tMEAN PREDICTED\tOBSERVED (95%% CI)\n")
	for i, c := range m.Curve {
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.3f (%.3f-%.3f)\n", i+1, c.N, c.Predicted, c.Observed, c.ObservedLow, c.ObservedHigh)
	}
	tw.Flush()
	printSurvival(w, ev.Survival, ev.SurvivalNotes)
	if len(ev.Groups) > 0 {
		fmt.Fprintf(w, "\nBy %s (subgroups with one outcome only have no AUC or calibration):\n\n", ev.By)
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "%s\tN\tPOSITIVE\tROC AUC (95%% CI)\tBRIER\tCAL. INTERCEPT / SLOPE\tICI\n", strings.ToUpper(ev.By))
		for _, g := range ev.Groups {
			fmt.Fprintf(tw, "%s\t%d\t%d\t", g.Value, g.N, g.Positives)
			if g.Metrics == nil {
				fmt.Fprintf(tw, "-\t-\t-\t-\n")
				continue
			}
			gm := g.Metrics
			fmt.Fprintf(tw, "%.3f (%.3f-%.3f)\t%.4f\t%.3f / %.3f\t%.3f\n", gm.AUC, gm.AUCLow, gm.AUCHigh, gm.Brier, gm.CalIntercept, gm.CalSlope, gm.ICI)
		}
		tw.Flush()
		switch {
		case ev.Pooled != nil:
			fmt.Fprintf(w, "\nPooled %s\n", ev.Pooled.Describe(ev.By))
		case ev.Pool:
			fmt.Fprintf(w, "\nNot pooled: fewer than two values of %s hold both outcomes.\n", ev.By)
		}
	}
	fmt.Fprintf(w, "\nDecision curve on this file: net benefit per patient of acting when p >= the threshold\n(Vickers and Elkin 2006; acting on no one: 0):\n\n")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "THRESHOLD\tMODEL\tACT ON ALL\tMODEL MINUS THE BETTER DEFAULT\n")
	for _, nb := range m.DecisionCurve {
		fmt.Fprintf(tw, "%.2f\t%.4f\t%.4f\t%+.4f\n", nb.Threshold, nb.Model, nb.TreatAll, nb.Model-max(nb.TreatAll, 0))
	}
	tw.Flush()
}

// printSurvival sets out the survival comparisons of an evaluation, one
// line a group, and the notes of the endpoints that have none.
func printSurvival(w io.Writer, splits []*stats.SurvivalSplit, notes []string) {
	if len(splits) == 0 && len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "\nSurvival by prediction (months; medians with 95%% CI; hazard ratio of the first group, Cox):\n\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ENDPOINT\tGROUP\tN\tEVENTS\tMEDIAN (95%% CI)\tHAZARD RATIO (95%% CI)\tLOG-RANK P\tC-INDEX\n")
	for _, s := range splits {
		hr := s.HazardRatio
		fmt.Fprintf(tw, "%s\tp >= %.2f\t%d\t%d\t%s\t%.2f (%.2f-%.2f)\t%s\t%.3f\n", strings.ToUpper(s.Endpoint), s.Threshold, s.High.N, s.High.Events, s.High.MedianText(),
			hr.HR, hr.Low, hr.High, stats.FormatP(s.LogRankP), s.CIndex)
		fmt.Fprintf(tw, "\tp < %.2f\t%d\t%d\t%s\t\t\t\n", s.Threshold, s.Low.N, s.Low.Events, s.Low.MedianText())
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintf(w, "%s\n", n)
	}
}
