package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
)

// BundleFormat is the version of bundle.json. Loading refuses any other.
const BundleFormat = 1

// Bundle is everything needed to score a patient, and where it came from. It
// carries no timestamp, so that the same data, seed and options give the same
// bundle, byte for byte.
type Bundle struct {
	Format      int                `json:"format"`
	Name        string             `json:"name"`
	Target      string             `json:"target"`
	Algo        string             `json:"algo"`
	Pipeline    *features.Pipeline `json:"pipeline"`
	Model       json.RawMessage    `json:"model"`
	Calibration *Calibrator        `json:"calibration"`
	Training    TrainingInfo       `json:"training"`
	// Metrics holds the cross-validated metrics (stats.Metrics) as JSON.
	Metrics json.RawMessage `json:"metrics"`
	// Recalibrated is set on a version whose pipeline and model are another
	// version's, with the calibration refitted on other patients: Training
	// and the cross-validated metrics are the other version's.
	Recalibrated *Recalibration `json:"recalibrated,omitempty"`
}

// Outcome describes what the bundle predicts the probability of: its target
// column ("objective_response"), with the threshold or value that counts as
// positive when there is one ("pneumonitis_grade >= 2"). Two models of one
// column may predict different outcomes.
func (b *Bundle) Outcome() string {
	if b.Pipeline == nil || b.Pipeline.Spec == nil {
		return b.Target
	}
	return b.Pipeline.Spec.Target.String()
}

// Synthetic reports whether synthetic data went into the bundle: its
// training data, or the data it was recalibrated on.
func (b *Bundle) Synthetic() bool {
	return b.Training.Synthetic || (b.Recalibrated != nil && b.Recalibrated.Synthetic)
}

// Recalibration records where a recalibrated version's calibration came
// from (abscopal models recalibrate).
type Recalibration struct {
	From       string `json:"from"` // NAME:VERSION whose pipeline and model these are
	Method     string `json:"method"`
	DataFile   string `json:"data_file"` // base name only
	DataSHA256 string `json:"data_sha256"`
	Rows       int    `json:"rows"` // labelled rows the calibrator was fitted on
	Positives  int    `json:"positives"`
	Synthetic  bool   `json:"synthetic"`
	Bootstrap  int    `json:"bootstrap"` // resamples of the report's AUC intervals
	Seed       uint64 `json:"seed"`      // of the resamples
}

// TrainingInfo records how a bundle was made.
type TrainingInfo struct {
	DataFile        string            `json:"data_file"` // base name only: paths may name people or sites
	DataSHA256      string            `json:"data_sha256"`
	Rows            int               `json:"rows"`
	DroppedRows     int               `json:"dropped_rows"` // target null
	Positives       int               `json:"positives"`
	Synthetic       bool              `json:"synthetic"`
	Seed            uint64            `json:"seed"`
	Folds           int               `json:"folds"`
	FoldsBy         string            `json:"folds_by,omitempty"`  // each value of this column was a fold (leave one group out)
	Bootstrap       int               `json:"bootstrap,omitempty"` // resamples for the AUC interval; 0 in bundles made before it was recorded
	Hyperparameters json.RawMessage   `json:"hyperparameters"`
	AbscopalVersion string            `json:"abscopal_version"`
	GoVersion       string            `json:"go_version"`
	Commit          string            `json:"commit,omitempty"`
	Modules         map[string]string `json:"modules,omitempty"`
}

// Model is a loaded bundle, ready to score. It is safe for concurrent use.
type Model struct {
	Bundle     *Bundle
	Version    string
	Classifier Classifier // nil for a time-to-event model
	// Survival is a time-to-event model's (Bundle.TimeToEvent), nil for a
	// classifier's.
	Survival *SurvivalModel
	// Bootstrap holds the bootstrap models of the stability analysis when
	// the version kept them (BootstrapFile), for Interval.
	Bootstrap []Member
}

// ErrBundle is wrapped by errors about a bundle's content.
var ErrBundle = errors.New("invalid model bundle")

