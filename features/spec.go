package features

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/radiobiology"
	"go.yaml.in/yaml/v3"
)

// Spec names the columns of a table that a model uses: the id, the target
// and its positive value, the features with their kinds and transforms, and
// the columns to carry into exports. Specs are written in YAML or JSON (see
// examples/ici_chowell2022.spec.yaml); BuiltinSpec is the iRT default.
type Spec struct {
	Name        string        `yaml:"name" json:"name"`
	Description string        `yaml:"description,omitempty" json:"description,omitempty"`
	ID          string        `yaml:"id" json:"id"`
	Target      Target        `yaml:"target" json:"target"`
	AlphaBetaGy float64       `yaml:"alpha_beta_gy,omitempty" json:"alpha_beta_gy,omitempty"`
	Features    []FeatureSpec `yaml:"features" json:"features"`
	Keep        []string      `yaml:"keep,omitempty" json:"keep,omitempty"`
	// Builtin marks the built-in iRT spec: its input is a cohort-schema file,
	// read and validated as one. It is not for specs written by hand.
	Builtin bool `yaml:"-" json:"builtin,omitempty"`

	file string // where the spec was read from, for errors
}

// Target names the outcome column and what counts as positive: Positive,
// the value (true for a boolean column, a level for a string column, a whole
// number, 1 as outcomes are often coded 0/1, for an integer or float
// column), or AtLeast, a threshold on a numeric column at or above which a
// row is positive (an ordinal outcome: CTCAE grade 2 or worse). Validate
// turns a numeric Positive into a float64.
//
// A time-to-event target names instead its two columns: Time, the follow-up
// (a number >= 0, in the unit the model's answers are in, months for the
// cohort schema), and Event, whether follow-up ended with the event (true
// or 1; false or 0: censored then).
type Target struct {
	Column   string   `yaml:"column,omitempty" json:"column,omitempty"`
	Positive any      `yaml:"positive,omitempty" json:"positive,omitempty"`
	AtLeast  *float64 `yaml:"at_least,omitempty" json:"at_least,omitempty"`
	Time     string   `yaml:"time,omitempty" json:"time,omitempty"`
	Event    string   `yaml:"event,omitempty" json:"event,omitempty"`
}

// TimeToEvent reports whether the target is a time to an event (Time and
// Event) rather than a binary outcome (Column).
func (t Target) TimeToEvent() bool { return t.Time != "" || t.Event != "" }

// Columns lists the columns the target reads: Column, or Time and Event.
func (t Target) Columns() []string {
	if t.TimeToEvent() {
		return []string{t.Time, t.Event}
	}
	return []string{t.Column}
}

// TimeToEventTargets are the cohort schema's time-to-event targets, by the
// name the command line and the API give them: os (os_months, os_event)
// and pfs (pfs_months, pfs_event).
func TimeToEventTargets() map[string]Target {
	return map[string]Target{
		"os":  {Time: "os_months", Event: "os_event"},
		"pfs": {Time: "pfs_months", Event: "pfs_event"},
	}
}

// Name is what the target is called: its column, or for a time to an
// event, the schema's name of it (os, pfs) or its time column.
func (t Target) Name() string {
	if !t.TimeToEvent() {
		return t.Column
	}
	for name, tt := range TimeToEventTargets() {
		if tt.Time == t.Time && tt.Event == t.Event {
			return name
		}
	}
	return t.Time
}

// String describes the target as the card and the CLI print it:
// "objective_response", "pneumonitis_grade >= 2", `response = "R"`, "time
// os_months to event os_event".
func (t Target) String() string {
	switch {
	case t.TimeToEvent():
		return fmt.Sprintf("time %s to event %s", t.Time, t.Event)
	case t.AtLeast != nil:
		return fmt.Sprintf("%s >= %s", t.Column, strconv.FormatFloat(*t.AtLeast, 'g', -1, 64))
	case t.Positive == true:
		return t.Column
	}
	return fmt.Sprintf("%s = %s", t.Column, positiveText(t.Positive))
}

// FeatureSpec is one feature: a column of the table, or a built-in derived
// feature.
type FeatureSpec struct {
	Column      string      `yaml:"column,omitempty" json:"column,omitempty"`
	Derived     string      `yaml:"derived,omitempty" json:"derived,omitempty"`
	Kind        Kind        `yaml:"kind,omitempty" json:"kind,omitempty"`
	Transforms  []Transform `yaml:"transforms,omitempty" json:"transforms,omitempty"`
	AlphaBetaGy float64     `yaml:"alpha_beta_gy,omitempty" json:"alpha_beta_gy,omitempty"`
	Unit        string      `yaml:"unit,omitempty" json:"unit,omitempty"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`

	line int // line in the spec file, 0 when built in code
}

// Transform is a per-feature numeric transform: "log1p", "standardize", or
// {clip: [lo, hi]}. Transforms apply in order; standardize must come last.
type Transform struct {
	Op       string
	Min, Max float64 // clip bounds
	Knots    int     // rcs: the number of knots
}

