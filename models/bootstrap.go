package models

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/stats"
)

// BootstrapFile is the name, in a model version, of the bootstrap models
// of its stability analysis, kept so that each patient's probability can
// be given with the spread of theirs (train --intervals).
const BootstrapFile = "bootstrap.json"

// BootstrapFormat is the version of bootstrap.json. Loading refuses any
// other.
const BootstrapFormat = 1

// Member is one bootstrap model: developed as the model was, on a bootstrap
// sample of its training rows (its own pipeline, classifier and
// calibration), by the stability analysis of Riley and Collins. A
// time-to-event model's members have Survival set instead of a classifier
// and a calibration.
type Member struct {
	Pipeline    *features.Pipeline
	Classifier  Classifier
	Calibration *Calibrator
	Survival    *SurvivalModel
}

type bootstrapFile struct {
	Format int               `json:"format"`
	Models []bootstrapMember `json:"models"`
}

type bootstrapMember struct {
	Pipeline    *features.Pipeline `json:"pipeline"`
	Model       json.RawMessage    `json:"model"`
	Calibration *Calibrator        `json:"calibration,omitempty"`
}

// EncodeBootstrap writes the members as bootstrap.json.
func EncodeBootstrap(members []Member) ([]byte, error) {
	f := bootstrapFile{Format: BootstrapFormat, Models: make([]bootstrapMember, len(members))}
	for i, m := range members {
		var raw []byte
		var err error
		if m.Survival != nil {
			raw, err = EncodeSurvival(m.Survival)
		} else {
			raw, err = Encode(m.Classifier)
		}
		if err != nil {
			return nil, err
		}
		f.Models[i] = bootstrapMember{Pipeline: m.Pipeline, Model: raw, Calibration: m.Calibration}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// DecodeBootstrap reads what EncodeBootstrap wrote, for a bundle of the
// given algorithm: every member must be of it and take its own pipeline's
// outputs. (The registry's MANIFEST vouches that they came with the model.)
// With timeToEvent, the members are time-to-event models.
func DecodeBootstrap(b []byte, algo string, timeToEvent bool) ([]Member, error) {
	var f bootstrapFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBundle, BootstrapFile, err)
	}
	if f.Format != BootstrapFormat {
		return nil, fmt.Errorf("%w: %s: format %d; this abscopal reads format %d", ErrBundle, BootstrapFile, f.Format, BootstrapFormat)
	}
	members := make([]Member, len(f.Models))
	for i, bm := range f.Models {
		if timeToEvent {
			if bm.Pipeline == nil {
				return nil, fmt.Errorf("%w: %s: model %d has no pipeline", ErrBundle, BootstrapFile, i+1)
			}
			sm, err := decodeSurvivalModel(algo, bm.Model, bm.Pipeline.NumOutputs())
			if err != nil {
				return nil, fmt.Errorf("%s: model %d: %w", BootstrapFile, i+1, err)
			}
			members[i] = Member{Pipeline: bm.Pipeline, Survival: sm}
			continue
		}
		if bm.Pipeline == nil || bm.Calibration == nil {
			return nil, fmt.Errorf("%w: %s: model %d has no pipeline or no calibration", ErrBundle, BootstrapFile, i+1)
		}
		c, err := Decode(bm.Model)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: model %d: %v", ErrBundle, BootstrapFile, i+1, err)
		}
		if c.Algo() != algo || !modelFits(c, bm.Pipeline.NumOutputs()) {
			return nil, fmt.Errorf("%w: %s: model %d is not a %s model of its pipeline", ErrBundle, BootstrapFile, i+1, algo)
		}
		members[i] = Member{Pipeline: bm.Pipeline, Classifier: c, Calibration: bm.Calibration}
	}
	return members, nil
}

// Interval returns the central 95% of the bootstrap models' calibrated
// probabilities for r: how far the patient's probability depends on which
// patients the model happened to be developed on. ok is false for a model
// kept without its bootstrap models. It costs a transform and a score per
// bootstrap model.
func (m *Model) Interval(r features.Record, s *Scratch) (lo, hi float64, ok bool) {
	probs := m.eachMember(r, s, func(b Member, x []float64) float64 { return b.Calibration.Apply(b.Classifier.Score(x)) })
	if probs == nil {
		return math.NaN(), math.NaN(), false
	}
	lo, hi = stats.Central95(probs)
	return lo, hi, true
}

// eachMember transforms r by each bootstrap model's own pipeline and
// returns what f makes of the model and the outputs, one value per model,
// in the scratch's space (valid until its next use); nil when the model
// kept no bootstrap models.
func (m *Model) eachMember(r features.Record, s *Scratch, f func(b Member, x []float64) float64) []float64 {
	if len(m.Bootstrap) == 0 {
		return nil
	}
	if cap(s.probs) < len(m.Bootstrap) {
		s.probs = make([]float64, len(m.Bootstrap))
	}
	out := s.probs[:len(m.Bootstrap)]
	for i, b := range m.Bootstrap {
		n := b.Pipeline.NumOutputs()
		if cap(s.bx) < n {
			s.bx = make([]float64, n)
		}
		x := s.bx[:n]
		s.bnotes.Reset()
		b.Pipeline.Transform(r, x, &s.bnotes)
		out[i] = f(b, x)
	}
	return out
}
