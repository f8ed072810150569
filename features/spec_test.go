package features

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// TestNumericTarget: outcomes coded 0/1 take "positive: 1", from YAML (an
// int) or JSON (a float64, as in a bundle), and label by value.
func TestNumericTarget(t *testing.T) {
	for _, src := range []string{
		"target: {column: y, positive: 1}\nfeatures:\n  - column: x\n    kind: numeric\n",
		`{"target": {"column": "y", "positive": 1}, "features": [{"column": "x", "kind": "numeric"}]}`,
	} {
		s, err := ParseSpec("s.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if s.Target.Positive != 1.0 {
			t.Fatalf("positive %#v, want float64 1", s.Target.Positive)
		}
		for _, tt := range []struct {
			v        data.Value
			pos, has bool
		}{{data.Float(1), true, true}, {data.Float(0), false, true}, {data.Null, false, false}} {
			if pos, ok := s.Label(mapRecord{"y": tt.v}); pos != tt.pos || ok != tt.has {
				t.Errorf("label of %v: %v, %v", tt.v, pos, ok)
			}
		}
		// A bundle keeps the spec as JSON: it reads back the same.
		b, _ := json.Marshal(s)
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil || back.Validate() != nil || back.Target.Positive != 1.0 {
			t.Errorf("round trip: %v, %#v", err, back.Target.Positive)
		}
	}
	for _, tt := range []struct{ src, want string }{
		{"target: {column: y, positive: 1.5}\nfeatures:\n  - column: x\n    kind: numeric\n", "a numeric positive value must be a whole number"},
		{"target: {column: y, positive: [1]}\nfeatures:\n  - column: x\n    kind: numeric\n", "must be true/false, a string level or a whole number"},
	} {
		if _, err := ParseSpec("s.yaml", []byte(tt.src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
	// Against a table: a number needs a numeric column.
	s, _ := ParseSpec("s.yaml", []byte("target: {column: y, positive: 1}\nfeatures:\n  - column: x\n    kind: numeric\n"))
	cols := []data.ColumnInfo{{Name: "x", Kind: data.KindFloat, Type: "DOUBLE"}, {Name: "y", Kind: data.KindString, Type: "STRING"}}
	if err := s.Check("t.parquet", cols, true); err == nil || !strings.Contains(err.Error(), `column y in t.parquet is STRING, not a number: write the text that marks a positive outcome, e.g. positive: "R"`) {
		t.Errorf("string column: err = %v", err)
	}
	// Each mismatch says how to write positive for the column it found.
	for _, tt := range []struct {
		positive any
		col      data.ColumnInfo
		want     string
	}{
		{true, data.ColumnInfo{Name: "y", Kind: data.KindInt, Type: "INT32"}, "positive is true but column y in t.parquet is INT32, not BOOLEAN: write the number that marks a positive outcome, e.g. positive: 1"},
		{"R", data.ColumnInfo{Name: "y", Kind: data.KindBool, Type: "BOOLEAN"}, `positive is "R" but column y in t.parquet is BOOLEAN, not STRING: write positive: true`},
		{1.0, data.ColumnInfo{Name: "y", Kind: data.KindBool, Type: "BOOLEAN"}, "positive is 1 but column y in t.parquet is BOOLEAN, not a number: write positive: true"},
	} {
		s := &Spec{Target: Target{Column: "y", Positive: tt.positive}, Features: []FeatureSpec{{Column: "x", Kind: Numeric}}, file: "s.yaml"}
		if err := s.Check("t.parquet", []data.ColumnInfo{cols[0], tt.col}, true); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("positive %v: err = %v, want %q", tt.positive, err, tt.want)
		}
		// Scoring and exports do not read the target: any type will do.
		if err := s.Check("t.parquet", []data.ColumnInfo{cols[0], tt.col}, false); err != nil {
			t.Errorf("positive %v, target not needed: %v", tt.positive, err)
		}
	}
	// A model's spec (from its bundle, not a file) cannot be edited: the
	// column must be converted.
	bundled := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "x", Kind: Numeric}}}
	if err := bundled.Check("t.parquet", []data.ColumnInfo{cols[0], {Name: "y", Kind: data.KindString, Type: "STRING"}}, true); err == nil ||
		!strings.Contains(err.Error(), "is STRING, not BOOLEAN: convert the column: the model was trained on a target of type BOOLEAN") {
		t.Errorf("a bundle's spec: err = %v", err)
	}
	cols[1] = data.ColumnInfo{Name: "y", Kind: data.KindInt, Type: "INT64"}
	if err := s.Check("t.parquet", cols, true); err != nil {
		t.Errorf("integer column: %v", err)
	}
}

