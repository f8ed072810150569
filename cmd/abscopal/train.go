package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newTrainCmd() *cobra.Command {
	var (
		in, specPath, target, registry, name string
		trees, depth                         int
		opts                                 train.Options
		gbm                                  = train.DefaultGBM()
	)
	cmd := &cobra.Command{
		Use:   "train --data FILE [--spec S] --target COLUMN --algo logistic|gbm|forest --registry DIR --name NAME --seed N",
		Short: "Cross-validate, calibrate and publish a model into a registry",
		Long: `train fits the feature pipeline and a classifier with stratified k-fold
cross-validation, reports out-of-fold metrics (ROC AUC with a bootstrap 95% CI,
Brier score, log loss, calibration intercept and slope, sensitivity and
specificity), calibrates on out-of-fold scores, fits the final model on all
rows, and publishes a new immutable version into the registry: bundle.json,
card.md (the model card), calibration.svg and MANIFEST.

Without --spec the data is a cohort-schema file and the built-in
radioimmunotherapy features are used; --target picks abscopal_response or
objective_response. With --spec, any Parquet file; --target overrides the
spec's target column.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" || registry == "" || name == "" {
				return usageError{errors.New("--data, --registry and --name are required")}
			}
			if !models.ValidName(name) {
				return usageError{fmt.Errorf("--name %q: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit", name)}
			}
			if err := checkTrainFlags(opts, trees, depth); err != nil {
				return usageError{err}
			}
			// --trees and --depth serve both tree algorithms, each with its
			// own defaults: 0 leaves them to the algorithm.
			if opts.Algo == "forest" {
				opts.Forest.Trees, opts.Forest.MaxDepth = trees, depth
			} else {
				opts.GBM.Trees, opts.GBM.MaxDepth = cmp.Or(trees, gbm.Trees), cmp.Or(depth, gbm.MaxDepth)
			}
			spec := features.BuiltinSpec(target)
			if specPath != "" {
				var err error
				if spec, err = features.LoadSpec(specPath); err != nil {
					return err
				}
				if cmd.Flags().Changed("target") {
					spec.Target.Column = target
				}
			}
			pub, err := trainJob{data: in, registry: registry, name: name, spec: spec, opts: opts, log: cmd.ErrOrStderr(), progress: true}.run(cmd.Context())
			if err != nil {
				return err
			}
			printSummary(cmd.OutOrStdout(), name, pub.version, registry, pub.res, pub.synthetic)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&in, "data", "", "training data (Parquet)")
	f.StringVar(&specPath, "spec", "", "feature spec (YAML or JSON); default: built-in iRT spec for cohort files")
	f.StringVar(&target, "target", "abscopal_response", "target column")
	f.StringVar(&registry, "registry", "", "registry directory (created if needed)")
	f.StringVar(&name, "name", "", "model name in the registry")
	f.StringVar(&opts.Algo, "algo", "gbm", "logistic, gbm or forest")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed (folds, bootstrap, GBM sampling)")
	f.IntVar(&opts.Folds, "folds", 5, "cross-validation folds")
	f.StringVar(&opts.Calibration, "calibration", "platt", "platt, isotonic or none")
	f.Float64Var(&opts.Threshold, "threshold", 0.5, "probability threshold for sensitivity and specificity")
	f.IntVar(&opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples for the AUC interval")
	f.Float64Var(&opts.Logistic.Lambda, "lambda", 1, "logistic: L2 penalty (scikit-learn's C = 1/lambda)")
	f.IntVar(&trees, "trees", 0, fmt.Sprintf("gbm: most boosting rounds (default %d); forest: trees, odd (default 101)", gbm.Trees))
	f.IntVar(&depth, "depth", 0, fmt.Sprintf("gbm: maximum tree depth (default %d); forest: maximum depth (default 30)", gbm.MaxDepth))
	f.IntVar(&opts.Forest.MinLeaf, "min-leaf", 10, "forest: fewest bootstrap rows in a leaf")
	f.IntVar(&opts.Forest.SplitFeatures, "split-features", 0, "forest: features drawn at each split (0: the square root of their count)")
	f.Float64Var(&opts.GBM.LearningRate, "learning-rate", gbm.LearningRate, "gbm: shrinkage")
	f.Float64Var(&opts.GBM.Lambda, "leaf-lambda", gbm.Lambda, "gbm: L2 penalty on leaf values")
	f.Float64Var(&opts.GBM.MinChildWeight, "min-child-weight", gbm.MinChildWeight, "gbm: minimum hessian sum per child")
	f.Float64Var(&opts.GBM.Subsample, "subsample", gbm.Subsample, "gbm: share of rows per tree")
	f.Float64Var(&opts.GBM.ColSample, "colsample", gbm.ColSample, "gbm: share of features per tree")
	f.IntVar(&opts.GBM.EarlyStopping, "early-stopping", gbm.EarlyStopping, "gbm: stop after this many rounds without improvement on a 10% validation split (0: off)")
	return cmd
}

// checkTrainFlags refuses values outside a flag's range, naming the flag.
// The libraries read some zero values as "the default", so without this
// "--subsample 0" would silently train with 0.7.
func checkTrainFlags(o train.Options, trees, depth int) error {
	in01 := func(v float64) bool { return v > 0 && v <= 1 }
	switch g := o.GBM; {
	case !(o.Threshold > 0 && o.Threshold < 1):
		return fmt.Errorf("--threshold %v must be in (0, 1)", o.Threshold)
	case o.Bootstrap < 1:
		return fmt.Errorf("--bootstrap %d must be at least 1", o.Bootstrap)
	case !(o.Logistic.Lambda > 0):
		return fmt.Errorf("--lambda %v must be positive: the logistic regression is L2-penalized", o.Logistic.Lambda)
	case trees < 0 || depth < 0:
		return fmt.Errorf("--trees %d and --depth %d must not be negative (0: the algorithm's default)", trees, depth)
	case !in01(g.LearningRate):
		return fmt.Errorf("--learning-rate %v must be in (0, 1]", g.LearningRate)
	case !in01(g.Subsample) || !in01(g.ColSample):
		return fmt.Errorf("--subsample %v and --colsample %v must be in (0, 1]", g.Subsample, g.ColSample)
	case g.Lambda < 0 || g.MinChildWeight < 0:
		return fmt.Errorf("--leaf-lambda %v and --min-child-weight %v must not be negative", g.Lambda, g.MinChildWeight)
	case g.EarlyStopping < 0:
		return fmt.Errorf("--early-stopping %d must not be negative (0: off)", g.EarlyStopping)
	case o.Forest.MinLeaf < 1 || o.Forest.SplitFeatures < 0:
		return fmt.Errorf("--min-leaf %d must be at least 1, --split-features %d at least 0 (0: the square root of the feature count)", o.Forest.MinLeaf, o.Forest.SplitFeatures)
	}
	return nil
}

// trainJob trains on a data file and publishes the result as a new version:
// the work of "abscopal train", and of "abscopal demo" for each model.
type trainJob struct {
	data, registry, name string
	spec                 *features.Spec
	opts                 train.Options
	log                  io.Writer // notices, and progress when progress is set
	progress             bool
}

// published is what a trainJob made.
type published struct {
	version   string
	res       *train.Result
	synthetic bool
}

func (j trainJob) run(ctx context.Context) (*published, error) {
	sum, err := fileSHA256(j.data)
	if err != nil {
		return nil, err
	}
	src, err := features.OpenSource(ctx, j.data, j.spec, true)
	if err != nil {
		return nil, err
	}
	records, err := src.All(ctx)
	src.Close()
	if err != nil {
		return nil, err
	}
	if d := src.Dropped(); len(d) > 0 {
		fmt.Fprintf(j.log, "left out (the file lacks their columns): %v\n", d)
	}
	if j.progress {
		j.opts.Progress = newProgress(j.log, fmt.Sprintf("training %s on %d rows", j.opts.Algo, len(records)))
	}
	res, err := train.Run(ctx, j.spec, records, j.opts)
	if err != nil {
		return nil, err
	}
	info := buildinfo.Read()
	b, err := train.Bundle(j.name, res, models.TrainingInfo{
		DataFile: filepath.Base(j.data), DataSHA256: sum, Synthetic: src.Synthetic(),
		AbscopalVersion: info.Version, GoVersion: info.GoVersion, Commit: info.Commit, Modules: info.Modules,
	})
	if err != nil {
		return nil, err
	}
	files, err := train.Files(b, res)
	if err != nil {
		return nil, err
	}
	version, err := (&models.Registry{Dir: j.registry}).Publish(j.name, files)
	if err != nil {
		return nil, err
	}
	return &published{version: version, res: res, synthetic: src.Synthetic()}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// newProgress reports training steps: a bar when w is a terminal, plain
// timestamped lines otherwise (logs, CI).
func newProgress(w io.Writer, what string) func(done, total int, step string) {
	start := time.Now()
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var bar *progressbar.ProgressBar
		return func(done, total int, step string) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
					progressbar.OptionShowCount(), progressbar.OptionSetElapsedTime(true), progressbar.OptionClearOnFinish())
			}
			bar.Describe(what + ": " + step)
			bar.Set(done)
			if done == total {
				bar.Finish()
			}
		}
	}
	fmt.Fprintf(w, "%s\n", what)
	return func(done, total int, step string) {
		fmt.Fprintf(w, "  [%d/%d] %s done (%.1f s)\n", done, total, step, time.Since(start).Seconds())
	}
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
	fmt.Fprintf(tw, "ROC AUC (%d-fold CV)\t%.3f (95%% CI %.3f-%.3f)\n", res.Options.Folds, m.AUC, m.AUCLow, m.AUCHigh)
	fmt.Fprintf(tw, "Brier score\t%.4f\n", m.Brier)
	fmt.Fprintf(tw, "log loss\t%.4f\n", m.LogLoss)
	fmt.Fprintf(tw, "calibration intercept / slope\t%.3f / %.3f\n", m.CalIntercept, m.CalSlope)
	fmt.Fprintf(tw, "sensitivity / specificity at %.2f\t%.3f / %.3f\n", m.Threshold, m.Sensitivity, m.Specificity)
	tw.Flush()
}
