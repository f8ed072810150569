package main

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/pflag"
)

// modelFlags are the training settings that "train" and "compare" share:
// cross-validation, calibration and each algorithm's hyperparameters.
type modelFlags struct {
	opts         train.Options
	trees, depth int // --trees and --depth serve both tree algorithms
}

// register adds the flags to f, with the defaults of train.DefaultGBM and
// of each algorithm.
func (m *modelFlags) register(f *pflag.FlagSet) {
	m.opts.GBM = train.DefaultGBM()
	g := &m.opts.GBM
	f.Uint64Var(&m.opts.Seed, "seed", 1, "random seed (folds, bootstrap, GBM and forest sampling)")
	f.IntVar(&m.opts.Folds, "folds", 5, "cross-validation folds")
	f.StringVar(&m.opts.FoldsBy, "folds-by", "", fmt.Sprintf("make each value of this column a fold instead (leave one centre out: internal-external validation; at most %d values); the metrics come by that column too", train.MaxGroups))
	f.StringVar((*string)(&m.opts.Tau2), "tau2", string(stats.PauleMandel), fmt.Sprintf("with --folds-by: the estimator of the between-centre variance when the centres' AUCs are pooled, %s or %s", stats.PauleMandel, stats.REML))
	f.StringVar(&m.opts.Calibration, "calibration", "platt", "platt, isotonic or none")
	f.Float64Var(&m.opts.Threshold, "threshold", 0.5, "probability threshold for sensitivity and specificity")
	f.IntVar(&m.opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples for the AUC interval")
	f.Float64Var(&m.opts.Logistic.Lambda, "lambda", 1, fmt.Sprintf("logistic: L2 penalty (scikit-learn's C = 1/lambda); cox: the elastic-net penalty per patient, as glmnet's (default %g)", train.DefaultCoxLambda))
	f.BoolVar(&m.opts.Tune, "tune", false, "logistic: choose the L2 penalty among 0.01-1000 by 5-fold cross-validated log loss within each training set (nested cross-validation); cox: among 0.0001-1 by the cross-validated partial likelihood")
	f.IntVar(&m.trees, "trees", 0, "a tree ensemble's trees: "+treeHelp(func(t *models.TreeSettings) int { return t.DefaultTrees }))
	f.IntVar(&m.depth, "depth", 0, "a tree ensemble's maximum depth: "+treeHelp(func(t *models.TreeSettings) int { return t.DefaultDepth }))
	f.IntVar(&m.opts.Forest.MinLeaf, "min-leaf", 10, "forest: fewest bootstrap rows in a leaf")
	f.IntVar(&m.opts.Forest.SplitFeatures, "split-features", 0, "forest: features drawn at each split (0: the square root of their count)")
	f.StringVar(&m.opts.Forest.Learner, "forest-learner", models.ForestHistogram, "forest: how each split is chosen: histogram (from the drawn features' binned histograms) or golearn (golearn's CART, the forest before: an order of magnitude slower, docs/benchmarks.md)")
	f.Float64Var(&g.LearningRate, "learning-rate", g.LearningRate, "gbm: shrinkage")
	f.Float64Var(&g.Lambda, "leaf-lambda", g.Lambda, "gbm: L2 penalty on leaf values")
	f.Float64Var(&g.MinChildWeight, "min-child-weight", g.MinChildWeight, "gbm: minimum hessian sum per child")
	f.Float64Var(&g.Subsample, "subsample", g.Subsample, "gbm: share of rows per tree")
	f.Float64Var(&g.ColSample, "colsample", g.ColSample, "gbm: share of features per tree")
	f.IntVar(&g.EarlyStopping, "early-stopping", g.EarlyStopping, "gbm: stop after this many rounds without improvement on a 10% validation split (0: off)")
}

// options returns the settings for algo, or a usage error naming a flag
// out of its range, or an algorithm not in the table.
func (m *modelFlags) options(f *pflag.FlagSet, algo string) (train.Options, error) {
	alg, err := models.LookupAlgorithm(algo)
	if err != nil {
		return train.Options{}, usageError{err}
	}
	if err := checkTrainFlags(alg, m.opts, m.trees, m.depth); err != nil {
		return train.Options{}, usageError{err}
	}
	if m.opts.Tune && f.Changed("lambda") {
		return train.Options{}, usageError{errors.New("--tune and --lambda: give one (--tune chooses the penalty)")}
	}
	if _, err := stats.ParseTau2Method(string(m.opts.Tau2)); err != nil {
		return train.Options{}, usageError{fmt.Errorf("--tau2: %w", err)}
	}
	if m.opts.FoldsBy == "" && f.Changed("tau2") {
		return train.Options{}, usageError{errors.New("--tau2 sets how --folds-by pools the centres' AUCs: give it with --folds-by")}
	}
	if m.opts.FoldsBy != "" && f.Changed("folds") {
		return train.Options{}, usageError{errors.New("--folds and --folds-by: give one (--folds-by makes one fold per value)")}
	}
	o := m.opts
	o.Algo = algo
	o.By = o.FoldsBy // folds by a column report their metrics by it
	// 0 leaves --trees and --depth to each algorithm's own default; an
	// algorithm without trees takes none (compare shares the flags).
	if alg.Trees != nil {
		alg.Trees.Set(&o.Settings, m.trees, m.depth)
	}
	// --tune tunes the penalized algorithms among those compared (train
	// refuses it for another).
	o.Tune = o.Tune && alg.Penalized
	return o, nil
}

// checkTrainFlags refuses values outside a flag's range, naming the flag,
// before any data is read. The libraries read some zero values as "the
// default", so without this "--subsample 0" would silently train with 0.7;
// and the libraries' own checks would come only at the first fold.
func checkTrainFlags(alg models.Algorithm, o train.Options, trees, depth int) error {
	in01 := func(v float64) bool { return v > 0 && v <= 1 }
	// A tree ensemble's bounds on --trees and --depth (0: the default).
	maxTrees, maxDepth, odd := math.MaxInt, math.MaxInt, false
	if t := alg.Trees; t != nil {
		maxTrees, maxDepth, odd = t.MaxTrees, t.MaxDepth, t.OddTrees
	}
	switch g := o.GBM; {
	case !(o.Threshold > 0 && o.Threshold < 1):
		return fmt.Errorf("--threshold %v must be in (0, 1)", o.Threshold)
	case o.Bootstrap < 1:
		return fmt.Errorf("--bootstrap %d must be at least 1", o.Bootstrap)
	case !(o.Logistic.Lambda > 0):
		return fmt.Errorf("--lambda %v must be positive: the logistic regression is L2-penalized", o.Logistic.Lambda)
	case trees < 0 || trees > maxTrees:
		return fmt.Errorf("--trees %d must be in [0, %d] for %s (0: its default)", trees, maxTrees, alg.Name)
	case odd && trees%2 == 0 && trees != 0:
		return fmt.Errorf("--trees %d must be odd for the %s, so that its trees' votes cannot tie", trees, alg.Name)
	case depth < 0 || depth > maxDepth:
		return fmt.Errorf("--depth %d must be in [0, %d] for %s (0: its default)", depth, maxDepth, alg.Name)
	case !in01(g.LearningRate):
		return fmt.Errorf("--learning-rate %v must be in (0, 1]", g.LearningRate)
	case !in01(g.Subsample):
		return fmt.Errorf("--subsample %v must be in (0, 1]", g.Subsample)
	case !in01(g.ColSample):
		return fmt.Errorf("--colsample %v must be in (0, 1]", g.ColSample)
	case g.Lambda < 0:
		return fmt.Errorf("--leaf-lambda %v must not be negative", g.Lambda)
	case g.MinChildWeight < 0:
		return fmt.Errorf("--min-child-weight %v must not be negative", g.MinChildWeight)
	case g.EarlyStopping < 0:
		return fmt.Errorf("--early-stopping %d must not be negative (0: off)", g.EarlyStopping)
	case o.Forest.MinLeaf < 1:
		return fmt.Errorf("--min-leaf %d must be at least 1", o.Forest.MinLeaf)
	case o.Forest.Learner != models.ForestHistogram && o.Forest.Learner != models.ForestGolearn:
		return fmt.Errorf("--forest-learner %q: %s or %s", o.Forest.Learner, models.ForestHistogram, models.ForestGolearn)
	case o.Forest.SplitFeatures < 0:
		return fmt.Errorf("--split-features %d must not be negative (0: the square root of the feature count)", o.Forest.SplitFeatures)
	}
	return nil
}

// dataFlags name the training data and its features.
type dataFlags struct {
	data, spec, target string
	atLeast            float64
}

// register adds --data (described by dataHelp), --spec and --target to f.
func (d *dataFlags) register(f *pflag.FlagSet, dataHelp string) {
	f.StringVar(&d.data, "data", "", dataHelp)
	f.StringVar(&d.spec, "spec", "", "feature spec (YAML or JSON); default: built-in iRT spec for cohort files")
	f.StringVar(&d.target, "target", data.AbscopalResponse, "target column; os or pfs for a time to an event (os_months with os_event, pfs_months with pfs_event)")
	f.Float64Var(&d.atLeast, "at-least", 0, "count a target at or above this as positive, for a graded outcome (--target pneumonitis_grade --at-least 2: grade 2 or worse)")
}

// loadSpec returns the built-in spec for --target, or the --spec file with
// its target replaced by --target when that was given; --at-least replaces
// the value that counts as positive by a threshold. It refuses a built-in
// target no classifier can learn before the data are read.
func (d *dataFlags) loadSpec(f *pflag.FlagSet) (*features.Spec, error) {
	spec := features.BuiltinSpec(d.target)
	if d.spec != "" {
		var err error
		if spec, err = d.loadFile(f, d.spec); err != nil {
			return nil, err
		}
		return spec, spec.CheckOutcome()
	}
	if err := d.overrideTarget(f, spec); err != nil {
		return nil, err
	}
	return spec, spec.CheckOutcome()
}

// loadFile loads the spec file path with --target and --at-least applied.
func (d *dataFlags) loadFile(f *pflag.FlagSet, path string) (*features.Spec, error) {
	spec, err := features.LoadSpec(path)
	if err != nil {
		return nil, err
	}
	if f.Changed("target") {
		if t, ok := features.TimeToEventTargets()[d.target]; ok {
			spec.Target = t
		} else {
			spec.Target = features.Target{Column: d.target, Positive: spec.Target.Positive, AtLeast: spec.Target.AtLeast}
		}
	}
	return spec, d.overrideTarget(f, spec)
}

// timeToEvent reports whether the target is a time to an event: --target
// os or pfs, or a --spec whose target is one (a spec that cannot be read
// says so when it is loaded).
func (d *dataFlags) timeToEvent(f *pflag.FlagSet) bool {
	if _, ok := features.TimeToEventTargets()[d.target]; ok && (d.spec == "" || f.Changed("target")) {
		return true
	}
	if d.spec == "" || f.Changed("target") {
		return false
	}
	spec, err := features.LoadSpec(d.spec)
	return err == nil && spec.Target.TimeToEvent()
}

// overrideTarget puts --at-least, when given, in place of spec's positive
// value.
func (d *dataFlags) overrideTarget(f *pflag.FlagSet, spec *features.Spec) error {
	if !f.Changed("at-least") {
		return nil
	}
	if math.IsNaN(d.atLeast) || math.IsInf(d.atLeast, 0) {
		return usageError{fmt.Errorf("--at-least %v must be a finite number", d.atLeast)}
	}
	spec.Target.Positive, spec.Target.AtLeast = nil, &d.atLeast
	return nil
}

// checkEndpoints refuses a --survival list naming an endpoint that is not
// one of the schema's, or one twice.
func checkEndpoints(survival []string) error {
	if err := workflow.CheckEndpoints(survival); err != nil {
		return usageError{fmt.Errorf("--survival %s: name each of %v once", strings.Join(survival, ","), data.EndpointNames())}
	}
	return nil
}

// treeHelp lists each tree ensemble's default of a setting, for --help:
// "default gbm 1000, forest 101 (odd)".
func treeHelp(def func(*models.TreeSettings) int) string {
	var parts []string
	for _, a := range models.Algorithms() {
		if t := a.Trees; t != nil {
			p := fmt.Sprintf("%s %d", a.Name, def(t))
			if t.OddTrees && def(t) == t.DefaultTrees {
				p += " (odd)"
			}
			parts = append(parts, p)
		}
	}
	return "default " + strings.Join(parts, ", ")
}