// TestTargetAtLeast: a graded outcome counts as positive from a threshold
// on ("at_least: 2", CTCAE grade 2 or worse), from YAML or JSON (a bundle),
// and the threshold is the only way to give one.
func TestTargetAtLeast(t *testing.T) {
	for _, src := range []string{
		"target: {column: grade, at_least: 2}\nfeatures:\n  - column: x\n    kind: numeric\n",
		`{"target": {"column": "grade", "at_least": 2}, "features": [{"column": "x", "kind": "numeric"}]}`,
	} {
		s, err := ParseSpec("s.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if s.Target.Positive != nil || s.Target.AtLeast == nil || *s.Target.AtLeast != 2 {
			t.Fatalf("target %+v, want at_least 2 alone", s.Target)
		}
		for _, tt := range []struct {
			v        data.Value
			pos, has bool
		}{{data.Float(4), true, true}, {data.Float(2), true, true}, {data.Float(1), false, true}, {data.Float(0), false, true}, {data.Null, false, false}} {
			if pos, ok := s.Label(mapRecord{"grade": tt.v}); pos != tt.pos || ok != tt.has {
				t.Errorf("label of %v: %v, %v; want %v, %v", tt.v, pos, ok, tt.pos, tt.has)
			}
		}
		b, _ := json.Marshal(s)
		if strings.Contains(string(b), `"positive"`) {
			t.Errorf("JSON %s holds a positive value", b)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil || back.Validate() != nil || back.Target.AtLeast == nil || *back.Target.AtLeast != 2 {
			t.Errorf("round trip: %v, %+v", err, back.Target)
		}
	}
	for _, tt := range []struct{ src, want string }{
		{"target: {column: y, positive: 1, at_least: 2}\nfeatures:\n  - column: x\n    kind: numeric\n", "positive and at_least both given"},
		{"target: {column: y, at_least: .nan}\nfeatures:\n  - column: x\n    kind: numeric\n", "at_least: NaN: must be a finite number"},
		{"target: {column: y, at_least: two}\nfeatures:\n  - column: x\n    kind: numeric\n", "a string (`two`) where a number is expected"},
		{"target: {column: y}\nfeatures:\n  - column: x\n    kind: numeric\n", "or at_least: the threshold of a numeric outcome"},
	} {
		if _, err := ParseSpec("s.yaml", []byte(tt.src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want %q", err, tt.want)
		}
	}
	// A threshold needs a numeric column.
	two := 2.0
	s := &Spec{Target: Target{Column: "y", AtLeast: &two}, Features: []FeatureSpec{{Column: "x", Kind: Numeric}}, file: "s.yaml"}
	x := data.ColumnInfo{Name: "x", Kind: data.KindFloat, Type: "DOUBLE"}
	if err := s.Check("t.parquet", []data.ColumnInfo{x, {Name: "y", Kind: data.KindBool, Type: "BOOLEAN"}}, true); err == nil ||
		!strings.Contains(err.Error(), "at_least is 2 but column y in t.parquet is BOOLEAN, not a number: write positive: true") {
		t.Errorf("boolean column: err = %v", err)
	}
	if err := s.Check("t.parquet", []data.ColumnInfo{x, {Name: "y", Kind: data.KindInt, Type: "INT32"}}, true); err != nil {
		t.Errorf("integer column: %v", err)
	}
}

// TestTargetString: how cards, listings and the API name what a model
// predicts.
func TestTargetString(t *testing.T) {
	two, half := 2.0, 0.5
	for _, tt := range []struct {
		t    Target
		want string
	}{
		{Target{Column: "objective_response", Positive: true}, "objective_response"},
		{Target{Column: "pneumonitis_grade", AtLeast: &two}, "pneumonitis_grade >= 2"},
		{Target{Column: "score", AtLeast: &half}, "score >= 0.5"},
		{Target{Column: "response", Positive: "R"}, `response = "R"`},
		{Target{Column: "y", Positive: 1.0}, "y = 1"},
		{Target{Column: "alive", Positive: false}, "alive = false"},
	} {
		if got := tt.t.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.t, got, tt.want)
		}
	}
}

