// Package models holds the classifiers (the table of Algorithms: logistic,
// gbm, forest, stack), their calibration, the model bundle and its JSON
// form, scoring, and the registry of published versions.
//
// Every classifier returns probabilities, is deterministic for a seed, and
// is safe for concurrent prediction once fitted (prediction never writes).
package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"math"
)

// Classifier predicts the probability of the positive class from a feature
// vector laid out as the fitted pipeline's outputs.
type Classifier interface {
	// Algo names the algorithm: its name in Algorithms.
	Algo() string
	// Score returns the raw score (log-odds) of x.
	Score(x []float64) float64
	// Contributions writes, for each feature, its contribution to the score
	// of x (log-odds), and returns the bias: Score(x) = bias + sum(dst).
	Contributions(x []float64, dst []float64) (bias float64)
}

// rowScorer is a Classifier that scores many rows at once faster than
// one by one (a tree ensemble goes tree by tree over a block of rows).
type rowScorer interface {
	// scoreRows sets dst[i] to Score of row i of X (rows of width cols),
	// to the same bits.
	scoreRows(X []float64, cols int, dst []float64)
}

// ScoreRows sets dst[i] to c.Score of row i of X, a row-major matrix of
// len(dst) rows of width cols, to the same bits, and faster for a tree
// ensemble.
func ScoreRows(c Classifier, X []float64, cols int, dst []float64) {
	if len(X) != len(dst)*cols {
		panic(fmt.Sprintf("models: ScoreRows of %d values for %d rows of %d", len(X), len(dst), cols))
	}
	if r, ok := c.(rowScorer); ok {
		r.scoreRows(X, cols, dst)
		return
	}
	scoreEachRow(c, X, cols, dst)
}

// scoreEachRow is ScoreRows one row at a time.
func scoreEachRow(c Classifier, X []float64, cols int, dst []float64) {
	for i := range dst {
		dst[i] = c.Score(X[i*cols : (i+1)*cols])
	}
}

// Proba returns the probability of the positive class.
func Proba(c Classifier, x []float64) float64 { return sigmoid(c.Score(x)) }

// Data is a training set: a dense row-major matrix and 0/1 labels.
type Data struct {
	Rows, Cols int
	X          []float64 // Rows x Cols, row-major
	Y          []float64 // 0 or 1
	// Groups, if set, gives each row's group: the copies of a patient in a
	// bootstrap sample share one, and a split of the rows (the GBM's
	// early-stopping share) keeps a group on one side, where a copy on each
	// would make the held-out rows seen ones. nil: every row is its own.
	Groups []int32
	// Time, for a boosted Cox model (GBMOptions.Objective), is each row's
	// follow-up, Y then its event (1) or censoring (0).
	Time []float64
}

// Row returns row i of X.
func (d *Data) Row(i int) []float64 { return d.X[i*d.Cols : (i+1)*d.Cols] }

// Check reports a training set that no algorithm can fit, or that holds a
// missing (NaN) value.
func (d *Data) Check() error { return d.check(false) }

func (d *Data) check(allowNaN bool) error {
	if d.Rows == 0 || d.Cols == 0 {
		return fmt.Errorf("%w: %d rows x %d features", ErrData, d.Rows, d.Cols)
	}
	if len(d.X) != d.Rows*d.Cols || len(d.Y) != d.Rows {
		return fmt.Errorf("%w: %d values and %d labels for %d x %d", ErrData, len(d.X), len(d.Y), d.Rows, d.Cols)
	}
	pos := 0
	for i, y := range d.Y {
		switch y {
		case 1:
			pos++
		case 0:
		default:
			return fmt.Errorf("%w: label %v in row %d; want 0 or 1", ErrData, y, i+1)
		}
	}
	if pos == 0 || pos == d.Rows {
		return fmt.Errorf("%w: a single class (%d positive of %d rows)", ErrData, pos, d.Rows)
	}
	for i, x := range d.X {
		if (math.IsNaN(x) && !allowNaN) || math.IsInf(x, 0) {
			return fmt.Errorf("%w: feature %d of row %d is %v", ErrData, i%d.Cols, i/d.Cols+1, x)
		}
	}
	return nil
}