// The transform operations.
const (
	OpLog1p       = "log1p"
	OpClip        = "clip"
	OpStandardize = "standardize"
	// OpRCS expands a numeric feature into a restricted cubic spline
	// (Harrell): the value and Knots-2 terms that let a linear model bend
	// between the knots, and keep it straight beyond the outer ones.
	OpRCS = "rcs"
)

// UnmarshalYAML reads "log1p", "standardize", {clip: [lo, hi]} or
// {rcs: k}.
func (t *Transform) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		t.Op = n.Value
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 {
			return fmt.Errorf("line %d: a transform map has one key, e.g. {clip: [0, 100]}", n.Line)
		}
		t.Op = n.Content[0].Value
		if t.Op == OpRCS {
			if err := n.Content[1].Decode(&t.Knots); err != nil {
				return fmt.Errorf("line %d: rcs takes a number of knots, e.g. {rcs: 4}", n.Line)
			}
			return nil
		}
		var bounds []float64
		if err := n.Content[1].Decode(&bounds); err != nil || len(bounds) != 2 {
			return fmt.Errorf("line %d: %s takes two numbers, e.g. {clip: [0, 100]}", n.Line, t.Op)
		}
		t.Min, t.Max = bounds[0], bounds[1]
		return nil
	}
	return fmt.Errorf("line %d: a transform is log1p, standardize, {clip: [lo, hi]} or {rcs: k}", n.Line)
}

// MarshalJSON writes the same forms.
func (t Transform) MarshalJSON() ([]byte, error) {
	switch t.Op {
	case OpClip:
		return json.Marshal(map[string][2]float64{OpClip: {t.Min, t.Max}})
	case OpRCS:
		return json.Marshal(map[string]int{OpRCS: t.Knots})
	}
	return json.Marshal(t.Op)
}

// UnmarshalJSON reads the forms MarshalJSON writes.
func (t *Transform) UnmarshalJSON(b []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil {
		return err
	}
	return t.UnmarshalYAML(n.Content[0])
}

// MarshalYAML writes the forms UnmarshalYAML reads.
func (t Transform) MarshalYAML() (any, error) {
	switch t.Op {
	case OpClip:
		return map[string][]float64{OpClip: {t.Min, t.Max}}, nil
	case OpRCS:
		return map[string]int{OpRCS: t.Knots}, nil
	}
	return t.Op, nil
}

// SpecError is a problem with a spec, located by file, line and feature.
type SpecError struct {
	File    string
	Line    int    // 0 when unknown
	Key     string // e.g. "features[3] (tmb)" or "target.column"
	Message string
}

// Error implements error.
func (e *SpecError) Error() string {
	var b strings.Builder
	b.WriteString("spec")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	return b.String() + ": " + e.Message
}

// ErrSpec is wrapped by every error about a spec.
var ErrSpec = errors.New("invalid feature spec")

// Unwrap lets errors.Is(err, ErrSpec) match.
func (e *SpecError) Unwrap() error { return ErrSpec }

// LoadSpec reads and validates a spec file (YAML or JSON).
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read spec: %w", err)
	}
	return ParseSpec(path, b)
}

// ParseSpec parses and validates a spec. Unknown keys are errors: a typo must
// not silently drop a setting.
func ParseSpec(file string, b []byte) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, &SpecError{File: file, Message: yamlProblem(err)}
	}
	// A second pass over the node tree finds the line of each feature.
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err == nil && len(root.Content) > 0 {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "features" && m.Content[i+1].Kind == yaml.SequenceNode {
				for j, item := range m.Content[i+1].Content {
					if j < len(s.Features) {
						s.Features[j].line = item.Line
					}
				}
			}
		}
	}
	s.file = file
	// A numeric positive value is held as a float64, whichever of YAML's
	// and JSON's number types it came as (Label compares it with one).
	switch p := s.Target.Positive.(type) {
	case int, int64, uint64:
		s.Target.Positive = asFloat(p)
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// yamlMismatch matches the decoder's "cannot unmarshal !!seq `[a]` into
// features.FeatureSpec", whose YAML tag and Go type mean nothing to a spec's
// writer; yamlProblem puts it in a spec's words.
var yamlMismatch = regexp.MustCompile("(?s)cannot unmarshal (.+?) (`[^`]*` )?into (\\S+)")

var (
	yamlTagNames = map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number",
		"!!float": "a number", "!!bool": "true or false", "!!null": "null"}
	specTypeNames = map[string]string{
		"features.Spec":          "a spec (id, target, features, keep)",
		"features.Target":        "target (column, positive or at_least; or time and event)",
		"features.FeatureSpec":   "a feature (column or derived, kind, transforms)",
		"[]features.FeatureSpec": "a list of features",
		"features.Transform":     "a transform (log1p, standardize, {clip: [lo, hi]} or {rcs: k})",
		"[]features.Transform":   "a list of transforms (log1p, standardize, {clip: [lo, hi]} or {rcs: k})",
		"features.Kind":          "a kind (numeric, categorical or boolean)",
		"[]string":               "a list of column names",
		"string":                 "a string",
		"float64":                "a number",
		"bool":                   "true or false",
	}
)