// DecodeBundle parses bundle.json and rebuilds its parts.
func DecodeBundle(b []byte) (*Model, error) {
	// One pass over the bundle, the format checked after it, and the
	// model decoded as the pass reaches it: a forest's bundle is
	// megabytes of numbers, and a look at its format first, or its model
	// kept as raw bytes to decode later, read them again. A bundle of
	// another format that does not decode is still reported as of that
	// format.
	var in struct {
		Bundle
		Model streamedModel `json:"model"` // in place of Bundle.Model
	}
	model := jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, m *streamedModel) error {
		start := dec.InputOffset()
		var err error
		if _, lerr := LookupAlgorithm(in.Algo); lerr != nil || in.Pipeline == nil || in.TimeToEvent() {
			// A survival model, or a bundle in another order: read whole,
			// decoded below.
			_, err = dec.ReadValue()
		} else {
			m.algo, m.c, err = decodeEnvelope(dec)
		}
		// The model's bytes, as Bundle.Model keeps them (a bundle written
		// again, such as a recalibrated one, carries them).
		m.raw = bytes.Clone(bytes.TrimLeft(b[start:dec.InputOffset()], " \t\r\n:"))
		return err
	})
	if err := jsonv2.Unmarshal(b, &in, jsonv2.WithUnmarshalers(model)); err != nil { // the pipeline checks itself
		var format struct {
			Format int `json:"format"`
		}
		if json.Unmarshal(b, &format) == nil && format.Format != BundleFormat {
			return nil, fmt.Errorf("%w: format %d; this abscopal reads format %d", ErrBundle, format.Format, BundleFormat)
		}
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	}
	bd := in.Bundle
	bd.Model = in.Model.raw
	if bd.Format != BundleFormat {
		return nil, fmt.Errorf("%w: format %d; this abscopal reads format %d", ErrBundle, bd.Format, BundleFormat)
	}
	if bd.Pipeline != nil && bd.TimeToEvent() {
		return decodeSurvival(&bd)
	}
	if bd.Pipeline == nil || bd.Calibration == nil {
		return nil, fmt.Errorf("%w: no pipeline or no calibration", ErrBundle)
	}
	c, err := in.Model.c, error(nil)
	if c == nil {
		c, err = Decode(bd.Model)
	} else {
		err = readyToScore(in.Model.algo, c)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBundle, err)
	}
	if c.Algo() != bd.Algo {
		return nil, fmt.Errorf("%w: algo %q but the model is %q", ErrBundle, bd.Algo, c.Algo())
	}
	if n := bd.Pipeline.NumOutputs(); !modelFits(c, n) {
		return nil, fmt.Errorf("%w: the model does not take the pipeline's %d outputs", ErrBundle, n)
	}
	return &Model{Bundle: &bd, Classifier: c}, nil
}

// streamedModel is a bundle's model as DecodeBundle reads it: its bytes,
// and, when the bundle said before it which algorithm and pipeline it is
// of, the classifier decoded from them on the way.
type streamedModel struct {
	raw  []byte
	algo string
	c    Classifier
}

// modelFits reports whether a classifier takes feature vectors of length n.
func modelFits(c Classifier, n int) bool {
	switch m := c.(type) {
	case *Logistic:
		return len(m.Coef) == n
	case *GBM:
		for _, t := range m.Trees {
			if maxFeature(t.Feature) >= n {
				return false
			}
		}
	case *Forest:
		for _, t := range m.Trees {
			if maxFeature(t.Feature) >= n {
				return false
			}
		}
	}
	return true
}

// Prediction is one patient's calibrated probability and its reasons.
type Prediction struct {
	Probability float64
	Score       float64 // uncalibrated log-odds
	Bias        float64
	// Contributions to the score per pipeline output (log-odds).
	Contributions []float64
	Notes         features.Notes
}

// Scratch is reusable space for PredictWith: a server keeps a pool of them
// so that a prediction allocates little.
type Scratch struct {
	x, contrib []float64
	notes      features.Notes
	// For Interval: a bootstrap model's vector and notes, and their
	// probabilities.
	bx, probs []float64
	bnotes    features.Notes
}

// ProfileInputs makes the predictions scored with s carry, in their Notes'
// Bins, each feature's bin of the training profile (for
// features.Stability).
func (s *Scratch) ProfileInputs() { s.notes.Profile = true }

// Predict scores one record through the bundle's pipeline, model and
// calibration.
func (m *Model) Predict(r features.Record) Prediction {
	return m.PredictWith(r, new(Scratch))
}

// PredictWith is Predict using s for its vectors: the returned Prediction's
// Contributions and Notes alias s, and are valid until s is used again.
func (m *Model) PredictWith(r features.Record, s *Scratch) Prediction {
	p, x := m.score(r, s)
	contrib := s.contrib[:len(x)]
	p.Contributions = contrib
	// Bias plus contributions is the score up to rounding; the probability
	// is the model's own score's, which ScoreWith gives too, bit for bit.
	p.Bias = m.Classifier.Contributions(x, contrib)
	return p
}

// ScoreWith is PredictWith without the contributions (Bias 0,
// Contributions nil): the same Score and Probability, bit for bit, for the
// batch scoring and validation that write none, at less cost.
func (m *Model) ScoreWith(r features.Record, s *Scratch) Prediction {
	p, _ := m.score(r, s)
	return p
}

// score transforms r into s's vector, which it returns, and scores it.
func (m *Model) score(r features.Record, s *Scratch) (Prediction, []float64) {
	x := m.transform(r, s)
	p := Prediction{Notes: s.notes, Score: m.Classifier.Score(x)}
	p.Probability = m.Bundle.Calibration.Apply(p.Score)
	return p, x
}

// transform transforms r into s's vector, which it returns, noting in
// s.notes what Transform notes.
func (m *Model) transform(r features.Record, s *Scratch) []float64 {
	n := m.Bundle.Pipeline.NumOutputs()
	if cap(s.x) < n {
		s.x, s.contrib = make([]float64, n), make([]float64, n)
	}
	x := s.x[:n]
	s.notes.Reset()
	m.Bundle.Pipeline.Transform(r, x, &s.notes)
	return x
}

// RecordedMetrics returns the cross-validated metrics of the calibrated
// model that training recorded in b, and its stability analysis if it had
// one (zeros and nil for a bundle that records none).
func (b *Bundle) RecordedMetrics() (stats.Metrics, *stats.Instability) {
	var m struct {
		CV          stats.Metrics      `json:"cross_validated"`
		Instability *stats.Instability `json:"instability"`
	}
	json.Unmarshal(b.Metrics, &m) // written by train.Bundle; zeros if absent
	return m.CV, m.Instability
}
