package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/stat"
)

// comparison is what "abscopal compare --json" prints.
type comparison struct {
	Rows      int             `json:"rows"`
	Positives int             `json:"positives"`
	Folds     int             `json:"folds"`
	FoldsBy   string          `json:"folds_by,omitempty"` // each value of this column a fold
	Seed      uint64          `json:"seed"`
	Repeats   int             `json:"repeats"` // cross-validations, with seeds Seed, Seed+1, ...
	Synthetic bool            `json:"synthetic"`
	Best      string          `json:"best"`
	Algos     []comparedAlgo  `json:"algorithms"`
	results   []*train.Result // in Algos' order, of the first repeat
}

type comparedAlgo struct {
	// Algo is the algorithm; with --vs-spec, ALGO@SPEC, the spec's name
	// after the @ (Spec).
	Algo string `json:"algo"`
	Spec string `json:"spec,omitempty"`
	// Metrics are of the first (or only) cross-validation.
	Metrics stats.Metrics `json:"metrics"`
	// Repeated summarizes every repeat's metrics (with --repeats above 1).
	Repeated *repeatedMetrics `json:"repeated,omitempty"`
	// MinusBest is this algorithm's AUC minus the best one's, on the same
	// rows, with a paired-bootstrap 95% interval; with repeats, the mean
	// difference over every test fold of every repeat, with the corrected
	// resampled t interval (MinusBestMethod says which).
	MinusBest       float64    `json:"auc_minus_best"`
	MinusBestCI     [2]float64 `json:"auc_minus_best_ci"`
	MinusBestMethod string     `json:"auc_minus_best_method"`
	// Groups holds, with folds by a column, the metrics of each held-out
	// value of it.
	Groups []stats.Group `json:"groups,omitempty"`
	// Pooled is the random-effects summary of those groups' AUCs.
	Pooled *stats.PooledAUC `json:"pooled_across_groups,omitempty"`
	// FoldLambdas are, with --tune, the logistic penalties each fold chose.
	FoldLambdas []float64 `json:"fold_lambdas,omitempty"`
	// Instability is, with --instability, the stability analysis of the
	// algorithm's model fitted on every row (of the first repeat's seed).
	Instability *stats.Instability `json:"instability,omitempty"`
	// Survival is, with --survival, the survival of the patients the
	// algorithm's out-of-fold probabilities put at or above the threshold
	// against the others' (the first repeat's).
	Survival      []*stats.SurvivalSplit `json:"survival,omitempty"`
	SurvivalNotes []string               `json:"survival_notes,omitempty"`
}

// repeatedMetrics are an algorithm's metrics over repeated
// cross-validations. The comparison is of the test folds' AUCs, as the
// corrected resampled t is: FoldAUC is their mean over every fold of every
// repeat (the best algorithm has the highest), RepeatFoldAUCs each repeat's
// mean. AUCs are each repeat's AUC of its pooled out-of-fold predictions
// (what train reports), lower than the folds' mean where the folds' scores
// sit at different levels.
type repeatedMetrics struct {
	FoldAUC        float64   `json:"fold_auc_mean"`
	RepeatFoldAUCs []float64 `json:"repeat_fold_auc_means"` // in seed order
	AUCs           []float64 `json:"aucs"`                  // in seed order
	AUC            float64   `json:"auc_mean"`
	Brier          float64   `json:"brier_mean"`
	LogLoss        float64   `json:"log_loss_mean"`
	CalSlope       float64   `json:"calibration_slope_mean"`
	ICI            float64   `json:"ici_mean"`
}