// yamlUnknownKey matches the decoder's "field knid not found in type
// features.FeatureSpec".
var yamlUnknownKey = regexp.MustCompile(`(?s)field (.*?) not found in type (\S+)`)

// specKeys lists the keys of each part of a spec, for an unknown one.
var specKeys = map[string]string{
	"features.Spec":        "a spec (name, description, id, target, alpha_beta_gy, features, keep)",
	"features.Target":      "target (column, positive or at_least; or time and event)",
	"features.FeatureSpec": "a feature (column, derived, kind, transforms, alpha_beta_gy, unit, description)",
}

// yamlProblem is the decoder's error without its prefix, YAML tags and Go
// type names.
func yamlProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.Replace(msg, "unmarshal errors:", "cannot be read:", 1)
	msg = yamlUnknownKey.ReplaceAllStringFunc(msg, func(m string) string {
		g := yamlUnknownKey.FindStringSubmatch(m)
		in := specKeys[g[2]]
		if in == "" {
			in = "this part of the spec"
		}
		return fmt.Sprintf("unknown key %q in %s", g[1], in)
	})
	return yamlMismatch.ReplaceAllStringFunc(msg, func(m string) string {
		g := yamlMismatch.FindStringSubmatch(m)
		found := yamlTagNames[g[1]]
		if found == "" {
			found = fmt.Sprintf("a value of YAML tag %q", strings.TrimLeft(g[1], "!"))
		}
		if g[2] != "" {
			found += " (" + strings.TrimSpace(g[2]) + ")"
		}
		want := specTypeNames[g[3]]
		if want == "" {
			want = g[3]
		}
		return found + " where " + want + " is expected"
	})
}

func (s *Spec) errorf(f *FeatureSpec, i int, format string, args ...any) error {
	e := &SpecError{File: s.file, Message: fmt.Sprintf(format, args...)}
	if f != nil {
		e.Line = f.line
		e.Key = fmt.Sprintf("features[%d] (%s)", i, f.Name(s.alphaBeta()))
	}
	return e
}

func (s *Spec) alphaBeta() float64 {
	if s.AlphaBetaGy > 0 {
		return s.AlphaBetaGy
	}
	return radiobiology.TumourAlphaBetaGy
}

// AlphaBeta returns the alpha/beta ratio (Gy) this feature uses.
func (f *FeatureSpec) AlphaBeta(specDefault float64) float64 {
	if f.AlphaBetaGy > 0 {
		return f.AlphaBetaGy
	}
	return specDefault
}

// Name returns the feature's output name: its column, or the derived name
// (with alpha/beta for bed and eqd2).
func (f *FeatureSpec) Name(specAlphaBeta float64) string {
	if f.Derived != "" {
		if d, ok := LookupDerived(f.Derived); ok {
			return d.OutputName(f.AlphaBeta(specAlphaBeta))
		}
		return f.Derived
	}
	return f.Column
}

// asFloat converts the numbers a YAML or JSON decoder gives.
func asFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

// validateTarget checks what counts as positive: one of target.positive and
// target.at_least; or, for a time to an event, both columns and nothing of
// a binary target.
func (s *Spec) validateTarget() error {
	if t := s.Target; t.TimeToEvent() {
		switch {
		case t.Time == "" || t.Event == "":
			return &SpecError{File: s.file, Key: "target", Message: "a time-to-event target names two columns, time (the follow-up) and event (whether it ended with the event): one is missing"}
		case t.Time == t.Event:
			return &SpecError{File: s.file, Key: "target", Message: fmt.Sprintf("time and event are both %s: they are two columns", t.Time)}
		case t.Column != "" || t.Positive != nil || t.AtLeast != nil:
			return &SpecError{File: s.file, Key: "target", Message: "column, positive and at_least are a binary target's; a time-to-event target has time and event only"}
		}
		return nil
	}
	if s.Target.Column == "" {
		return &SpecError{File: s.file, Key: "target.column", Message: "missing: name the outcome column (or, for a time to an event, time and event)"}
	}
	if s.Target.AtLeast != nil {
		if s.Target.Positive != nil {
			return &SpecError{File: s.file, Key: "target", Message: "positive and at_least both given: give one, the value that counts as positive or the threshold at or above which a row is"}
		}
		if a := *s.Target.AtLeast; math.IsNaN(a) || math.IsInf(a, 0) {
			return &SpecError{File: s.file, Key: "target.at_least", Message: fmt.Sprintf("%v: must be a finite number", a)}
		}
		return nil
	}
	switch p := s.Target.Positive.(type) {
	case bool, string:
	case nil:
		return &SpecError{File: s.file, Key: "target.positive", Message: "missing: the value that counts as positive (true, a level, or a number such as 1), or at_least: the threshold of a numeric outcome (2 for grade 2 or worse)"}
	case int, int64, uint64, float64: // YAML gives int, JSON float64
		x := asFloat(p)
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return &SpecError{File: s.file, Key: "target.positive", Message: fmt.Sprintf("%v: a numeric positive value must be a whole number", p)}
		}
	default:
		return &SpecError{File: s.file, Key: "target.positive", Message: fmt.Sprintf("%v: must be true/false, a string level or a whole number", p)}
	}
	return nil
}

