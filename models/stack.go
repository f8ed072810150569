package models

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/abscopal/abscopal/stats"
)

// Stack is a stacked ensemble (Wolpert, Neural Netw 1992; Breiman, Mach
// Learn 1996): base learners fitted on all rows, and a logistic regression
// of the outcome on their scores (log-odds) that weighs them. The weights
// are fitted on out-of-fold scores, from a cross-validation within the
// stack's own training rows, so that a base learner that overfits is not
// trusted for it. Its score is linear in the bases' scores,
//
//	score(x) = intercept + sum_k weight_k score_k(x),
//
// so its contributions are the bases' weighted the same way and add up to
// it exactly: contribution_j(x) = sum_k weight_k contribution_kj(x).
type Stack struct {
	Intercept float64      `json:"intercept"`
	Weights   []float64    `json:"weights"`
	Bases     []Classifier `json:"-"`
	// InnerFolds is the cross-validation the weights were fitted on.
	InnerFolds int `json:"inner_folds"`
}

// StackBases are the algorithms a stack combines: every other one of the
// table.
var stackBases = [...]string{"logistic", "gbm", "forest"}

// stackFolds is the inner cross-validation of a stack.
const stackFolds = 5

// stackLambda is the meta-learner's L2 penalty on the weights: small, as
// three weights on thousands of rows need little, and enough to keep them
// finite when two bases agree almost exactly.
const stackLambda = 1

func stackAlgorithm() Algorithm {
	return Algorithm{
		Name:    "stack",
		Summary: "a stacked ensemble of logistic, gbm and forest, weighed by a logistic regression on their out-of-fold scores; contributions are the bases' weighted",
		New:     func() Classifier { return new(Stack) },
		Fit:     FitStack,
		Hyperparameters: func(c Classifier, s Settings) any {
			h := stackHyper{InnerFolds: c.(*Stack).InnerFolds, Lambda: s.Logistic.Lambda, GBM: s.GBM, Forest: s.Forest}
			return h
		},
		ReadHyperparameters: func(raw json.RawMessage, s *Settings) error {
			var h stackHyper
			err := json.Unmarshal(raw, &h)
			s.Logistic.Lambda, s.GBM, s.Forest = h.Lambda, h.GBM, h.Forest
			return err
		},
		Notes: []string{
			"The stack's probability comes from a logistic regression of the outcome on its base learners' scores (logistic, gbm and forest), fitted on their out-of-fold scores within its training rows; its contributions are the bases' (exact for the logistic regression, TreeSHAP for the GBM, Saabas for the forest) weighted by it, and add up to its score.",
		},
	}
}

// stackHyper is what a bundle records of a stack: its bases' settings
// (each base's seed is derived from the stack's).
type stackHyper struct {
	InnerFolds int           `json:"inner_folds"`
	Lambda     float64       `json:"logistic_lambda"`
	GBM        GBMOptions    `json:"gbm"`
	Forest     ForestOptions `json:"forest"`
}

// baseSeed derives base k's seed from the stack's, for the fit of inner
// fold f (f = stackFolds: the fit on all rows).
func baseSeed(seed uint64, k, f int) uint64 { return seed*7919 + uint64(k)*101 + uint64(f) }

// FitStack fits a Stack on d: each base learner of stackBases on every
// inner fold's training rows, scoring its held-out rows; the weights by an
// L2-penalized logistic regression of the labels on those out-of-fold
// scores; then each base on all rows. A patient's copies in a bootstrap
// sample (d.Groups) share an inner fold.
func FitStack(ctx context.Context, d *Data, s Settings, seed uint64) (Classifier, error) {
	if err := d.Check(); err != nil {
		return nil, err
	}
	bases := make([]Algorithm, len(stackBases))
	for k, name := range stackBases {
		a, err := LookupAlgorithm(name)
		if err != nil {
			return nil, err
		}
		bases[k] = a
	}
	fold := stats.GroupedStratifiedFolds(d.Y, d.Groups, stackFolds, seed)
	oof := make([]float64, d.Rows*len(bases)) // row-major: a row's base scores
	for f := range stackFolds {
		tr, te := stats.SplitFold(fold, f)
		if len(te) == 0 {
			continue
		}
		sub := subset(d, tr)
		if err := sub.Check(); err != nil {
			return nil, fmt.Errorf("stack: inner fold %d: %w", f+1, err)
		}
		for k, a := range bases {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			c, err := a.Fit(ctx, sub, s, baseSeed(seed, k, f))
			if err != nil {
				return nil, fmt.Errorf("stack: %s, inner fold %d: %w", a.Name, f+1, err)
			}
			for _, i := range te {
				oof[i*len(bases)+k] = c.Score(d.Row(i))
			}
		}
	}
	meta, err := FitLogistic(&Data{Rows: d.Rows, Cols: len(bases), X: oof, Y: d.Y}, LogisticOptions{Lambda: stackLambda})
	if err != nil {
		return nil, fmt.Errorf("stack: weights: %w", err)
	}
	st := &Stack{Intercept: meta.Intercept, Weights: meta.Coef, InnerFolds: stackFolds}
	for k, a := range bases {
		c, err := a.Fit(ctx, d, s, baseSeed(seed, k, stackFolds))
		if err != nil {
			return nil, fmt.Errorf("stack: %s: %w", a.Name, err)
		}
		st.Bases = append(st.Bases, c)
	}
	return st, nil
}

