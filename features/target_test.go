package features

import (
	"errors"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// TestTimeToEventTarget: a spec's target may be a time to an event, given
// as its two columns; the built-in spec's os and pfs are the cohort
// schema's; what is refused names the key and the fix.
func TestTimeToEventTarget(t *testing.T) {
	s, err := ParseSpec("s.yaml", []byte("id: id\ntarget: {time: months, event: died}\nfeatures:\n  - {column: age, kind: numeric}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Target.TimeToEvent() || s.Target.Name() != "months" || s.Target.String() != "time months to event died" {
		t.Errorf("target %+v: name %q, %q", s.Target, s.Target.Name(), s.Target)
	}
	if got := strings.Join(s.Columns(), ","); got != "id,months,died,age" {
		t.Errorf("columns %s", got)
	}
	for name, want := range map[string][2]string{"os": {"os_months", "os_event"}, "pfs": {"pfs_months", "pfs_event"}} {
		b := BuiltinSpec(name)
		if b.Target.Time != want[0] || b.Target.Event != want[1] || b.Target.Name() != name || b.CheckOutcome() != nil {
			t.Errorf("built-in %s: %+v", name, b.Target)
		}
	}

	for _, tc := range []struct{ name, target, want string }{
		{"no event", "{time: months}", "names two columns, time (the follow-up) and event"},
		{"the same column", "{time: months, event: months}", "time and event are both months"},
		{"a binary target too", "{time: months, event: died, column: died}", "column, positive and at_least are a binary target's"},
		{"a positive value too", "{time: months, event: died, positive: true}", "column, positive and at_least are a binary target's"},
		{"nothing", "{}", "target.column: missing: name the outcome column (or, for a time to an event, time and event)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec("s.yaml", []byte("id: id\ntarget: "+tc.target+"\nfeatures:\n  - {column: age, kind: numeric}\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrSpec) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}

	cols := func(timeKind, eventKind data.Kind, timeType, eventType string) []data.ColumnInfo {
		return []data.ColumnInfo{{Name: "id", Kind: data.KindString, Type: "STRING"}, {Name: "age", Kind: data.KindFloat, Type: "DOUBLE"},
			{Name: "months", Kind: timeKind, Type: timeType}, {Name: "died", Kind: eventKind, Type: eventType}}
	}
	for _, tc := range []struct {
		name string
		cols []data.ColumnInfo
		want string // "" when accepted
	}{
		{"double and boolean", cols(data.KindFloat, data.KindBool, "DOUBLE", "BOOLEAN"), ""},
		{"integer days and a 0/1 code", cols(data.KindInt, data.KindInt, "INT64", "INT64"), ""},
		{"a time as text", cols(data.KindString, data.KindBool, "STRING", "BOOLEAN"), "target.time: column months in f.parquet is STRING: the follow-up time must be a number"},
		{"an event as a double", cols(data.KindFloat, data.KindFloat, "DOUBLE", "DOUBLE"), "target.event: column died in f.parquet is DOUBLE: the event must be true/false or an integer 0/1 (DuckDB: CAST(died AS BIGINT))"},
		{"no event column", cols(data.KindFloat, data.KindBool, "DOUBLE", "BOOLEAN")[:3], "target.event: column died is not in f.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Check("f.parquet", tc.cols, true)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// Scoring needs neither column.
	if err := s.Check("f.parquet", cols(data.KindFloat, data.KindBool, "DOUBLE", "BOOLEAN")[:2], false); err != nil {
		t.Errorf("without the target's columns, for scoring: %v", err)
	}
}