// CheckOutcome refuses, for the built-in spec, the cohort columns that look
// like outcomes but cannot be one a classifier learns: the survival columns
// (an event seen or not says as much about the length of follow-up as about
// the patient) and the synthetic generator's probabilities; a CTCAE grade
// needs its threshold. Training calls it; loading a model does not, so that
// a model trained before the check still loads. A spec of the user's own
// names columns whose meaning abscopal cannot know: it passes.
func (s *Spec) CheckOutcome() error {
	if !s.ReadsPatients() {
		return nil
	}
	t := s.Target
	msg := ""
	switch t.Column {
	case "pfs_event", "os_event":
		msg = "a censoring indicator, not an outcome: false means no event was seen while the patient was followed, however briefly, so a model of it learns who was followed longest. Train a time-to-event model with --target " + strings.TrimSuffix(t.Column, "_event") + ", or a binary outcome: abscopal_response, objective_response, or pneumonitis_grade with --at-least"
	case "pfs_months", "os_months":
		msg = "a survival time: its model needs the censoring too; train a time-to-event model with --target " + strings.TrimSuffix(t.Column, "_months") + " (" + t.Column + " with " + strings.TrimSuffix(t.Column, "_months") + "_event)"
	case data.PneumonitisGrade:
		if t.AtLeast == nil {
			msg = "a CTCAE grade (0-5): say from which grade a patient counts as positive, --at-least 2 for grade 2 or worse (in a spec, target.at_least: 2)"
		}
	}
	// The generator's ground truth, as the schema marks it.
	if f, ok := data.CohortField(t.Column); ok && f.Synthetic {
		msg = "the synthetic generator's probability, not an outcome: train on the outcome drawn from it, abscopal_response or objective_response"
	}
	if msg != "" {
		return &SpecError{File: s.file, Key: "target", Message: t.Column + " is " + msg}
	}
	return nil
}

// Validate checks the spec on its own, without a table.
func (s *Spec) Validate() error {
	if err := s.validateTarget(); err != nil {
		return err
	}
	if s.AlphaBetaGy < 0 || math.IsNaN(s.AlphaBetaGy) {
		return &SpecError{File: s.file, Key: "alpha_beta_gy", Message: fmt.Sprintf("%v: must be positive", s.AlphaBetaGy)}
	}
	if len(s.Features) == 0 {
		return &SpecError{File: s.file, Key: "features", Message: "empty: name at least one feature"}
	}
	seen := map[string]bool{}
	for i := range s.Features {
		f := &s.Features[i]
		switch {
		case f.Column == "" && f.Derived == "":
			return s.errorf(f, i, "give either column or derived")
		case f.Column != "" && f.Derived != "":
			return s.errorf(f, i, "give column or derived, not both")
		}
		if f.Derived != "" {
			d, ok := LookupDerived(f.Derived)
			if !ok {
				return s.errorf(f, i, "unknown derived feature %q (known: %s)", f.Derived, strings.Join(DerivedNames(), ", "))
			}
			if f.Kind != "" && f.Kind != d.Kind {
				return s.errorf(f, i, "derived feature %s is %s, not %s", d.Name, d.Kind, f.Kind)
			}
			if f.AlphaBetaGy != 0 && !d.UsesAlphaBeta {
				return s.errorf(f, i, "alpha_beta_gy applies to bed and eqd2 only")
			}
			if f.AlphaBetaGy < 0 {
				return s.errorf(f, i, "alpha_beta_gy %v must be positive", f.AlphaBetaGy)
			}
		} else {
			switch f.Kind {
			case Numeric, Categorical, Boolean:
			case "":
				return s.errorf(f, i, "kind missing (numeric, categorical or boolean)")
			default:
				return s.errorf(f, i, "unknown kind %q (numeric, categorical or boolean)", f.Kind)
			}
		}
		if err := s.checkTransforms(f, i); err != nil {
			return err
		}
		name := f.Name(s.alphaBeta())
		if seen[name] {
			return s.errorf(f, i, "feature %s appears twice", name)
		}
		seen[name] = true
		if name == s.Target.Column {
			return s.errorf(f, i, "the target column cannot be a feature")
		}
		if f.Column != "" && f.Column == s.ID {
			return s.errorf(f, i, "the id column cannot be a feature: it names patients, and what a model learns of it carries to no new patient")
		}
		// Outcomes are known only after treatment: a model that reads one
		// cannot be used when a treatment is planned, and its metrics are
		// inflated by the leak.
		if cf, ok := data.CohortField(f.Column); ok && (cf.Outcome || cf.Synthetic) {
			return s.errorf(f, i, "column %s is an outcome in the cohort schema (%s), known only after treatment: it cannot be a feature", f.Column, cf.Group)
		}
	}
	return nil
}

