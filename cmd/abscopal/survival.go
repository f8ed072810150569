package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// survivalFlags are train's flags of a time-to-event model alone.
type survivalFlags struct {
	algo  string
	alpha float64
	times []float64
	oof   string
	by    string
	// instability bootstrap models, kept with intervals.
	instability int
	intervals   bool
}

// classifierOnly are train's flags that a time-to-event model does not
// take: a usage error names them rather than ignoring them.
var classifierOnly = []string{"calibration", "threshold", "tau2", "min-leaf", "split-features", "forest-learner", "survival",
	"at-least", "decimal-comma"}

// gbmOnly are the boosted trees' flags, coxOnly the Cox model's penalty's.
var (
	gbmOnly = []string{"trees", "depth", "learning-rate", "leaf-lambda", "min-child-weight", "subsample", "colsample", "early-stopping"}
	coxOnly = []string{"lambda", "alpha", "tune"}
)

// trainSurvival is train for a time-to-event target: a Cox model.
func trainSurvival(cmd *cobra.Command, df dataFlags, mf modelFlags, sf survivalFlags, registry, name string) error {
	f := cmd.Flags()
	algo := models.CoxAlgo
	if f.Changed("algo") {
		algo = sf.algo
	}
	if algo != models.CoxAlgo && algo != models.BoostedCoxAlgo {
		return usageError{fmt.Errorf("--algo %s: a time to an event is modelled by --algo %s (the default) or %s (a boosted Cox model)", sf.algo, models.CoxAlgo, models.BoostedCoxAlgo)}
	}
	changed := func(names []string) []string {
		var given []string
		for _, n := range names {
			if f.Lookup(n) != nil && f.Changed(n) {
				given = append(given, "--"+n)
			}
		}
		return given
	}
	if given := changed(classifierOnly); len(given) > 0 {
		return usageError{fmt.Errorf("%s: not for a time-to-event model (--algo %s)", strings.Join(given, ", "), algo)}
	}
	other := gbmOnly
	if algo == models.BoostedCoxAlgo {
		other = coxOnly
	}
	if given := changed(other); len(given) > 0 {
		return usageError{fmt.Errorf("%s: not for --algo %s", strings.Join(given, ", "), algo)}
	}
	o := train.SurvivalOptions{Algo: algo, Folds: mf.opts.Folds, Seed: mf.opts.Seed, Bootstrap: mf.opts.Bootstrap, Alpha: sf.alpha, Tune: mf.opts.Tune, Times: sf.times,
		By: sf.by, FoldsBy: mf.opts.FoldsBy, Instability: sf.instability, Intervals: sf.intervals}
	switch {
	case sf.instability < 0:
		return usageError{fmt.Errorf("--instability %d: want a count of bootstrap models (200 or more), or 0 for none", sf.instability)}
	case sf.intervals && sf.instability == 0:
		return usageError{errors.New("--intervals keeps the bootstrap models of --instability: give both (--instability 200 --intervals)")}
	case o.FoldsBy != "" && f.Changed("folds"):
		return usageError{errors.New("--folds and --folds-by: give one (--folds-by makes one fold per value)")}
	case o.FoldsBy != "" && o.By != "" && o.By != o.FoldsBy:
		return usageError{fmt.Errorf("--by %s and --folds-by %s: folds by a column report their metrics by it; give one", o.By, o.FoldsBy)}
	}
	if algo == models.BoostedCoxAlgo {
		alg, _ := models.LookupAlgorithm("gbm")
		if err := checkTrainFlags(alg, mf.opts, mf.trees, mf.depth); err != nil {
			return usageError{err}
		}
		s := mf.opts.Settings
		alg.Trees.Set(&s, mf.trees, mf.depth)
		o.GBM = s.GBM
	}
	if f.Changed("lambda") {
		if mf.opts.Tune {
			return usageError{errors.New("--tune and --lambda: give one (--tune chooses the penalty)")}
		}
		o.Lambda = mf.opts.Logistic.Lambda
		if !(o.Lambda > 0) {
			return usageError{fmt.Errorf("--lambda %v: a cox penalty is a number > 0", o.Lambda)}
		}
	}
	switch {
	case sf.alpha < 0 || sf.alpha > 1:
		return usageError{fmt.Errorf("--alpha %v: the L1 share is in [0, 1]", sf.alpha)}
	case mf.opts.Folds < 2:
		return usageError{fmt.Errorf("--folds %d: need at least 2", mf.opts.Folds)}
	case mf.opts.Bootstrap < 1:
		return usageError{fmt.Errorf("--bootstrap %d: need at least 1", mf.opts.Bootstrap)}
	}
	for i, t := range sf.times {
		if !(t > 0) || (i > 0 && t <= sf.times[i-1]) {
			return usageError{fmt.Errorf("--times %v: positive times, ascending", sf.times)}
		}
	}
	if sf.oof != "" {
		if err := checkOOF(sf.oof); err != nil {
			return err
		}
	}
	spec, err := df.loadSpec(f)
	if err != nil {
		return err
	}
	reg, err := openRegistry(cmd.Context(), registry)
	if err != nil {
		return err
	}
	pub, err := workflow.TrainSurvival(cmd.Context(), workflow.TrainSurvivalOptions{Data: df.data, Spec: spec, Registry: reg,
		Name: name, Train: o, OOF: sf.oof, Progress: tracker(cmd.ErrOrStderr()), Notice: notice(cmd.ErrOrStderr())})
	if err != nil {
		return err
	}
	printSurvivalSummary(cmd.OutOrStdout(), name, pub.Version, registry, pub.Result, pub.Synthetic)
	return nil
}

