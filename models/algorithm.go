package models

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// Settings are the hyperparameters of every algorithm; each reads its own
// (the stacked ensemble reads those of its base learners). Seeds are given
// to Algorithm.Fit apart: a training run derives one for each fit.
type Settings struct {
	Logistic LogisticOptions
	GBM      GBMOptions
	Forest   ForestOptions
}

// Algorithm is an entry of the algorithm table: everything abscopal knows
// of a learner, written once. Training, bundles, reproduction, model cards
// and the command line read it here, and switch on no algorithm's name.
// Adding an algorithm is a file of its own (its classifier and fit), its
// tests, and an entry in Algorithms.
type Algorithm struct {
	Name    string
	Summary string // one line, for --help and the documentation
	// New returns an empty classifier, for a bundle's model to be decoded
	// into (Decode).
	New func() Classifier
	// Fit fits a classifier on d with settings s, seeded with seed (an
	// algorithm that draws nothing ignores it).
	Fit func(ctx context.Context, d *Data, s Settings, seed uint64) (Classifier, error)
	// Hyperparameters returns what a bundle records of c, fitted with s:
	// enough, with the training record's seed, to fit it again.
	Hyperparameters func(c Classifier, s Settings) any
	// ReadHyperparameters sets s from what Hyperparameters recorded.
	ReadHyperparameters func(raw json.RawMessage, s *Settings) error
	// Penalized marks an L2-penalized regression, whose penalty nested
	// cross-validation can choose (train's Options.Tune): it is set in
	// Settings.Logistic.Lambda.
	Penalized bool
	// Regression marks a regression model: Riley et al.'s minimum sample
	// sizes are derived for regression, and a tree ensemble needs more.
	Regression bool
	// KeepsBootstrap says its bootstrap models are small enough to keep with
	// it for intervals (a forest's are its own hundred deep trees each).
	KeepsBootstrap bool
	// Trees says how --trees and --depth apply to a tree ensemble; nil for
	// an algorithm without trees.
	Trees *TreeSettings
	// Notes are the model card's caveats on the algorithm's probabilities
	// and contributions.
	Notes []string
}

// TreeSettings are how the command line's tree count and depth apply to a
// tree ensemble.
type TreeSettings struct {
	MaxTrees, MaxDepth         int  // bounds of --trees and --depth
	DefaultTrees, DefaultDepth int  // in the help: the defaults of Settings
	OddTrees                   bool // the count must be odd, so that votes cannot tie
	// Set puts a count and a depth in s; 0 leaves the setting as it is.
	Set func(s *Settings, trees, depth int)
}

// Algorithms returns the algorithm table, in the order the command line
// lists them.
func Algorithms() []Algorithm {
	return []Algorithm{
		{
			Name:    "logistic",
			Summary: "L2-penalized logistic regression (Newton's method); contributions are exact, in log-odds",
			New:     func() Classifier { return new(Logistic) },
			Fit: func(_ context.Context, d *Data, s Settings, _ uint64) (Classifier, error) {
				return FitLogistic(d, s.Logistic)
			},
			Hyperparameters: func(c Classifier, s Settings) any {
				return logisticHyper{Lambda: c.(*Logistic).Lambda}
			},
			ReadHyperparameters: func(raw json.RawMessage, s *Settings) error {
				var h logisticHyper
				err := json.Unmarshal(raw, &h)
				s.Logistic.Lambda = h.Lambda
				return err
			},
			Penalized: true, Regression: true, KeepsBootstrap: true,
		},
		{
			Name:    "gbm",
			Summary: "histogram gradient-boosted trees (second-order gradients, early stopping); contributions are TreeSHAP values",
			New:     func() Classifier { return new(GBM) },
			Fit: func(ctx context.Context, d *Data, s Settings, seed uint64) (Classifier, error) {
				g := s.GBM
				g.Seed = seed
				return FitGBM(ctx, d, g)
			},
			Hyperparameters: func(c Classifier, s Settings) any {
				m := c.(*GBM)
				return struct {
					GBMOptions
					BestRound int `json:"best_round,omitempty"`
				}{m.Opts, m.BestRound}
			},
			ReadHyperparameters: func(raw json.RawMessage, s *Settings) error {
				return json.Unmarshal(raw, &s.GBM) // best_round, the fit's outcome, is not an option
			},
			KeepsBootstrap: true,
			Trees: &TreeSettings{MaxTrees: 100000, MaxDepth: 20, DefaultTrees: 1000, DefaultDepth: 2,
				Set: func(s *Settings, trees, depth int) {
					if trees > 0 {
						s.GBM.Trees = trees
					}
					if depth > 0 {
						s.GBM.MaxDepth = depth
					}
				}},
			Notes: []string{"GBM contributions are SHAP values (TreeSHAP, path-dependent: a feature left out follows both branches of a split in\n  proportion to the training rows that went each way; Lundberg et al., Nat Mach Intell 2020), the bias the expected score."},
		},
		{
			Name:    "forest",
			Summary: "bagged CART trees, each split from the drawn features' histograms (or golearn's CART), soft voting; contributions are path-based (Saabas)",
			New:     func() Classifier { return new(Forest) },
			Fit: func(ctx context.Context, d *Data, s Settings, seed uint64) (Classifier, error) {
				f := s.Forest
				f.Seed = seed
				return FitForest(ctx, d, f)
			},
			Hyperparameters: func(c Classifier, s Settings) any { return c.(*Forest).Opts },
			ReadHyperparameters: func(raw json.RawMessage, s *Settings) error {
				if err := json.Unmarshal(raw, &s.Forest); err != nil {
					return err
				}
				if s.Forest.Learner == "" {
					s.Forest.Learner = ForestGolearn // recorded before the histogram learner: golearn grew it
				}
				return nil
			},
			Trees: &TreeSettings{MaxTrees: 10001, MaxDepth: 30, DefaultTrees: 101, DefaultDepth: 30, OddTrees: true,
				Set: func(s *Settings, trees, depth int) {
					s.Forest.Trees, s.Forest.MaxDepth = trees, depth // 0: FitForest's defaults
				}},
			Notes: []string{
				"The forest's probability is the mean over trees of the positive share in the leaf reached (soft voting), not the share of trees voting positive, which ranks patients worse when responders are a minority.",
				"Forest contributions are path-based (Saabas) on the probability, averaged over trees and put in log-odds by one factor (the logit's slope between the base rate and the prediction): exact in sum, dependent on split order; not SHAP values.",
			},
		},
		stackAlgorithm(),
	}
}

// logisticHyper is what a bundle records of a logistic regression.
type logisticHyper struct {
	Lambda float64 `json:"lambda"`
}

// ErrAlgorithm is wrapped by the error of an algorithm not in the table.
var ErrAlgorithm = fmt.Errorf("unknown algorithm")

// LookupAlgorithm returns the table's entry named name, or an error that
// lists the names there are.
func LookupAlgorithm(name string) (Algorithm, error) {
	for _, a := range Algorithms() {
		if a.Name == name {
			return a, nil
		}
	}
	return Algorithm{}, fmt.Errorf("%w %q (%s)", ErrAlgorithm, name, AlgorithmNames())
}

// AlgorithmNames lists the table's algorithms as prose: "logistic, gbm,
// forest or stack".
func AlgorithmNames() string { return NamesWhere(func(Algorithm) bool { return true }) }

// NamesWhere lists, as prose ("logistic or gbm"), the algorithms of the
// table that keep says to.
func NamesWhere(keep func(Algorithm) bool) string {
	var names []string
	for _, a := range Algorithms() {
		if keep(a) {
			names = append(names, a.Name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
