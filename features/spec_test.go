package features

import (
	"encoding/json"
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
	if err := s.Check("t.parquet", cols, true); err == nil || !strings.Contains(err.Error(), "column y in t.parquet is STRING, not a number") {
		t.Errorf("string column: err = %v", err)
	}
	cols[1] = data.ColumnInfo{Name: "y", Kind: data.KindInt, Type: "INT64"}
	if err := s.Check("t.parquet", cols, true); err != nil {
		t.Errorf("integer column: %v", err)
	}
}