// ErrData is wrapped by errors about a training set.
var ErrData = errors.New("unusable training data")

// Encode serializes a classifier with its algorithm name.
func Encode(c Classifier) (json.RawMessage, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	return json.Marshal(struct {
		Algo  string          `json:"algo"`
		Model json.RawMessage `json:"model"`
	}{c.Algo(), b})
}

// Decode reads what Encode wrote.
func Decode(b []byte) (Classifier, error) {
	algo, c, err := decodeEnvelope(jsontext.NewDecoder(bytes.NewReader(b)))
	if err != nil {
		return nil, err
	}
	return c, readyToScore(algo, c)
}

// readyToScore checks a decoded classifier and builds what it derives from
// its fields for scoring (a GBM's TreeSHAP tables), once it is known sound:
// validate only checks.
func readyToScore(algo string, c Classifier) error {
	if v, ok := c.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return fmt.Errorf("decode %s model: %w", algo, err)
		}
	}
	if p, ok := c.(interface{ prepare() }); ok {
		p.prepare()
	}
	return nil
}

// decodeEnvelope decodes {"algo": A, "model": M}, the next value of dec,
// into A's classifier. As Encode writes it, the algorithm comes first, and
// the model is decoded straight from the stream; an envelope in another
// order has its model read whole first. It decodes with encoding/json's
// successor (github.com/go-json-experiment/json, pinned, as api does): a
// forest's megabytes of numbers, most of a server's cold start, decode in
// about a third of the time; its names match exactly, as Encode writes
// them, and a name given twice is an error.
func decodeEnvelope(dec *jsontext.Decoder) (string, Classifier, error) {
	var algo string
	var c Classifier
	var early jsontext.Value // a model that came before its algorithm
	if t, err := dec.ReadToken(); err != nil || t.Kind() != '{' {
		return "", nil, fmt.Errorf("decode model: not a JSON object (%v)", err)
	}
	for dec.PeekKind() != '}' {
		t, err := dec.ReadToken()
		if err != nil {
			return "", nil, fmt.Errorf("decode model: %w", err)
		}
		switch t.String() {
		case "algo":
			if err := jsonv2.UnmarshalDecode(dec, &algo); err != nil {
				return "", nil, fmt.Errorf("decode model: algo: %w", err)
			}
		case "model":
			if algo == "" {
				if early, err = dec.ReadValue(); err != nil {
					return "", nil, fmt.Errorf("decode model: %w", err)
				}
				early = early.Clone() // the decoder reuses its buffer
				continue
			}
			a, err := LookupAlgorithm(algo)
			if err != nil {
				return "", nil, fmt.Errorf("decode model: %w", err)
			}
			c = a.New()
			if err := jsonv2.UnmarshalDecode(dec, c); err != nil {
				return "", nil, fmt.Errorf("decode %s model: %w", algo, err)
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return "", nil, fmt.Errorf("decode model: %w", err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil { // the closing brace
		return "", nil, fmt.Errorf("decode model: %w", err)
	}
	a, err := LookupAlgorithm(algo)
	if err != nil {
		return "", nil, fmt.Errorf("decode model: %w", err)
	}
	if c == nil && early != nil {
		c = a.New()
		if err := jsonv2.Unmarshal(early, c); err != nil {
			return "", nil, fmt.Errorf("decode %s model: %w", algo, err)
		}
	}
	if c == nil {
		return "", nil, fmt.Errorf("decode %s model: no model", algo)
	}
	return algo, c, nil
}

// sigmoid is the logistic function, computed as e^z/(1+e^z) below 0. It
// equals stats.Sigmoid to within an ulp but not to the bit, and is kept
// apart for that: every published model's fit (the logistic regression's
// Newton steps, the GBM's gradients, Platt's map) and probability comes
// from it, and a model fitted again must be byte-identical (abscopal models
// reproduce), as must the figures stats reports.
func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// log1pexp returns log(1 + e^z) without overflow.
func log1pexp(z float64) float64 {
	if z > 35 {
		return z
	}
	return math.Log1p(math.Exp(z))
}
