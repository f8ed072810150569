package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newTrainCmd() *cobra.Command {
	var (
		df             dataFlags
		mf             modelFlags
		registry, name string
		algo, by, oof  string
		instability    int
		intervals      bool
		survival       []string
		decimalComma   decimalCommaFlag
		alpha          float64
		times          []float64
	)
	cmd := &cobra.Command{
		Use:   "train --data FILE [--spec S] --target COLUMN --algo ALGORITHM --registry DIR --name NAME --seed N",
		Short: "Cross-validate, calibrate and publish a model into a registry",
		Long: `train fits the feature pipeline and a classifier with stratified k-fold
cross-validation, reports out-of-fold metrics (ROC AUC with a bootstrap 95% CI,
Brier score, log loss, calibration intercept and slope, sensitivity and
specificity, a decision curve; with --by, the same per subgroup; with
--folds-by, one fold per centre or other group, each predicted by a model
that never saw it), calibrates
on out-of-fold scores, fits the final model on all rows, and publishes a new
immutable version into the registry: bundle.json, card.md (the model card),
calibration.svg, decision_curve.svg and MANIFEST. With --instability B, B
bootstrap models are developed as the model was, and the card says how far
their probabilities for the training rows stray from the model's
(instability.svg: Riley and Collins's prediction instability plot). With
--survival os,pfs, it compares the survival of the patients whose out-of-fold
probability reaches the threshold with the others' (Kaplan-Meier, log-rank,
Cox hazard ratio, Harrell's C; survival_os.svg). "abscopal models reproduce"
retrains a version from its record and checks that the same files come out.

Without --spec the data is a cohort-schema file and the built-in
radioimmunotherapy features are used; --target picks abscopal_response or
objective_response. With --spec, any Parquet or CSV file; --target overrides the
spec's target column.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if df.data == "" || registry == "" || name == "" {
				return usageError{errors.New("--data, --registry and --name are required")}
			}
			if !models.ValidName(name) {
				return usageError{fmt.Errorf("--name %q: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit", name)}
			}
			if df.timeToEvent(cmd.Flags()) {
				return trainSurvival(cmd, df, mf, survivalFlags{algo: algo, alpha: alpha, times: times, oof: oof, by: by, instability: instability, intervals: intervals}, registry, name)
			}
			if algo == models.CoxAlgo {
				return usageError{errors.New("--algo cox models a time to an event: give --target os or pfs (or a spec whose target has time and event)")}
			}
			opts, err := mf.options(cmd.Flags(), algo)
			if err != nil {
				return err
			}
			alg, _ := models.LookupAlgorithm(algo) // options checked it
			if mf.opts.Tune && !alg.Penalized {
				// compare takes --tune for its penalized regressions among
				// the others; train has one algorithm, which must be one.
				return usageError{fmt.Errorf("--tune chooses the %s regression's penalty; --algo %s has none to tune (the gbm's early stopping chooses its trees)", models.NamesWhere(func(a models.Algorithm) bool { return a.Penalized }), algo)}
			}
			if instability < 0 {
				return usageError{fmt.Errorf("--instability %d: want a count of bootstrap models (200 or more), or 0 for none", instability)}
			}
			opts.Instability = instability
			switch {
			case intervals && instability == 0:
				return usageError{errors.New("--intervals keeps the bootstrap models of --instability: give both (--instability 200 --intervals)")}
			case intervals && !alg.KeepsBootstrap:
				return usageError{fmt.Errorf("--intervals: a %s's bootstrap models are too large to keep (a forest's are each its own hundred deep trees); use --algo %s", algo, models.NamesWhere(func(a models.Algorithm) bool { return a.KeepsBootstrap }))}
			}
			opts.Intervals = intervals
			if err := checkEndpoints(survival); err != nil {
				return err
			}
			opts.Survival = survival
			switch {
			case opts.FoldsBy == "":
				opts.By = by
			case by != "" && by != opts.FoldsBy:
				return usageError{fmt.Errorf("--by %s and --folds-by %s: folds by a column report their metrics by it; give one", by, opts.FoldsBy)}
			}
			spec, err := df.loadSpec(cmd.Flags())
			if err != nil {
				return err
			}
			if err := decimalComma.check(oof); err != nil {
				return err
			}
			if oof != "" {
				if err := checkOOF(oof); err != nil {
					return err
				}
			}
			reg, err := openRegistry(cmd.Context(), registry)
			if err != nil {
				return err
			}
			pub, err := workflow.Train(cmd.Context(), workflow.TrainOptions{Data: df.data, Spec: spec, Registry: reg, Name: name,
				Train: opts, OOF: oof, OOFDecimalComma: decimalComma.on, Progress: tracker(cmd.ErrOrStderr()), Notice: notice(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), name, pub.Version, registry, pub.Result, pub.Synthetic)
			return nil
		},
	}
	f := cmd.Flags()
	df.register(f, "training data (Parquet or CSV)")
	f.StringVar(&registry, "registry", "", registryFlagHelp+" (a directory is created if needed)")
	f.StringVar(&name, "name", "", "model name in the registry")
	f.StringVar(&algo, "algo", "gbm", models.AlgorithmNames()+"; for a time to an event (--target os or pfs): "+models.CoxAlgo+", the default there")
	f.Float64Var(&alpha, "alpha", 0, "cox: the elastic-net penalty's L1 share (0: ridge, 1: lasso)")
	f.Float64SliceVar(&times, "times", train.DefaultSurvivalTimes(), "cox: the times (months, for a cohort file) at which survival is predicted and judged")
	f.StringVar(&oof, "oof", "", "also write the out-of-fold predictions the metrics come from (id, fold, label, calibrated and uncalibrated probability) to this .parquet or .csv file")
	f.StringVar(&by, "by", "", fmt.Sprintf("also report the cross-validated metrics of each subgroup of this column, in the summary and the card (at most %d values)", train.MaxGroups))
	decimalComma.register(f, "--oof")
	f.StringSliceVar(&survival, "survival", nil, "also compare the survival of the patients the out-of-fold probabilities put at or above the threshold with the others', on these endpoints (os, pfs: the columns os_months and os_event, pfs_months and pfs_event), in the summary and the card with a Kaplan-Meier plot")
	f.BoolVar(&intervals, "intervals", false, "with --instability, keep the bootstrap models with the model (bootstrap.json), so that predict --intervals and the API give each patient the central 95% of their probabilities (logistic and gbm), or of their medians (cox and gbm for --target os or pfs)")
	f.IntVar(&instability, "instability", 0, "also develop this many bootstrap models and report how far their probabilities (for --target os or pfs: their survival at --times) for the training rows stray from the model's, in the card with a plot (Riley and Collins 2023; 200 or more; 0: none)")
	mf.register(f)
	return cmd
}

// checkOOF refuses an --oof path that cannot be written, before any
// training.
func checkOOF(path string) error {
	if err := workflow.CheckOutput(path); err != nil {
		if oe, ok := errors.AsType[*workflow.OptionError](err); ok {
			return usageError{fmt.Errorf("--oof %w", oe.Err)}
		}
		return err
	}
	return nil
}

// tracker reports long work on w: a bar when w is a terminal, plain lines
// otherwise (newProgress).
func tracker(w io.Writer) workflow.Tracker {
	return func(label string) (workflow.Progress, func()) { return newProgress(w, label) }
}

// notice prints a use case's notices on w, a line each.
func notice(w io.Writer) workflow.Notice {
	return func(msg string) { fmt.Fprintln(w, msg) }
}

// newProgress reports training steps: a bar when w is a terminal, plain
// lines otherwise (logs, CI). The bar's clock is redrawn every second, as a
// step (a forest's fold on 20,000 rows) can take half a minute; stop ends
// that, and must be called once the training is over, however it ended.
func newProgress(w io.Writer, what string) (progress func(done, total int, step string), stop func()) {
	start := time.Now()
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var (
			bar  *progressbar.ProgressBar
			done = make(chan struct{})
		)
		progress = func(n, total int, step string) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
					progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish())
				go func(bar *progressbar.ProgressBar) {
					tick := time.NewTicker(time.Second)
					defer tick.Stop()
					for {
						select {
						case <-done:
							return
						case <-tick.C:
							bar.Add(0) // redraws the elapsed time; the bar locks itself
						}
					}
				}(bar)
			}
			if step != "" {
				bar.Describe(what + ": " + step + " done")
			}
			bar.Set(n)
			if n == total {
				bar.Finish()
			}
		}
		return progress, sync.OnceFunc(func() { close(done) })
	}
	fmt.Fprintf(w, "%s\n", what)
	return func(n, total int, step string) {
		if n > 0 { // the start was the line above
			fmt.Fprintf(w, "  [%d/%d] %s done (%.1f s)\n", n, total, step, time.Since(start).Seconds())
		}
	}, func() {}
}

// cvName names the cross-validation of opts, as run: "5-fold CV", or "CV
// by centre, 4 folds" for folds by a column.
func cvName(o train.Options) string {
	if o.FoldsBy != "" {
		return fmt.Sprintf("CV by %s, %d folds", o.FoldsBy, o.Folds)
	}
	return fmt.Sprintf("%d-fold CV", o.Folds)
}

func printSummary(w io.Writer, name, version, registry string, res *train.Result, synthetic bool) {
	m := res.Metrics
	fmt.Fprintf(w, "\npublished %s:%s in %s\n", name, version, registry)
	if synthetic {
		fmt.Fprintln(w, "trained on SYNTHETIC data: a demonstration, not for clinical use")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "rows\t%d (%d positive; %d without a target left out)\n", res.Rows, m.Positives, res.DroppedRows)
	fmt.Fprintf(tw, "ROC AUC (%s)\t%.3f (95%% CI %.3f-%.3f)\n", cvName(res.Options), m.AUC, m.AUCLow, m.AUCHigh)
	fmt.Fprintf(tw, "Brier score\t%.4f\n", m.Brier)
	fmt.Fprintf(tw, "log loss\t%.4f\n", m.LogLoss)
	fmt.Fprintf(tw, "calibration intercept / slope\t%.3f / %.3f\n", m.CalIntercept, m.CalSlope)
	fmt.Fprintf(tw, "ICI / E90 (smoothed calibration)\t%.3f / %.3f\n", m.ICI, m.E90)
	fmt.Fprintf(tw, "sensitivity / specificity at %.2f\t%.3f / %.3f", m.Threshold, m.Sensitivity, m.Specificity)
	// An outcome of low (or high) prevalence: hardly any calibrated
	// probability reaches a threshold of 0.5 (or all do), and the figures
	// say little.
	prevalence := float64(m.Positives) / float64(m.N)
	classedPositive := m.Sensitivity*prevalence + (1-m.Specificity)*(1-prevalence)
	if classedPositive < 0.01 || classedPositive > 0.99 {
		fmt.Fprintf(tw, " (%.1f%% of patients at or above %.2f: --threshold sets another, nearer the prevalence %.3f)", 100*classedPositive, m.Threshold, prevalence)
	}
	fmt.Fprintln(tw)
	if len(res.Groups) > 0 {
		var aucs []string
		for _, g := range res.Groups {
			if g.Metrics == nil {
				aucs = append(aucs, fmt.Sprintf("%s -", g.Value))
			} else {
				aucs = append(aucs, fmt.Sprintf("%s %.3f", g.Value, g.Metrics.AUC))
			}
		}
		fmt.Fprintf(tw, "ROC AUC by %s (the card has more)\t%s\n", res.Options.By, strings.Join(aucs, ", "))
	}
	if p := res.Pooled; p != nil {
		line := fmt.Sprintf("%.3f (95%% CI %.3f-%.3f)", p.AUC, p.Low, p.High)
		if p.PredHigh > 0 {
			line += fmt.Sprintf(", in a new %s %.3f-%.3f (95%% prediction interval)", res.Options.By, p.PredLow, p.PredHigh)
		}
		fmt.Fprintf(tw, "ROC AUC across %s (random effects)\t%s\n", res.Options.By, line)
	}
	if t := res.TunedLambda(); t != "" {
		fmt.Fprintf(tw, "L2 penalty (tuned, nested CV)\t%s\n", t)
	}
	if s := res.SampleSize; s != nil {
		switch {
		case s.Minimum == 0:
			fmt.Fprintf(tw, "sample size (Riley et al.)\tno minimum: the out-of-fold probabilities do no better than the base rate\n")
		case s.Met():
			fmt.Fprintf(tw, "sample size (Riley et al.)\tmet: %d rows, minimum %d for %d parameters\n", s.Rows, s.Minimum, s.Parameters)
		default:
			fmt.Fprintf(tw, "sample size (Riley et al.)\tNOT MET: %d rows, minimum %d for %d parameters (the card says more)\n", s.Rows, s.Minimum, s.Parameters)
		}
	}
	if ins := res.Instability; ins != nil {
		fmt.Fprintf(tw, "prediction instability (%d bootstrap models)	MAPE %.3f (95th percentile row %.3f); %.1f%% of rows classed otherwise at %.2f by over 1 model in 5\n",
			ins.Bootstraps, ins.MAPE, ins.MAPEP95, 100*ins.Unstable, ins.Threshold)
	}
	for _, s := range res.Survival {
		fmt.Fprintf(tw, "%s by prediction (out of fold)\t%s\n", strings.ToUpper(s.Endpoint), s.Describe())
	}
	for _, n := range res.SurvivalNotes {
		fmt.Fprintf(tw, "survival by prediction\t%s\n", n)
	}
	if lead := train.Leading(res.Importance, 3); len(lead) > 0 {
		var top []string
		for _, im := range lead {
			top = append(top, fmt.Sprintf("%s (%.2f)", im.Feature, im.MeanAbs))
		}
		fmt.Fprintf(tw, "leans most on (mean |contribution|, log-odds)\t%s\n", strings.Join(top, ", "))
	} else if len(res.Importance) > 0 {
		fmt.Fprintf(tw, "leans most on\tnothing: the final model gives every patient the same score\n")
	}
	tw.Flush()
}
