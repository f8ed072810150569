package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newCompareCmd() *cobra.Command {
	var (
		df           dataFlags
		mf           modelFlags
		algos        []string
		asJSON       bool
		oof          string
		repeats      int
		instability  int
		survival     []string
		vsSpecs      []string
		decimalComma decimalCommaFlag
	)
	cmd := &cobra.Command{
		Use:   "compare --data FILE [--spec S] --target COLUMN [--algos logistic,gbm,forest] [--seed N] [--repeats R]",
		Short: "Cross-validate algorithms on the same folds and compare them, publishing nothing",
		Long: `compare cross-validates each algorithm as train does, on the same stratified
folds (the same --seed), and prints their out-of-fold metrics side by side
with each one's AUC difference from the best and a 95% interval for it from
paired bootstrap resamples of the patients: both models are judged on the
same resampled patients, so the interval allows for their correlation. An
interval that holds 0 means this data cannot tell the two apart.

The interval is conditional on the folds: it does not hold the variation
from refitting on other training sets. --repeats R repeats the whole
cross-validation on R partitions (seeds S, S+1, ..., S+R-1): the AUC column
becomes the mean AUC of the R x k test folds (with the range of the
repeats' means), beside the pooled AUC train reports, and each difference
from the best the mean difference over those folds, with Nadeau and
Bengio's corrected resampled t interval, which allows for both the
patients and the folds (and for the overlap of the training sets, which a
plain t would not). --instability B sets beside them how stable each
algorithm's predictions are (train --instability). --vs-spec S2 also
cross-validates each algorithm with the feature spec S2 (repeatable), on the
same rows and folds, to tell whether a feature set does better: entries
are named ALGO@SPEC. Nothing is written; train the algorithm you choose with
"abscopal train".`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if df.data == "" {
				return usageError{errors.New("--data is required")}
			}
			if df.timeToEvent(cmd.Flags()) {
				return compareSurvival(cmd, df, mf, algos, asJSON)
			}
			for i, a := range algos {
				if _, err := models.LookupAlgorithm(a); err != nil {
					return usageError{fmt.Errorf("--algos: %w", err)}
				}
				if slices.Contains(algos[:i], a) {
					return usageError{fmt.Errorf("--algos: %s given twice", a)}
				}
			}
			if len(algos) < 2 && len(vsSpecs) == 0 {
				return usageError{errors.New("--algos: name at least two algorithms (or one, with --vs-spec)")}
			}
			switch {
			case repeats < 1 || repeats > 100:
				return usageError{fmt.Errorf("--repeats: %d (allowed: 1 to 100)", repeats)}
			case repeats > 1 && mf.opts.FoldsBy != "":
				return usageError{errors.New("--repeats: folds by a column are the same partition every time; repeat random folds only")}
			case repeats > 1 && oof != "":
				return usageError{errors.New("--oof writes one cross-validation's predictions; give it without --repeats")}
			case instability < 0:
				return usageError{fmt.Errorf("--instability %d: want a count of bootstrap models (200 or more), or 0 for none", instability)}
			}
			if err := checkEndpoints(survival); err != nil {
				return err
			}
			spec, err := df.loadSpec(cmd.Flags())
			if err != nil {
				return err
			}
			specs := []*features.Spec{spec}
			for _, path := range vsSpecs {
				s, err := df.loadFile(cmd.Flags(), path)
				if err != nil {
					return err
				}
				if s.Target.String() != spec.Target.String() {
					return usageError{fmt.Errorf("--vs-spec %s predicts %s, the first spec %s: specs compared must share a target", path, s.Target, spec.Target)}
				}
				specs = append(specs, s)
			}
			names, err := specNames(specs, append([]string{df.spec}, vsSpecs...))
			if err != nil {
				return err
			}
			// Each algorithm's settings: the flags, before the data is read.
			var perAlgo []train.Options
			for _, a := range algos {
				o, err := mf.options(cmd.Flags(), a)
				if err != nil {
					return err
				}
				perAlgo = append(perAlgo, o)
			}
			if oof != "" {
				if err := checkOOF(oof); err != nil {
					return err
				}
			}
			if err := decimalComma.check(oof); err != nil {
				return err
			}
			named := make([]workflow.NamedSpec, len(specs))
			for i, s := range specs {
				named[i] = workflow.NamedSpec{Name: names[i], Spec: s}
			}
			c, err := workflow.Compare(cmd.Context(), workflow.CompareOptions{Data: df.data, Specs: named, Algos: perAlgo, Repeats: repeats,
				Instability: instability, Survival: survival, OOF: oof, OOFDecimalComma: decimalComma.on,
				Progress: tracker(cmd.ErrOrStderr()), Notice: notice(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			printComparison(cmd.OutOrStdout(), c)
			return nil
		},
	}
	f := cmd.Flags()
	df.register(f, "data (Parquet or CSV)")
	f.StringSliceVar(&algos, "algos", []string{"logistic", "gbm", "forest"}, "algorithms to compare (at least two)")
	f.BoolVar(&asJSON, "json", false, "print the comparison as JSON")
	f.StringVar(&oof, "oof", "", "also write each algorithm's out-of-fold predictions, on the same rows and folds, to this .parquet or .csv file")
	f.IntVar(&repeats, "repeats", 1, "repeat the cross-validation on this many partitions (seeds --seed, --seed+1, ...): mean AUCs, and differences with the corrected resampled t interval")
	decimalComma.register(f, "--oof")
	f.IntVar(&instability, "instability", 0, "also fit each algorithm on every row and develop this many bootstrap models of it: how far their probabilities stray from its own, side by side (train --instability; 200 or more; 0: none)")
	f.StringSliceVar(&vsSpecs, "vs-spec", nil, "also cross-validate each algorithm with this feature spec (repeatable), on the same folds: does a feature set do better than --spec's (or the built-in one)? Entries are named ALGO@SPEC")
	f.StringSliceVar(&survival, "survival", nil, "also compare, for each algorithm, the survival of the patients its out-of-fold probabilities put at or above the threshold with the others' (os, pfs; train --survival)")
	mf.register(f)
	return cmd
}

// minusBest is the table's cell of a's AUC difference from the best.
func minusBest(c *workflow.Comparison, a workflow.ComparedAlgo) string {
	if a.Algo == c.Best {
		return "best"
	}
	return fmt.Sprintf("%+.3f (%+.3f to %+.3f)", a.MinusBest, a.MinusBestCI[0], a.MinusBestCI[1])
}

func printComparison(w io.Writer, c *workflow.Comparison) {
	if c.FoldsBy != "" {
		fmt.Fprintf(w, "%d rows (%d positive), cross-validation by %s (%d folds, each holding out one value): the same folds for every algorithm\n", c.Rows, c.Positives, c.FoldsBy, c.Folds)
	} else if c.Repeats > 1 {
		fmt.Fprintf(w, "%d rows (%d positive), %d-fold cross-validation repeated %d times (seeds %d-%d): the same folds for every algorithm in each repeat\n",
			c.Rows, c.Positives, c.Folds, c.Repeats, c.Seed, c.Seed+uint64(c.Repeats)-1)
	} else {
		fmt.Fprintf(w, "%d rows (%d positive), %d-fold cross-validation with seed %d: the same folds for every algorithm\n", c.Rows, c.Positives, c.Folds, c.Seed)
	}
	if c.Synthetic {
		fmt.Fprintln(w, "SYNTHETIC data: a demonstration, not clinical evidence")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if c.Repeats > 1 {
		fmt.Fprintln(tw, "ALGO\tFOLD AUC (REPEATS' RANGE)\tPOOLED AUC\tBRIER\tLOG LOSS\tCAL. SLOPE\tICI\tFOLD AUC - BEST (95% CI)")
		for _, a := range c.Algos {
			m := a.Repeated
			fmt.Fprintf(tw, "%s\t%.3f (%.3f-%.3f)\t%.3f\t%.4f\t%.4f\t%.3f\t%.3f\t%s\n", a.Algo, m.FoldAUC, slices.Min(m.RepeatFoldAUCs), slices.Max(m.RepeatFoldAUCs),
				m.AUC, m.Brier, m.LogLoss, m.CalSlope, m.ICI, minusBest(c, a))
		}
		tw.Flush()
		fmt.Fprintf(w, "\nFold AUC: the mean over the %d test folds (%d repeats x %d) of each fold's AUC; the range is of the repeats' means.\n"+
			"The other columns are means over the repeats of their pooled out-of-fold figures (the pooled AUC is train's).\n"+
			"Each difference is the mean over the test folds of the fold's AUC minus the best's, with the corrected resampled t\n"+
			"interval (Nadeau and Bengio 2003), which allows for the overlap of the folds' training sets: a plain t would be too narrow.\n",
			c.Repeats*c.Folds, c.Repeats, c.Folds)
		printFoldLambdas(w, c)
		printInstabilities(w, c)
		printSurvivals(w, c)
		return
	}
	fmt.Fprintln(tw, "ALGO\tAUC (95% CI)\tBRIER\tLOG LOSS\tCAL. SLOPE\tICI\tAUC - BEST (95% CI)")
	for _, a := range c.Algos {
		m := a.Metrics
		fmt.Fprintf(tw, "%s\t%.3f (%.3f-%.3f)\t%.4f\t%.4f\t%.3f\t%.3f\t%s\n", a.Algo, m.AUC, m.AUCLow, m.AUCHigh, m.Brier, m.LogLoss, m.CalSlope, m.ICI, minusBest(c, a))
	}
	tw.Flush()
	printFoldLambdas(w, c)
	printInstabilities(w, c)
	printSurvivals(w, c)
	if c.FoldsBy == "" {
		return
	}
	// Each held-out value's AUC side by side: which algorithm carries to a
	// centre it has not seen. The groups are the same for every algorithm.
	fmt.Fprintf(w, "\nROC AUC of each held-out %s (-: one outcome only):\n\n", c.FoldsBy)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tN\tPOSITIVE", strings.ToUpper(c.FoldsBy))
	for _, a := range c.Algos {
		fmt.Fprintf(tw, "\t%s", strings.ToUpper(a.Algo))
	}
	fmt.Fprintln(tw)
	for i, g := range c.Algos[0].Groups {
		fmt.Fprintf(tw, "%s\t%d\t%d", g.Value, g.N, g.Positives)
		for _, a := range c.Algos {
			if gm := a.Groups[i].Metrics; gm != nil {
				fmt.Fprintf(tw, "\t%.3f", gm.AUC)
			} else {
				fmt.Fprint(tw, "\t-")
			}
		}
		fmt.Fprintln(tw)
	}
	// The random-effects summary: the mean over groups and where a new
	// group's AUC is expected.
	pooled := func(label string, cell func(p *stats.PooledAUC) string) {
		fmt.Fprintf(tw, "%s\t\t", label)
		for _, a := range c.Algos {
			if a.Pooled == nil {
				fmt.Fprint(tw, "\t-")
			} else {
				fmt.Fprintf(tw, "\t%s", cell(a.Pooled))
			}
		}
		fmt.Fprintln(tw)
	}
	pooled("random effects", func(p *stats.PooledAUC) string { return fmt.Sprintf("%.3f", p.AUC) })
	pooled("95% CI", func(p *stats.PooledAUC) string { return fmt.Sprintf("%.3f-%.3f", p.Low, p.High) })
	pooled("95% prediction", func(p *stats.PooledAUC) string {
		if p.PredHigh == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f-%.3f", p.PredLow, p.PredHigh)
	})
	tw.Flush()
}

// printInstabilities sets the algorithms' stability analyses side by side
// (with --instability).
func printInstabilities(w io.Writer, c *workflow.Comparison) {
	first := c.Algos[0].Instability
	if first == nil {
		return
	}
	fmt.Fprintf(w, "\nStability of each algorithm's predictions: its model fitted on every row against %d bootstrap models of it,\n", first.Bootstraps)
	fmt.Fprintf(w, "developed and calibrated the same way (Riley and Collins 2023; train --instability puts it in the card):\n\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ALGO\tMAPE\tMAPE, 95TH PERCENTILE ROW\tMEAN 95%% WIDTH\tCLASSED OTHERWISE AT %.2f BY OVER 1 MODEL IN 5\n", first.Threshold)
	for _, a := range c.Algos {
		ins := a.Instability
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%.1f%%\n", a.Algo, ins.MAPE, ins.MAPEP95, ins.Width95, 100*ins.Unstable)
	}
	tw.Flush()
}

// printSurvivals sets each algorithm's survival comparison beside the
// others', endpoint by endpoint.
func printSurvivals(w io.Writer, c *workflow.Comparison) {
	asked := false
	for _, a := range c.Algos {
		asked = asked || len(a.Survival) > 0 || len(a.SurvivalNotes) > 0
	}
	if !asked {
		return
	}
	fmt.Fprintf(w, "\nSurvival of the patients each algorithm's out-of-fold probability puts at or above the threshold, against the others\n")
	fmt.Fprintf(w, "(Cox hazard ratio; Harrell's C of the probability; train --survival puts it in the card):\n\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ALGO\tENDPOINT\tN AT OR ABOVE\tHAZARD RATIO (95%% CI)\tLOG-RANK P\tC-INDEX\n")
	for _, a := range c.Algos {
		for _, s := range a.Survival {
			hr := s.HazardRatio
			fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%.2f (%.2f-%.2f)\t%s\t%.3f\n", a.Algo, strings.ToUpper(s.Endpoint), s.High.N, s.Patients, hr.HR, hr.Low, hr.High, stats.FormatP(s.LogRankP), s.CIndex)
		}
	}
	tw.Flush()
	for _, a := range c.Algos {
		for _, n := range a.SurvivalNotes {
			fmt.Fprintf(w, "%s: %s\n", a.Algo, n)
		}
	}
}

// printFoldLambdas lists, with --tune, the penalties each fold chose (the
// first repeat's).
func printFoldLambdas(w io.Writer, c *workflow.Comparison) {
	for _, a := range c.Algos {
		if len(a.FoldLambdas) > 0 {
			ls := make([]string, len(a.FoldLambdas))
			for i, l := range a.FoldLambdas {
				ls[i] = train.FormatLambda(l)
			}
			fmt.Fprintf(w, "\n%s: L2 penalty tuned within each fold's training rows (nested): %s\n", a.Algo, strings.Join(ls, ", "))
		}
	}
}

// specNames names each spec for the entries' labels: its name, else its
// file's base name without extension ("irt" for the built-in one); two
// alike are an error, as the labels would be.
func specNames(specs []*features.Spec, paths []string) ([]string, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
		if names[i] == "" {
			base := filepath.Base(paths[i])
			names[i] = strings.TrimSuffix(strings.TrimSuffix(base, filepath.Ext(base)), ".spec")
		}
		if slices.Contains(names[:i], names[i]) {
			return nil, usageError{fmt.Errorf("--vs-spec: two specs are named %s; give them different names (name: in the spec)", names[i])}
		}
	}
	return names, nil
}