func printSurvivalSummary(w io.Writer, name, version, registry string, res *train.SurvivalResult, synthetic bool) {
	m := res.Metrics
	fmt.Fprintf(w, "\npublished %s:%s in %s\n", name, version, registry)
	if synthetic {
		fmt.Fprintln(w, "trained on SYNTHETIC data: a demonstration, not for clinical use")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "rows\t%d (%d events; %d without a time or event left out)\n", res.Rows, res.Events, res.DroppedRows)
	if g := res.Model.Boosted; g != nil {
		fmt.Fprintf(tw, "boosted Cox model\t%d trees of depth %d\n", len(g.Trees), g.Opts.MaxDepth)
	} else {
		fmt.Fprintf(tw, "penalty\t%s (L1 share %g)\n", train.FormatLambda(res.Lambda), res.Options.Alpha)
	}
	cv := fmt.Sprintf("%d-fold cross-validated", res.Options.Folds)
	if res.Options.FoldsBy != "" {
		cv = fmt.Sprintf("cross-validated by %s: %d folds", res.Options.FoldsBy, res.Options.Folds)
	}
	fmt.Fprintf(tw, "Harrell's C (%s)\t%.3f (95%% CI %.3f-%.3f)\n", cv, m.C, m.CLow, m.CHigh)
	fmt.Fprintf(tw, "Uno's C to %g\t%.3f (95%% CI %.3f-%.3f)\n", m.Times[len(m.Times)-1], m.Uno, m.UnoLow, m.UnoHigh)
	for k, t := range m.Times {
		fmt.Fprintf(tw, "at %g: AUC / Brier (null)\t%s / %.4f (%.4f)\n", t, num3(m.AUC[k]), m.Brier[k], m.NullBrier[k])
	}
	fmt.Fprintf(tw, "integrated Brier score to %g (null)\t%.4f (%.4f)\n", m.Times[len(m.Times)-1], m.IBS, m.NullIBS)
	if ins := res.Instability; ins != nil {
		parts := make([]string, len(ins.Times))
		for k, t := range ins.Times {
			parts[k] = fmt.Sprintf("at %g %.3f", t, ins.MAPE[k])
		}
		kept := "not kept"
		if len(res.Bootstrap) > 0 {
			kept = "kept for the intervals of the median"
		}
		fmt.Fprintf(tw, "prediction instability (%d bootstrap models, %s)\tMAPE of S(t) %s\n", ins.Bootstraps, kept, strings.Join(parts, ", "))
	}
	if len(res.Groups) > 0 {
		var parts []string
		for _, g := range res.Groups {
			if g.Metrics == nil {
				parts = append(parts, g.Value+" -")
			} else {
				parts = append(parts, fmt.Sprintf("%s %.3f", g.Value, g.Metrics.C))
			}
		}
		fmt.Fprintf(tw, "Harrell's C by %s\t%s\n", res.Options.By, strings.Join(parts, ", "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nthe model card: abscopal models show --registry %s %s\n", registry, name)
}

func num3(x float64) string {
	if x != x {
		return "-"
	}
	return fmt.Sprintf("%.3f", x)
}

// compareSurvival is compare for a time-to-event target: the Cox model and
// the boosted Cox model (--algos cox,gbm, the default there), on the same
// folds.
func compareSurvival(cmd *cobra.Command, df dataFlags, mf modelFlags, algos []string, asJSON bool) error {
	f := cmd.Flags()
	if !f.Changed("algos") {
		algos = []string{models.CoxAlgo, models.BoostedCoxAlgo}
	}
	for i, a := range algos {
		if a != models.CoxAlgo && a != models.BoostedCoxAlgo {
			return usageError{fmt.Errorf("--algos %s: a time to an event is modelled by %s or %s", a, models.CoxAlgo, models.BoostedCoxAlgo)}
		}
		if slices.Contains(algos[:i], a) {
			return usageError{fmt.Errorf("--algos: %s given twice", a)}
		}
	}
	if len(algos) < 2 {
		return usageError{errors.New("--algos: name both, cox and gbm")}
	}
	if mf.opts.FoldsBy != "" && f.Changed("folds") {
		return usageError{errors.New("--folds and --folds-by: give one (--folds-by makes one fold per value)")}
	}
	for _, n := range []string{"repeats", "instability", "survival", "oof", "vs-spec", "calibration", "threshold", "tune", "lambda"} {
		if f.Lookup(n) != nil && f.Changed(n) {
			return usageError{fmt.Errorf("--%s: not for comparing time-to-event models (yet)", n)}
		}
	}
	spec, err := df.loadSpec(f)
	if err != nil {
		return err
	}
	var opts []train.SurvivalOptions
	for _, a := range algos {
		o := train.SurvivalOptions{Algo: a, Folds: mf.opts.Folds, Seed: mf.opts.Seed, Bootstrap: mf.opts.Bootstrap}
		if a == models.BoostedCoxAlgo {
			alg, _ := models.LookupAlgorithm("gbm")
			if err := checkTrainFlags(alg, mf.opts, mf.trees, mf.depth); err != nil {
				return usageError{err}
			}
			st := mf.opts.Settings
			alg.Trees.Set(&st, mf.trees, mf.depth)
			o.GBM = st.GBM
		}
		opts = append(opts, o)
	}
	c, err := workflow.CompareSurvival(cmd.Context(), workflow.CompareSurvivalOptions{Data: df.data, Spec: spec, Models: opts, FoldsBy: mf.opts.FoldsBy,
		Progress: tracker(cmd.ErrOrStderr()), Notice: notice(cmd.ErrOrStderr())})
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), c)
	}
	w := cmd.OutOrStdout()
	if c.FoldsBy != "" {
		fmt.Fprintf(w, "%s: %d patients, %d events, cross-validation by %s (%d folds, each holding out one value): the same folds for each", c.Target, c.Rows, c.Events, c.FoldsBy, c.Folds)
	} else {
		fmt.Fprintf(w, "%s: %d patients, %d events, %d-fold cross-validation (the same folds for each), seed %d", c.Target, c.Rows, c.Events, c.Folds, mf.opts.Seed)
	}
	if c.Synthetic {
		fmt.Fprint(w, " (SYNTHETIC data)")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	last := c.Models[0].Metrics.Times[len(c.Models[0].Metrics.Times)-1]
	fmt.Fprintf(tw, "MODEL\tHARRELL'S C (95%% CI)\tC - BEST (95%% CI)\tIBS TO %g (NULL)\tAUC AT", last)
	for _, t := range c.Models[0].Metrics.Times {
		fmt.Fprintf(tw, " %g", t)
	}
	fmt.Fprintln(tw)
	for _, m := range c.Models {
		diff := "best"
		if m.Algo != c.Best {
			diff = fmt.Sprintf("%+.3f (%+.3f to %+.3f)", m.CMinusBest, m.Low, m.High)
		}
		var aucs []string
		for _, a := range m.Metrics.AUC {
			aucs = append(aucs, num3(a))
		}
		fmt.Fprintf(tw, "%s\t%.3f (%.3f-%.3f)\t%s\t%.4f (%.4f)\t%s\n", m.Algo, m.Metrics.C, m.Metrics.CLow, m.Metrics.CHigh, diff, m.Metrics.IBS, m.Metrics.NullIBS, strings.Join(aucs, " / "))
	}
	if err := tw.Flush(); err != nil || c.FoldsBy == "" {
		return err
	}
	// Each held-out value's C side by side: which model carries to a
	// centre it was not developed on.
	fmt.Fprintf(w, "\nHarrell's C of each held-out %s (-: no event):\n\n", c.FoldsBy)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tPATIENTS\tEVENTS", strings.ToUpper(c.FoldsBy))
	for _, m := range c.Models {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(m.Algo))
	}
	fmt.Fprintln(tw)
	for g, first := range c.Models[0].Groups {
		fmt.Fprintf(tw, "%s\t%d\t%d", first.Value, first.N, first.Events)
		for _, m := range c.Models {
			if gm := m.Groups[g].Metrics; gm != nil {
				fmt.Fprintf(tw, "\t%s", num3(gm.C))
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// evaluateSurvival is evaluate for a time-to-event model: its C, AUC and
// Brier scores on the file beside its cross-validation's.
func evaluateSurvival(cmd *cobra.Command, opts workflow.EvaluateSurvivalOptions, refs []string, asJSON bool) error {
	f := cmd.Flags()
	if len(refs) > 1 {
		return usageError{errors.New("--model: a time-to-event model is evaluated alone (side by side: not yet)")}
	}
	for _, n := range []string{"threshold", "pool", "tau2", "plot", "dca-plot", "survival", "survival-plots"} {
		if f.Lookup(n) != nil && f.Changed(n) {
			return usageError{fmt.Errorf("--%s: not for a time-to-event model", n)}
		}
	}
	opts.Model = refs[0]
	ev, err := workflow.EvaluateSurvival(cmd.Context(), opts)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), ev)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "%s:%s (%s, %s) on %s\ndata SHA-256 %s\n", ev.Model, ev.Version, ev.Algo, ev.Target, ev.DataFile, ev.DataSHA256)
	if ev.TrainingFile {
		fmt.Fprintf(w, "\nThis is the file the model was trained on (same SHA-256): these figures are in-sample and\noptimistic, not a validation. Evaluate on patients the model has not seen.\n")
	}
	if ev.Synthetic {
		fmt.Fprintf(w, "\nSYNTHETIC data: a demonstration, not clinical evidence.\n")
	}
	fmt.Fprintf(w, "\n%d patients with a time and an event (%d events; %d without either left out)\n\n", ev.Rows, ev.Events, ev.Dropped)
	m, cv := ev.Metrics, ev.CrossValidated
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\tTHIS FILE\tCROSS-VALIDATED AT TRAINING\n")
	fmt.Fprintf(tw, "Harrell's C (95%% CI)\t%.3f (%.3f-%.3f)\t%.3f (%.3f-%.3f)\n", m.C, m.CLow, m.CHigh, cv.C, cv.CLow, cv.CHigh)
	fmt.Fprintf(tw, "Uno's C to %g (95%% CI)\t%.3f (%.3f-%.3f)\t%.3f (%.3f-%.3f)\n", m.Times[len(m.Times)-1], m.Uno, m.UnoLow, m.UnoHigh, cv.Uno, cv.UnoLow, cv.UnoHigh)
	for k, t := range m.Times {
		fmt.Fprintf(tw, "at %g: AUC / Brier (null)\t%s / %.4f (%.4f)\t%s / %.4f (%.4f)\n", t, num3(m.AUC[k]), m.Brier[k], m.NullBrier[k], num3(cv.AUC[k]), cv.Brier[k], cv.NullBrier[k])
	}
	fmt.Fprintf(tw, "integrated Brier score (null)\t%.4f (%.4f)\t%.4f (%.4f)\n", m.IBS, m.NullIBS, cv.IBS, cv.NullIBS)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\ncalibration at each time, by tenth of predicted survival (mean prediction / Kaplan-Meier):")
	for k, t := range m.Times {
		var parts []string
		for _, d := range m.Calibration[k] {
			parts = append(parts, fmt.Sprintf("%.2f/%.2f", d.Predicted, d.Observed))
		}
		fmt.Fprintf(w, "  at %g: %s\n", t, strings.Join(parts, " "))
	}
	if ev.By != "" {
		fmt.Fprintf(w, "\nBy %s (each value judged on its own patients; -: no event):\n\n", ev.By)
		return printSurvivalGroups(w, ev.By, ev.Groups)
	}
	return nil
}

// printSurvivalGroups sets out each subgroup's metrics, a row per value.
func printSurvivalGroups(w io.Writer, by string, groups []train.SurvivalGroup) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tPATIENTS\tEVENTS\tHARRELL'S C (95%% CI)\tINTEGRATED BRIER (NULL)\n", strings.ToUpper(by))
	for _, g := range groups {
		if g.Metrics == nil {
			fmt.Fprintf(tw, "%s\t%d\t%d\t-\t-\n", g.Value, g.N, g.Events)
			continue
		}
		m := g.Metrics
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s (%s-%s)\t%.4f (%.4f)\n", g.Value, g.N, g.Events, num3(m.C), num3(m.CLow), num3(m.CHigh), m.IBS, m.NullIBS)
	}
	return tw.Flush()
}