// TestCheckOutcome: the built-in spec trains on the cohort's binary outcomes
// and on pneumonitis from a grade on; not on a censoring indicator, a
// survival time or the generator's probabilities, each refused with the
// reason. A spec of the user's own names columns abscopal cannot judge.
func TestCheckOutcome(t *testing.T) {
	two := 2.0
	for _, tt := range []struct {
		target  string
		atLeast *float64
		want    string // "" when allowed
	}{
		{"abscopal_response", nil, ""},
		{"objective_response", nil, ""},
		{"pneumonitis_grade", &two, ""},
		{"pneumonitis_grade", nil, "pneumonitis_grade is a CTCAE grade (0-5): say from which grade a patient counts as positive, --at-least 2"},
		{"os_event", nil, "os_event is a censoring indicator, not an outcome"},
		{"pfs_event", nil, "pfs_event is a censoring indicator"},
		{"os_months", nil, "os_months is a survival time: its model needs the censoring too; train a time-to-event model with --target os"},
		{"pfs_months", &two, "pfs_months is a survival time"},
		{"true_p_response", nil, "true_p_response is the synthetic generator's probability, not an outcome"},
		{"true_p_abscopal", nil, "true_p_abscopal is the synthetic generator's probability"},
	} {
		s := BuiltinSpec(tt.target)
		if tt.atLeast != nil {
			s.Target.Positive, s.Target.AtLeast = nil, tt.atLeast
		}
		err := s.CheckOutcome()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.target, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrSpec)):
			t.Errorf("%s: err = %v, want %q", tt.target, err, tt.want)
		}
		s.Builtin = false
		if err := s.CheckOutcome(); err != nil {
			t.Errorf("%s in a spec of one's own: %v", tt.target, err)
		}
	}
}

// TestBuiltinSpecOfPneumonitis: a model of pneumonitis reads the mean lung
// dose itself; the response models see it only within EDIC.
func TestBuiltinSpecOfPneumonitis(t *testing.T) {
	reads := func(target string) bool {
		for _, f := range BuiltinSpec(target).Features {
			if f.Derived == "lung_dose_gy" {
				return true
			}
		}
		return false
	}
	if !reads("pneumonitis_grade") || reads("abscopal_response") || reads("objective_response") {
		t.Errorf("lung_dose_gy read for pneumonitis %v, abscopal response %v, objective response %v",
			reads("pneumonitis_grade"), reads("abscopal_response"), reads("objective_response"))
	}
}

