package workflow

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"gonum.org/v1/gonum/stat"
)

// NamedSpec is a feature spec with the name a comparison gives its
// entries (ALGO@NAME).
type NamedSpec struct {
	Name string
	Spec *features.Spec
}

// CompareOptions are what Compare takes.
type CompareOptions struct {
	Data string
	// Specs are the feature specs compared: the first alone for a
	// comparison of algorithms; more make entries ALGO@NAME, to tell
	// whether a feature set does better. They must share a target.
	Specs []NamedSpec
	// Algos are the algorithms compared, each with its settings (Algo
	// names it): the same seed, folds and bootstrap for all.
	Algos []train.Options
	// Repeats repeats the cross-validation on other partitions (seeds
	// Seed, Seed+1, ...): 1 for one.
	Repeats int
	// Instability, if positive, fits each algorithm on every row and
	// develops this many bootstrap models of it (the first repeat's seed).
	Instability int
	// Survival names endpoints on which each algorithm's out-of-fold
	// probabilities split the patients (train.Options.Survival).
	Survival []string
	// OOF, if set, is where each algorithm's out-of-fold predictions, on
	// the same rows and folds, are written; OOFDecimalComma as in Train.
	OOF             string
	OOFDecimalComma bool
	// Progress reports each cross-validation ("cross-validating gbm on 800
	// rows (repeat 2 of 3, seed 2)").
	Progress Tracker
	Notice   Notice
}

// Comparison is what Compare finds (and "abscopal compare --json" prints).
type Comparison struct {
	Rows      int            `json:"rows"`
	Positives int            `json:"positives"`
	Folds     int            `json:"folds"`
	FoldsBy   string         `json:"folds_by,omitempty"` // each value of this column a fold
	Seed      uint64         `json:"seed"`
	Repeats   int            `json:"repeats"` // cross-validations, with seeds Seed, Seed+1, ...
	Synthetic bool           `json:"synthetic"`
	Best      string         `json:"best"`
	Algos     []ComparedAlgo `json:"algorithms"`
	// Results are each entry's training result, in Algos' order, of the
	// first repeat.
	Results []*train.Result `json:"-"`
}

// ComparedAlgo is one entry of a Comparison.
type ComparedAlgo struct {
	// Algo is the algorithm; with several specs, ALGO@SPEC, the spec's
	// name after the @ (Spec).
	Algo string `json:"algo"`
	Spec string `json:"spec,omitempty"`
	// Metrics are of the first (or only) cross-validation.
	Metrics stats.Metrics `json:"metrics"`
	// Repeated summarizes every repeat's metrics (with Repeats above 1).
	Repeated *RepeatedMetrics `json:"repeated,omitempty"`
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
	// FoldLambdas are, with tuning, the logistic penalties each fold chose.
	FoldLambdas []float64 `json:"fold_lambdas,omitempty"`
	// Instability is, with Instability, the stability analysis of the
	// algorithm's model fitted on every row (of the first repeat's seed).
	Instability *stats.Instability `json:"instability,omitempty"`
	// Survival is, with Survival, the survival of the patients the
	// algorithm's out-of-fold probabilities put at or above the threshold
	// against the others' (the first repeat's).
	Survival      []*stats.SurvivalSplit `json:"survival,omitempty"`
	SurvivalNotes []string               `json:"survival_notes,omitempty"`
}

// RepeatedMetrics are an algorithm's metrics over repeated
// cross-validations. The comparison is of the test folds' AUCs, as the
// corrected resampled t is: FoldAUC is their mean over every fold of every
// repeat (the best algorithm has the highest), RepeatFoldAUCs each repeat's
// mean. AUCs are each repeat's AUC of its pooled out-of-fold predictions
// (what train reports), lower than the folds' mean where the folds' scores
// sit at different levels.
type RepeatedMetrics struct {
	FoldAUC        float64   `json:"fold_auc_mean"`
	RepeatFoldAUCs []float64 `json:"repeat_fold_auc_means"` // in seed order
	AUCs           []float64 `json:"aucs"`                  // in seed order
	AUC            float64   `json:"auc_mean"`
	Brier          float64   `json:"brier_mean"`
	LogLoss        float64   `json:"log_loss_mean"`
	CalSlope       float64   `json:"calibration_slope_mean"`
	ICI            float64   `json:"ici_mean"`
}

// The methods of ComparedAlgo.MinusBestCI.
const (
	MethodPairedBootstrap = "paired bootstrap of the patients"
	MethodCorrectedT      = "corrected resampled t over the test folds of every repeat (Nadeau and Bengio 2003; Bouckaert and Frank 2004)"
)

// compareEntry is one of the models Compare cross-validates: an algorithm
// with a spec, and the data that spec read.
type compareEntry struct {
	label, specName string
	opts            train.Options
	spec            *features.Spec
	td              *TrainingData
}