// The methods of comparedAlgo.MinusBestCI.
const (
	methodPairedBootstrap = "paired bootstrap of the patients"
	methodCorrectedT      = "corrected resampled t over the test folds of every repeat (Nadeau and Bengio 2003; Bouckaert and Frank 2004)"
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
			if _, err := mf.options(cmd.Flags(), algos[0]); err != nil { // the flags, before the data is read
				return err
			}
			if oof != "" {
				if err := checkOOF(oof); err != nil {
					return err
				}
			}
			if err := decimalComma.check(oof); err != nil {
				return err
			}
			// Each spec reads the file for its own columns; the same rows,
			// labelled alike, make the same folds (checked below).
			var (
				entries []compareEntry
				td      *trainingData
			)
			for k, s := range specs {
				tdk, err := readTraining(cmd.Context(), df.data, s, mf.opts.FoldsBy, survival, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				if k == 0 {
					td = tdk
				}
				for _, a := range algos {
					e := compareEntry{label: a, algo: a, spec: s, td: tdk}
					if len(specs) > 1 {
						e.label, e.specName = a+"@"+names[k], names[k]
					}
					entries = append(entries, e)
				}
			}
			records := td.records
			c := comparison{Synthetic: td.synthetic, FoldsBy: mf.opts.FoldsBy, Repeats: repeats}
			runs := make([][]*train.Result, len(entries)) // per entry, per repeat
			for rep := range repeats {
				for i, e := range entries {
					a := e.label
					opts, err := mf.options(cmd.Flags(), e.algo)
					if err != nil {
						return err
					}
					opts.ByKind = e.td.byKind
					opts.Survival = survival
					// The stability analysis needs the model fitted on
					// every row; once per algorithm is enough.
					opts.CrossValidateOnly = instability == 0 || rep > 0
					if !opts.CrossValidateOnly {
						opts.Instability = instability
					}
					opts.Seed += uint64(rep)
					label := fmt.Sprintf("cross-validating %s on %d rows", a, len(e.td.records))
					if repeats > 1 {
						label += fmt.Sprintf(" (repeat %d of %d, seed %d)", rep+1, repeats, opts.Seed)
					}
					var stop func()
					opts.Progress, stop = newProgress(cmd.ErrOrStderr(), label)
					res, err := train.Run(cmd.Context(), e.spec, e.td.records, opts)
					stop()
					if err != nil {
						return fmt.Errorf("%s: %w", a, err)
					}
					if first := runs[0]; i > 0 && len(first) > rep && !slices.Equal(res.Labels, first[rep].Labels) {
						return fmt.Errorf("%s: the specs do not label the same rows (%d against %d): compare them on a file where each reads every row", a, len(res.Labels), len(first[rep].Labels))
					}
					runs[i] = append(runs[i], res)
				}
			}
			labels := make([]string, len(entries))
			for i, e := range entries {
				res := runs[i][0]
				labels[i] = e.label
				c.results = append(c.results, res)
				c.Algos = append(c.Algos, comparedAlgo{Algo: e.label, Spec: e.specName, Metrics: res.Metrics, Groups: res.Groups, Pooled: res.Pooled, FoldLambdas: res.FoldLambdas, Instability: res.Instability,
					Survival: res.Survival, SurvivalNotes: res.SurvivalNotes})
				c.Rows, c.Positives, c.Folds, c.Seed = res.Rows, res.Metrics.Positives, res.Options.Folds, res.Options.Seed
			}
			if repeats == 1 {
				best := 0
				for i, a := range c.Algos {
					if a.Metrics.AUC > c.Algos[best].Metrics.AUC {
						best = i
					}
				}
				c.Best = c.Algos[best].Algo
				b := c.results[best]
				for i, r := range c.results {
					d, lo, hi := stats.CompareAUC(r.OOF, b.OOF, b.Labels, mf.opts.Bootstrap, mf.opts.Seed)
					c.Algos[i].MinusBest, c.Algos[i].MinusBestCI, c.Algos[i].MinusBestMethod = d, [2]float64{lo, hi}, methodPairedBootstrap
				}
			} else if err := compareRepeats(&c, runs); err != nil {
				return err
			}
			if oof != "" {
				if err := train.WriteOOF(oof, spec, records, td.idKind, labels, c.results,
					data.WriteOptions{Metadata: oofMetadata(spec.Target.Column, "compare", td.synthetic), DecimalComma: decimalComma.on}); err != nil {
					return err
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), c)
			}
			printComparison(cmd.OutOrStdout(), &c)
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

// compareRepeats summarizes each algorithm's repeats, picks the best by mean
// AUC, and sets every difference from it: the mean over all test folds,
// with the corrected resampled t interval.
func compareRepeats(c *comparison, runs [][]*train.Result) error {
	best := 0
	for i, rs := range runs {
		m := &repeatedMetrics{}
		for _, r := range rs {
			for j, a := range r.FoldAUC {
				if math.IsNaN(a) {
					return fmt.Errorf("%s, repeat seed %d, fold %d: one outcome only, no AUC; use fewer folds", c.Algos[i].Algo, r.Options.Seed, j+1)
				}
			}
			m.RepeatFoldAUCs = append(m.RepeatFoldAUCs, stat.Mean(r.FoldAUC, nil))
			m.AUCs = append(m.AUCs, r.Metrics.AUC)
			m.Brier += r.Metrics.Brier / float64(len(rs))
			m.LogLoss += r.Metrics.LogLoss / float64(len(rs))
			m.CalSlope += r.Metrics.CalSlope / float64(len(rs))
			m.ICI += r.Metrics.ICI / float64(len(rs))
		}
		m.FoldAUC, m.AUC = stat.Mean(m.RepeatFoldAUCs, nil), stat.Mean(m.AUCs, nil)
		c.Algos[i].Repeated = m
		if m.FoldAUC > c.Algos[best].Repeated.FoldAUC {
			best = i
		}
	}
	c.Best = c.Algos[best].Algo
	for i, rs := range runs {
		var d []float64
		for rep, r := range rs {
			for j, a := range r.FoldAUC {
				d = append(d, a-runs[best][rep].FoldAUC[j])
			}
		}
		diff, err := stats.CorrectedResampledT(d, c.Folds)
		if err != nil {
			return err
		}
		c.Algos[i].MinusBest, c.Algos[i].MinusBestCI, c.Algos[i].MinusBestMethod = diff.Mean, [2]float64{diff.Low, diff.High}, methodCorrectedT
	}
	return nil
}

// minusBest is the table's cell of a's AUC difference from the best.
func (c *comparison) minusBest(a comparedAlgo) string {
	if a.Algo == c.Best {
		return "best"
	}
	return fmt.Sprintf("%+.3f (%+.3f to %+.3f)", a.MinusBest, a.MinusBestCI[0], a.MinusBestCI[1])
}

func printComparison(w io.Writer, c *comparison) {
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
				m.AUC, m.Brier, m.LogLoss, m.CalSlope, m.ICI, c.minusBest(a))
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
		fmt.Fprintf(tw, "%s\t%.3f (%.3f-%.3f)\t%.4f\t%.4f\t%.3f\t%.3f\t%s\n", a.Algo, m.AUC, m.AUCLow, m.AUCHigh, m.Brier, m.LogLoss, m.CalSlope, m.ICI, c.minusBest(a))
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
func printInstabilities(w io.Writer, c *comparison) {
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
func printSurvivals(w io.Writer, c *comparison) {
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
func printFoldLambdas(w io.Writer, c *comparison) {
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

// compareEntry is one of the models compare cross-validates: an algorithm
// with a spec, and the data that spec read.
type compareEntry struct {
	label, algo, specName string
	spec                  *features.Spec
	td                    *trainingData
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