// quoted matches text quoted in an error: `...` (the YAML decoder) or "..."
// (Go's %q).
var quoted = regexp.MustCompile("(?s)`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"")

// FuzzParseSpec: any spec text is parsed or refused with an ErrSpec error,
// never a panic; a parsed spec checks against a table of its own columns
// without one either. The seeds (the example spec, the built-in one and
// broken variants) run with go test.
func FuzzParseSpec(f *testing.F) {
	example, err := os.ReadFile("../examples/ici_chowell2022.spec.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte("id: id\ntarget: {column: y, positive: 1}\nfeatures:\n  - column: tmb\n    kind: numeric\n    transforms: [{clip: [0, 200]}, log1p, standardize]\n"))
	f.Add([]byte("target: {column: y, positive: \"CR/PR\"}\nfeatures:\n  - derived: bed\n    alpha_beta_gy: 3\n"))
	f.Add([]byte("{\"target\": {\"column\": \"y\", \"positive\": true}, \"features\": [{\"column\": \"a\", \"kind\": \"categorical\"}]}"))
	f.Add([]byte("features: [\n"))
	f.Add([]byte("target: {column: grade, at_least: 2}\nfeatures:\n  - column: x\n    kind: numeric\n"))
	f.Add([]byte("target: {column: y, positive: true}\nfeatures:\n  - column: x\n    kind: numeric\n    transforms: [log1p, {rcs: 4}, standardize]\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		spec, err := ParseSpec("s.yaml", text)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("%q: error %v is not ErrSpec", text, err)
			}
			// The writer's own text comes back quoted; outside it, no Go type
			// or YAML tag.
			msg := quoted.ReplaceAllString(err.Error(), "")
			if strings.Contains(msg, "features.") || strings.Contains(msg, "!!") {
				t.Fatalf("%q: Go type or YAML tag in %q", text, err)
			}
			return
		}
		var cols []data.ColumnInfo
		for _, c := range spec.Columns() {
			cols = append(cols, data.ColumnInfo{Name: c, Kind: data.KindFloat, Type: "DOUBLE"})
		}
		spec.Check("f.parquet", cols, true) // an error is fine; a panic is not
	})
}

// TestExampleSpecs: every spec under examples/ loads, and the spline
// variant of RF16 expands its continuous features, the linear one none.
func TestExampleSpecs(t *testing.T) {
	paths, err := filepath.Glob("../examples/*.spec.yaml")
	if err != nil || len(paths) < 2 {
		t.Fatalf("examples: %v, %v", paths, err)
	}
	splines := map[string]int{}
	for _, p := range paths {
		s, err := LoadSpec(p)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		for _, f := range s.Features {
			for _, tr := range f.Transforms {
				if tr.Op == OpRCS {
					splines[filepath.Base(p)]++
				}
			}
		}
	}
	if splines["ici_chowell2022_rcs.spec.yaml"] != 9 || splines["ici_chowell2022.spec.yaml"] != 0 {
		t.Errorf("splines by example: %v", splines)
	}
}

// TestSpecKeysExact (issue 17, item 2): a spec's keys match by their exact
// names, and a key given twice is refused with its line, in YAML and in
// JSON, at every level: a setting is never taken from a misspelling or
// silently overridden by a second copy.
func TestSpecKeysExact(t *testing.T) {
	const body = "target: {column: objective_response, positive: true}\nfeatures:\n  - column: alc\n    kind: numeric\n"
	for _, tt := range []struct{ name, spec, want string }{
		{"id twice", "id: patient_id\nid: x\n" + body, `line 2: mapping key "id" already defined at line 1`},
		{"ID", "ID: patient_id\n" + body, `unknown key "ID" in a spec`},
		{"kind twice", "id: patient_id\n" + body + "    kind: categorical\n", `line 6: mapping key "kind" already defined at line 5`},
		{"Kind", "id: patient_id\ntarget: {column: objective_response, positive: true}\nfeatures:\n  - column: alc\n    Kind: numeric\n", `unknown key "Kind" in a feature`},
		{"CLIP", `{"id": "patient_id", "target": {"column": "objective_response", "positive": true}, "features": [{"column": "alc", "kind": "numeric", "transforms": [{"CLIP": [0, 2]}]}]}`, `unknown transform "CLIP"`},
		{"positive twice, JSON", `{"id": "patient_id", "target": {"column": "objective_response", "positive": true, "positive": false}, "features": [{"column": "alc", "kind": "numeric"}]}`, `mapping key "positive" already defined`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec("s.yaml", []byte(tt.spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := ParseSpec("s.yaml", []byte("id: patient_id\n"+body)); err != nil {
		t.Errorf("the spec itself: %v", err)
	}
}