// Compare cross-validates each algorithm (with each spec) as Train does,
// on the same folds, and sets each one's AUC beside the best one's: a
// paired bootstrap of the patients for one cross-validation, the corrected
// resampled t over the folds of every repeat for several. Nothing is
// published.
func Compare(ctx context.Context, opts CompareOptions) (*Comparison, error) {
	if len(opts.Algos) == 0 || len(opts.Specs) == 0 {
		return nil, optionError("nothing to compare")
	}
	first := opts.Algos[0]
	switch {
	case opts.Repeats < 1:
		opts.Repeats = 1
	case opts.Repeats > 1 && first.FoldsBy != "":
		return nil, optionError("folds by a column are the same partition every time; repeat random folds only")
	case opts.Repeats > 1 && opts.OOF != "":
		return nil, optionError("the out-of-fold predictions are of one cross-validation; write them without repeats")
	}
	if opts.OOF != "" {
		if err := CheckOutput(opts.OOF); err != nil {
			return nil, err
		}
	}
	// Each spec reads the file for its own columns; the same rows,
	// labelled alike, make the same folds (checked below).
	var (
		entries []compareEntry
		td      *TrainingData
	)
	for k, s := range opts.Specs {
		tdk, err := ReadTraining(ctx, opts.Data, s.Spec, first.FoldsBy, opts.Survival)
		if err != nil {
			return nil, err
		}
		if len(tdk.Dropped) > 0 {
			opts.Notice.say(droppedNotice(tdk.Dropped))
		}
		if k == 0 {
			td = tdk
		}
		for _, a := range opts.Algos {
			e := compareEntry{label: a.Algo, opts: a, spec: tdk.Spec, td: tdk}
			if len(opts.Specs) > 1 {
				e.label, e.specName = a.Algo+"@"+s.Name, s.Name
			}
			entries = append(entries, e)
		}
	}
	c := &Comparison{Synthetic: td.Synthetic, FoldsBy: first.FoldsBy, Repeats: opts.Repeats}
	runs := make([][]*train.Result, len(entries)) // per entry, per repeat
	for rep := range opts.Repeats {
		for i, e := range entries {
			o := e.opts
			o.ByKind = e.td.ByKind
			o.Survival = opts.Survival
			// The stability analysis needs the model fitted on every row;
			// once per algorithm is enough.
			o.CrossValidateOnly = opts.Instability == 0 || rep > 0
			if !o.CrossValidateOnly {
				o.Instability = opts.Instability
			}
			o.Seed += uint64(rep)
			label := fmt.Sprintf("cross-validating %s on %d rows", e.label, len(e.td.Records))
			if opts.Repeats > 1 {
				label += fmt.Sprintf(" (repeat %d of %d, seed %d)", rep+1, opts.Repeats, o.Seed)
			}
			var stop func()
			o.Progress, stop = opts.Progress.start(label)
			res, err := train.Run(ctx, e.spec, e.td.Records, o)
			stop()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.label, err)
			}
			if prev := runs[0]; i > 0 && len(prev) > rep && !slices.Equal(res.Labels, prev[rep].Labels) {
				return nil, fmt.Errorf("%s: the specs do not label the same rows (%d against %d): compare them on a file where each reads every row", e.label, len(res.Labels), len(prev[rep].Labels))
			}
			runs[i] = append(runs[i], res)
		}
	}
	labels := make([]string, len(entries))
	for i, e := range entries {
		res := runs[i][0]
		labels[i] = e.label
		c.Results = append(c.Results, res)
		c.Algos = append(c.Algos, ComparedAlgo{Algo: e.label, Spec: e.specName, Metrics: res.Metrics, Groups: res.Groups, Pooled: res.Pooled, FoldLambdas: res.FoldLambdas,
			Instability: res.Instability, Survival: res.Survival, SurvivalNotes: res.SurvivalNotes})
		c.Rows, c.Positives, c.Folds, c.Seed = res.Rows, res.Metrics.Positives, res.Options.Folds, res.Options.Seed
	}
	if opts.Repeats == 1 {
		best := 0
		for i, a := range c.Algos {
			if a.Metrics.AUC > c.Algos[best].Metrics.AUC {
				best = i
			}
		}
		c.Best = c.Algos[best].Algo
		b := c.Results[best]
		for i, r := range c.Results {
			d, lo, hi := stats.CompareAUC(r.OOF, b.OOF, b.Labels, first.Bootstrap, first.Seed)
			c.Algos[i].MinusBest, c.Algos[i].MinusBestCI, c.Algos[i].MinusBestMethod = d, [2]float64{lo, hi}, MethodPairedBootstrap
		}
	} else if err := compareRepeats(c, runs); err != nil {
		return nil, err
	}
	if opts.OOF != "" {
		spec := td.Spec
		if err := train.WriteOOF(opts.OOF, spec, td.Records, td.IDKind, labels, c.Results,
			data.WriteOptions{Metadata: OOFMetadata(spec.Target.Column, "compare", td.Synthetic), DecimalComma: opts.OOFDecimalComma}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// compareRepeats summarizes each algorithm's repeats, picks the best by mean
// AUC, and sets every difference from it: the mean over all test folds,
// with the corrected resampled t interval.
func compareRepeats(c *Comparison, runs [][]*train.Result) error {
	best := 0
	for i, rs := range runs {
		m := &RepeatedMetrics{}
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
		c.Algos[i].MinusBest, c.Algos[i].MinusBestCI, c.Algos[i].MinusBestMethod = diff.Mean, [2]float64{diff.Low, diff.High}, MethodCorrectedT
	}
	return nil
}