func (s *Spec) checkTransforms(f *FeatureSpec, i int) error {
	kind := s.featureKind(f)
	for j, t := range f.Transforms {
		switch t.Op {
		case OpLog1p, OpStandardize:
		case OpClip:
			if !(t.Min < t.Max) {
				return s.errorf(f, i, "clip [%v, %v]: the lower bound must be below the upper", t.Min, t.Max)
			}
		case OpRCS:
			if t.Knots < MinKnots || t.Knots > MaxKnots {
				return s.errorf(f, i, "rcs with %d knots (allowed: %d to %d; Harrell's defaults place them)", t.Knots, MinKnots, MaxKnots)
			}
			if rest := f.Transforms[j+1:]; len(rest) > 1 || len(rest) == 1 && rest[0].Op != OpStandardize {
				return s.errorf(f, i, "rcs must be the last transform but standardize: it expands the value into several")
			}
		default:
			return s.errorf(f, i, "unknown transform %q (allowed: log1p, clip, rcs, standardize)", t.Op)
		}
		if kind != Numeric {
			return s.errorf(f, i, "transform %s needs a numeric feature; this one is %s", t.Op, kind)
		}
		if t.Op == OpStandardize && j != len(f.Transforms)-1 {
			return s.errorf(f, i, "standardize must be the last transform")
		}
	}
	return nil
}

func (s *Spec) featureKind(f *FeatureSpec) Kind {
	if d, ok := LookupDerived(f.Derived); ok {
		return d.Kind
	}
	return f.Kind
}

// Check tests the spec against a table's columns: every column it names
// exists with a kind that fits (the target too, when needTarget: training
// needs it, exporting features does not). It returns a *SpecError naming
// the feature, the column and the type found.
func (s *Spec) Check(file string, cols []data.ColumnInfo, needTarget bool) error {
	byName := map[string]data.ColumnInfo{}
	for _, c := range cols {
		byName[c.Name] = c
	}
	need := func(col, key string, line int) (data.ColumnInfo, error) {
		c, ok := byName[col]
		if !ok {
			msg := fmt.Sprintf("column %s is not in %s", col, file)
			for _, other := range cols {
				if strings.EqualFold(strings.TrimSpace(other.Name), col) {
					msg += fmt.Sprintf(", which has %q: column names are exact", other.Name)
					break
				}
			}
			return c, &SpecError{File: s.file, Line: line, Key: key, Message: msg}
		}
		if c.Kind == data.KindUnsupported {
			return c, &SpecError{File: s.file, Line: line, Key: key, Message: fmt.Sprintf("column %s in %s has unsupported type %s", col, file, c.Type)}
		}
		return c, nil
	}
	if s.ID != "" {
		if _, err := need(s.ID, "id", 0); err != nil {
			return err
		}
	}
	if t := s.Target; t.TimeToEvent() {
		if err := s.checkTimeToEvent(file, need, needTarget); err != nil {
			return err
		}
		return s.checkFeatures(file, byName, need)
	}
	tc, err := need(s.Target.Column, "target.column", 0)
	if err != nil && !needTarget {
		tc = data.ColumnInfo{}
	} else if err != nil {
		return err
	}
	var want string
	switch s.Target.Positive.(type) {
	case bool:
		if tc.Kind != data.KindBool {
			want = "BOOLEAN"
		}
	case string:
		if tc.Kind != data.KindString {
			want = "STRING"
		}
	case float64:
		if tc.Kind != data.KindInt && tc.Kind != data.KindFloat {
			want = "a number"
		}
	}
	if s.Target.AtLeast != nil && tc.Kind != data.KindInt && tc.Kind != data.KindFloat {
		want = "a number"
	}
	// Only training and validation read the target; scoring and exports
	// (which copy the column as it is) can take it of any type.
	if needTarget && want != "" {
		// A spec read from a file can be edited; one read from a bundle
		// cannot: the file's column must become what the model learnt from.
		hint := "convert the column: the model was trained on a target of type " + want
		switch {
		case s.ReadsPatients() && tc.Kind == data.KindBool:
			hint = "--at-least applies to a numeric outcome (pneumonitis_grade); a yes/no outcome needs none"
		case s.ReadsPatients():
			hint = "the built-in features predict abscopal_response, objective_response or pneumonitis_grade (with --at-least)"
		case s.file != "":
			hint = targetKindHint(tc.Kind)
		}
		stray := ""
		if want == "a number" {
			stray = notNumber(tc)
		}
		what := "positive is " + positiveText(s.Target.Positive)
		if s.Target.AtLeast != nil {
			what = "at_least is " + strconv.FormatFloat(*s.Target.AtLeast, 'g', -1, 64)
		}
		return &SpecError{File: s.file, Key: "target", Message: fmt.Sprintf("%s but column %s in %s is %s%s, not %s: %s",
			what, tc.Name, file, tc.Type, stray, want, hint)}
	}
	return s.checkFeatures(file, byName, need)
}

// columnNeed finds a column the spec needs in a table, or says why not.
type columnNeed func(col, key string, line int) (data.ColumnInfo, error)