// subset returns the rows idx of d (labels and groups with them).
func subset(d *Data, idx []int) *Data {
	out := &Data{Rows: len(idx), Cols: d.Cols, X: make([]float64, 0, len(idx)*d.Cols), Y: make([]float64, len(idx))}
	if d.Groups != nil {
		out.Groups = make([]int32, len(idx))
	}
	for j, i := range idx {
		out.X = append(out.X, d.Row(i)...)
		out.Y[j] = d.Y[i]
		if d.Groups != nil {
			out.Groups[j] = d.Groups[i]
		}
	}
	return out
}

// Algo implements Classifier.
func (m *Stack) Algo() string { return "stack" }

// Score returns the weighted sum of the bases' scores.
func (m *Stack) Score(x []float64) float64 {
	s := m.Intercept
	for k, b := range m.Bases {
		s += m.Weights[k] * b.Score(x)
	}
	return s
}

// Contributions weighs each base's contributions by its weight: they add
// up to Score, as each base's add up to its own.
func (m *Stack) Contributions(x []float64, dst []float64) float64 {
	for j := range dst {
		dst[j] = 0
	}
	bias := m.Intercept
	tmp := make([]float64, len(dst))
	for k, b := range m.Bases {
		bias += m.Weights[k] * b.Contributions(x, tmp)
		for j, c := range tmp {
			dst[j] += m.Weights[k] * c
		}
	}
	return bias
}

// stackJSON is a Stack's form in a bundle: the bases encoded as Encode
// writes a classifier, with their algorithm.
type stackJSON struct {
	Intercept  float64           `json:"intercept"`
	Weights    []float64         `json:"weights"`
	InnerFolds int               `json:"inner_folds"`
	Bases      []json.RawMessage `json:"bases"`
}

// MarshalJSON writes the stack with its bases.
func (m *Stack) MarshalJSON() ([]byte, error) {
	j := stackJSON{Intercept: m.Intercept, Weights: m.Weights, InnerFolds: m.InnerFolds}
	for _, b := range m.Bases {
		raw, err := Encode(b)
		if err != nil {
			return nil, err
		}
		j.Bases = append(j.Bases, raw)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Stack) UnmarshalJSON(b []byte) error {
	var j stackJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	m.Intercept, m.Weights, m.InnerFolds, m.Bases = j.Intercept, j.Weights, j.InnerFolds, nil
	for _, raw := range j.Bases {
		c, err := Decode(raw)
		if err != nil {
			return fmt.Errorf("a base: %w", err)
		}
		m.Bases = append(m.Bases, c)
	}
	return nil
}

// validate checks what decoding cannot: a weight per base, finite, and
// bases that are not stacks themselves.
func (m *Stack) validate() error {
	if len(m.Bases) == 0 || len(m.Weights) != len(m.Bases) {
		return fmt.Errorf("%d weights for %d bases", len(m.Weights), len(m.Bases))
	}
	if math.IsNaN(m.Intercept) || math.IsInf(m.Intercept, 0) {
		return errors.New("the intercept is not finite")
	}
	for k, w := range m.Weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("weight %d is not finite", k+1)
		}
		if _, nested := m.Bases[k].(*Stack); nested {
			return errors.New("a stack of stacks")
		}
	}
	return nil
}