// checkFeatures checks the features' and kept columns against a table's.
func (s *Spec) checkFeatures(file string, byName map[string]data.ColumnInfo, need columnNeed) error {
	for i := range s.Features {
		f := &s.Features[i]
		key := fmt.Sprintf("features[%d] (%s)", i, f.Name(s.alphaBeta()))
		if f.Derived != "" {
			d, _ := LookupDerived(f.Derived)
			for _, in := range d.Inputs {
				c, ok := byName[in]
				if !ok {
					return &SpecError{File: s.file, Line: f.line, Key: key,
						Message: fmt.Sprintf("derived feature %s needs column %s, which %s lacks", d.Name, in, file)}
				}
				want, _ := data.CohortField(in)
				numeric := func(k data.Kind) bool { return k == data.KindFloat || k == data.KindInt }
				// A CSV column of doses all written as whole numbers is
				// typed integer; fractions written 5.0 (pandas' integers
				// with nulls) are typed numbers, and checked whole as read.
				if c.Kind != want.Kind && !(c.Text && numeric(c.Kind) && numeric(want.Kind)) {
					return &SpecError{File: s.file, Line: f.line, Key: key,
						Message: fmt.Sprintf("derived feature %s needs column %s as %s; %s has %s%s", d.Name, in, want.Kind, file, c.Type, notNumber(c))}
				}
			}
			continue
		}
		c, err := need(f.Column, key, f.line)
		if err != nil {
			return err
		}
		ok := false
		switch f.Kind {
		case Numeric:
			ok = c.Kind == data.KindFloat || c.Kind == data.KindInt
		case Categorical:
			ok = c.Kind == data.KindString || c.Kind == data.KindInt // levels, or integer codes of levels
		case Boolean:
			ok = c.Kind == data.KindBool
		}
		if !ok {
			msg := fmt.Sprintf("%s feature, but column %s in %s is %s", f.Kind, f.Column, file, c.Type)
			switch {
			case f.Kind == Categorical && c.Kind == data.KindFloat:
				msg += fmt.Sprintf(": a categorical feature reads strings or integer codes; use kind numeric for a measurement, or store the codes as integers (DuckDB: CAST(%s AS BIGINT))", f.Column)
			case f.Kind == Boolean && c.Kind != data.KindBool:
				msg += ": a boolean feature reads a BOOLEAN column; use kind numeric for a 0/1 code, or categorical for strings"
			case f.Kind == Numeric && c.NotNumber != "":
				msg += fmt.Sprintf(" (%s; the nulls a CSV may hold are %s): correct it, or use kind categorical for levels", c.NotNumber, nullList())
			case f.Kind == Numeric && c.Kind == data.KindString:
				msg += fmt.Sprintf(": a numeric feature reads a column of numbers; numbers stored as text are cast (DuckDB: CAST(%s AS DOUBLE); pandas: pd.to_numeric), levels take kind categorical", f.Column)
			}
			return &SpecError{File: s.file, Line: f.line, Key: key, Message: msg}
		}
	}
	for _, k := range s.Keep {
		if _, err := need(k, "keep", 0); err != nil {
			return err
		}
	}
	return nil
}

// checkTimeToEvent checks a time-to-event target's columns: the time a
// number, the event true/false or a 0/1 integer.
func (s *Spec) checkTimeToEvent(file string, need columnNeed, needTarget bool) error {
	t := s.Target
	tc, err := need(t.Time, "target.time", 0)
	if err != nil {
		if needTarget {
			return err
		}
		return nil
	}
	ec, err := need(t.Event, "target.event", 0)
	if err != nil {
		if needTarget {
			return err
		}
		return nil
	}
	if !needTarget {
		return nil
	}
	if tc.Kind != data.KindFloat && tc.Kind != data.KindInt {
		return &SpecError{File: s.file, Key: "target.time", Message: fmt.Sprintf("column %s in %s is %s%s: the follow-up time must be a number (months, for the cohort schema)", t.Time, file, tc.Type, notNumber(tc))}
	}
	if ec.Kind != data.KindBool && ec.Kind != data.KindInt {
		hint := ""
		if ec.Kind == data.KindFloat {
			hint = fmt.Sprintf(" (DuckDB: CAST(%s AS BIGINT))", t.Event)
		}
		return &SpecError{File: s.file, Key: "target.event", Message: fmt.Sprintf("column %s in %s is %s: the event must be true/false or an integer 0/1%s", t.Event, file, ec.Type, hint)}
	}
	return nil
}

// KeepPresent drops kept columns that the table lacks. The built-in spec
// keeps every outcome column a cohort may have; a researcher's spec that
// names a column the file lacks is an error instead (Check).
func (s *Spec) KeepPresent(cols []data.ColumnInfo) {
	have := map[string]bool{}
	for _, c := range cols {
		have[c.Name] = true
	}
	var keep []string
	for _, k := range s.Keep {
		if have[k] {
			keep = append(keep, k)
		}
	}
	s.Keep = keep
}

// DropAbsent removes the features whose inputs are all missing from the
// table, and returns their names. The built-in spec names every optional
// cohort column, and a valid cohort file may lack some; a researcher's spec
// that names a missing column is an error instead (Check).
func (s *Spec) DropAbsent(cols []data.ColumnInfo) []string {
	have := map[string]bool{}
	for _, c := range cols {
		have[c.Name] = true
	}
	var kept []FeatureSpec
	var dropped []string
	for _, f := range s.Features {
		inputs, requires := []string{f.Column}, []string(nil)
		if d, ok := LookupDerived(f.Derived); ok {
			inputs, requires = d.Inputs, d.Requires
		}
		usable := false
		for _, in := range inputs {
			usable = usable || have[in]
		}
		for _, in := range requires {
			usable = usable && have[in]
		}
		if usable {
			kept = append(kept, f)
		} else {
			dropped = append(dropped, f.Name(s.alphaBeta()))
		}
	}
	s.Features = kept
	return dropped
}

// Label returns the target of r: whether it equals the positive value, and
// false for ok when the target is null.
func (s *Spec) Label(r Record) (positive, ok bool) {
	v := r.Value(s.Target.Column)
	if !v.Valid {
		return false, false
	}
	if s.Target.AtLeast != nil {
		return v.Num >= *s.Target.AtLeast, true
	}
	switch p := s.Target.Positive.(type) {
	case bool:
		return v.Bool == p, true
	case string:
		return v.Str == p, true
	case float64:
		return v.Num == p, true
	case int, int64, uint64: // a spec built in code rather than parsed
		return v.Num == asFloat(p), true
	}
	return false, false
}

// inputColumns lists the columns the features are computed from.
func (s *Spec) inputColumns() []string {
	var out []string
	for _, f := range s.Features {
		if d, ok := LookupDerived(f.Derived); ok {
			out = append(out, d.Inputs...)
		} else if f.Column != "" {
			out = append(out, f.Column)
		}
	}
	return out
}

// derivedInputs lists the cohort columns the spec's derived features read.
func (s *Spec) derivedInputs() []string {
	var out []string
	for _, f := range s.Features {
		if d, ok := LookupDerived(f.Derived); ok {
			out = append(out, d.Inputs...)
		}
	}
	return out
}

// Columns returns every column the spec reads: id, target, feature inputs and
// kept columns, without repeats.
func (s *Spec) Columns() []string {
	var out []string
	seen := map[string]bool{}
	add := func(c string) {
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	add(s.ID)
	for _, c := range s.Target.Columns() {
		add(c)
	}
	for _, f := range s.Features {
		if d, ok := LookupDerived(f.Derived); ok {
			for _, in := range d.Inputs {
				add(in)
			}
		} else {
			add(f.Column)
		}
	}
	for _, k := range s.Keep {
		add(k)
	}
	return out
}

// BuiltinSpec returns the default iRT spec for cohort files, predicting the
// given target (abscopal_response, objective_response, or pneumonitis_grade
// with a threshold). A model of pneumonitis also reads the mean lung dose
// itself (lung_dose_gy), the established dosimetric predictor of radiation
// pneumonitis (Marks et al., QUANTEC), which the others see only within
// EDIC.
func BuiltinSpec(target string) *Spec {
	num := func(col string, t ...Transform) FeatureSpec {
		return FeatureSpec{Column: col, Kind: Numeric, Transforms: append(t, Transform{Op: OpStandardize})}
	}
	cat := func(col string) FeatureSpec { return FeatureSpec{Column: col, Kind: Categorical} }
	boolean := func(col string) FeatureSpec { return FeatureSpec{Column: col, Kind: Boolean} }
	derived := func(name string, t ...Transform) FeatureSpec { return FeatureSpec{Derived: name, Transforms: t} }
	std := Transform{Op: OpStandardize}
	spec := &Spec{
		Name:        "irt",
		Description: "built-in radioimmunotherapy features for cohort-schema files",
		ID:          "patient_id",
		Target:      builtinTarget(target),
		AlphaBetaGy: radiobiology.TumourAlphaBetaGy,
		Features: []FeatureSpec{
			cat("mhc1_status"), boolean("hla_loh"), boolean("ifn_pathway_defect"), derived("immune_evasion"),
			num("pdl1_tps"), num("tmb", Transform{Op: OpLog1p}),
			num("alc", Transform{Op: OpLog1p}), num("albumin"), derived("nlr", Transform{Op: OpLog1p}, std),
			derived("lymphopenia_grade_baseline", std), derived("lymphopenia_grade_nadir", std),
			derived("had_rt"), derived("dose_per_fraction_gy", std), derived("bed", std), derived("eqd2", std),
			derived("hypofractionated"), derived("ablative"), derived("single_high_dose"),
			derived("edic_gy", std), derived("irradiated_site"), derived("rt_sequence"), derived("nodal_rt"),
			cat("ici_class"),
			num("age"), cat("sex"), num("ecog"), cat("stage"), cat("histology"), boolean("egfr_mutant"), boolean("prior_systemic_therapy"),
		},
		Keep: []string{data.AbscopalResponse, data.ObjectiveResponse, "pfs_months", "pfs_event", "os_months", "os_event",
			data.PneumonitisGrade, "true_p_abscopal", "true_p_response"},
		Builtin: true,
		file:    "(built-in irt)",
	}
	if target == data.PneumonitisGrade {
		spec.Features = append(spec.Features, derived("lung_dose_gy", std))
	}
	return spec
}

// builtinTarget is the built-in spec's target of the given name: a
// time-to-event target (os, pfs), or a binary outcome column.
func builtinTarget(name string) Target {
	if t, ok := TimeToEventTargets()[name]; ok {
		return t
	}
	return Target{Column: name, Positive: true}
}

// YAML renders the spec as YAML, as a starting point for a user's own.
func (s *Spec) YAML() ([]byte, error) { return yaml.Marshal(s) }

// positiveText writes target.positive as in YAML: a string quoted.
func positiveText(v any) string {
	if str, ok := v.(string); ok {
		return strconv.Quote(str)
	}
	return fmt.Sprint(v)
}

// targetKindHint says how to write target.positive for a target column of kind k.
func targetKindHint(k data.Kind) string {
	switch k {
	case data.KindBool:
		return "write positive: true"
	case data.KindString:
		return "write the text that marks a positive outcome, e.g. positive: \"R\""
	case data.KindInt, data.KindFloat:
		return "write the number that marks a positive outcome, e.g. positive: 1, or for a graded outcome the threshold, e.g. at_least: 2"
	}
	return "the target must be a BOOLEAN, STRING or integer column"
}

// CheckValue returns a FieldError when x, a value of column, lies outside
// the domain of a transform the spec applies to it: a feature that takes the
// log1p of column (after any clip before it) needs values above -1. Without
// the check such a value would become NaN and then be imputed as if missing,
// in silence. Derived features are not checked: their values are
// nonnegative by construction.
func (s *Spec) CheckValue(column string, x float64) *data.FieldError {
	for i := range s.Features {
		f := &s.Features[i]
		if f.Column != column || f.Derived != "" || f.Kind != Numeric {
			continue
		}
		v := x
		for _, t := range f.Transforms {
			switch t.Op {
			case OpLog1p:
				if !(v > -1) {
					allowed := "above -1: the spec takes its log1p"
					if v != x {
						allowed = fmt.Sprintf("above -1 once clipped (here %g): the spec takes its log1p", v)
					}
					return &data.FieldError{Field: column, Reason: data.ReasonRange, Value: strconv.FormatFloat(x, 'g', -1, 64),
						Allowed: allowed + "; correct the value, or clip it first in the spec"}
				}
				v = math.Log1p(v)
			case OpClip:
				v = math.Max(t.Min, math.Min(t.Max, v))
			}
		}
	}
	return nil
}

// DomainColumns lists the columns CheckValue can refuse a value of: those
// a numeric feature takes the log1p of.
func (s *Spec) DomainColumns() []string {
	var out []string
	for _, f := range s.Features {
		if f.Column == "" || f.Derived != "" || f.Kind != Numeric || slices.Contains(out, f.Column) {
			continue
		}
		for _, t := range f.Transforms {
			if t.Op == OpLog1p {
				out = append(out, f.Column)
				break
			}
		}
	}
	return out
}

// nullList quotes the null spellings of a CSV file for messages.
func nullList() string {
	q := make([]string, len(data.NullSpellings))
	for i, n := range data.NullSpellings {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// notNumber says, for a CSV column typed as text, which value is not a
// number: " (row 2: \"n/a\" is not a number)"; nothing otherwise.
func notNumber(c data.ColumnInfo) string {
	if c.NotNumber == "" {
		return ""
	}
	return " (" + c.NotNumber + ")"
}

// ReadsPatients reports whether s reads cohort files, row by row as
// patients of the cohort schema, each validated as such (the built-in
// spec); a researcher's spec reads the columns it names of any table. What
// follows from it, each said once: a file's rows are data.Patients
// (OpenSource reads them with data.NewCohortReader), its inputs take the
// schema's kinds and ranges (the API validates them as a patient), a
// file lacking an optional column loses the features computed from it
// (DropAbsent) rather than being refused, and its target is one of the
// schema's outcomes (CheckOutcome).
func (s *Spec) ReadsPatients() bool { return s.Builtin }

// ForeignFile reports whether err, from reading a file with s, says that
// the file is no cohort file at all (it has few of the schema's columns)
// while s, the built-in spec, reads cohort files only: such a file is read
// through a spec of its own.
func (s *Spec) ForeignFile(err error) bool {
	var se *data.SchemaError
	return s.ReadsPatients() && errors.As(err, &se) && se.Foreign
}

// AdviseSpec adds the way out to err when it says that a file read with
// the built-in spec is no cohort file (ForeignFile); other errors come back
// as they are.
func (s *Spec) AdviseSpec(err error) error {
	if s.ForeignFile(err) {
		return fmt.Errorf("%w; a file of other columns is read through a feature spec (--spec; abscopal features --print-spec writes one to start from)", err)
	}
	return err
}

// Clone returns a copy of s whose features and kept columns may be
// trimmed without touching s's.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Features = slices.Clone(s.Features)
	c.Keep = slices.Clone(s.Keep)
	return &c
}
