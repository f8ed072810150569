package data

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestCohortParquetMatchesCSV reads one random cohort, a value in a
// hundred out of its field's range or levels, from Parquet and from CSV,
// and checks the two give the same patients, the same problems in the
// same rows and the same report. The Parquet path sets each column's
// values without making a Value of each, the CSV path parses each cell as
// text and checks it with Field.Check: they share only Check's errors.
func TestCohortParquetMatchesCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 23))
	fields := CohortFields()
	specs := make([]ColumnSpec, len(fields))
	for i, f := range fields {
		specs[i] = ColumnSpec{Name: f.Name, Kind: f.Kind, Optional: i > 0}
		if f.Name == "ecog" {
			specs[i].Kind = KindFloat // pandas's integers with nulls: a fraction is refused
		}
	}
	value := func(f Field) Value {
		bad := rng.IntN(100) == 0
		switch {
		case f.Name == "patient_id":
			return Null // set by the caller
		case rng.IntN(10) == 0 && !(f.Required && !bad):
			return Null
		case f.Categorical():
			if bad {
				return String(strings.ToUpper(f.Levels[0]))
			}
			return String(f.Levels[rng.IntN(len(f.Levels))])
		case f.Kind == KindBool:
			return Bool(rng.IntN(2) == 0)
		case f.Kind == KindInt:
			if bad {
				return Float(f.Max + 1)
			}
			return Float(float64(int(f.Min) + rng.IntN(int(f.Max-f.Min)+1)))
		default:
			if bad {
				return Float(f.Min - 0.5)
			}
			return Float(f.Min + rng.Float64()*(f.Max-f.Min))
		}
	}
	var rows [][]Value
	var csv strings.Builder
	for i, f := range fields {
		if i > 0 {
			csv.WriteByte(',')
		}
		csv.WriteString(f.Name)
	}
	csv.WriteByte('\n')
	for r := range 3000 {
		row := make([]Value, len(fields))
		for i, f := range fields {
			row[i] = value(f)
		}
		row[0] = String(fmt.Sprintf("P%d", r))
		if r%97 == 0 {
			row[21] = Float(2.5) // ecog
		}
		rows = append(rows, row)
		for i, v := range row {
			if i > 0 {
				csv.WriteByte(',')
			}
			switch {
			case !v.Valid:
			case fields[i].Kind == KindBool:
				csv.WriteString(strconv.FormatBool(v.Bool))
			case fields[i].Kind == KindString:
				csv.WriteString(v.Str)
			default:
				csv.WriteString(strconv.FormatFloat(v.Num, 'g', -1, 64))
			}
		}
		csv.WriteByte('\n')
	}
	if fields[21].Name != "ecog" {
		t.Fatalf("field 21 is %s, not ecog", fields[21].Name)
	}
	parquetPath := writeTableGroups(t, specs, rows, 1000)
	csvPath := filepath.Join(t.TempDir(), "cohort.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	type problem struct {
		Row           int64
		Field, Value  string
		Reason        Reason
		Detail, Allow string
	}
	read := func(path string) ([]Patient, Report, []problem) {
		var seen []problem
		ps, rep, err := readAll(t, path, CohortOptions{Policy: SkipInvalid, OnInvalid: func(e *RowError) {
			seen = append(seen, problem{e.Row, e.Field, e.Value, e.Reason, e.Detail, e.Allowed})
		}})
		if err != nil {
			t.Fatal(err)
		}
		return ps, rep, seen
	}
	pq, pqRep, pqSeen := read(parquetPath)
	cs, csRep, csSeen := read(csvPath)
	if pqRep.Invalid < 300 || pqRep.Valid < 300 {
		t.Fatalf("%d valid and %d invalid rows: the test wants many of each", pqRep.Valid, pqRep.Invalid)
	}
	if !reflect.DeepEqual(pqSeen, csSeen) {
		for i := range min(len(pqSeen), len(csSeen)) {
			if pqSeen[i] != csSeen[i] {
				t.Fatalf("problem %d: Parquet %+v, CSV %+v", i, pqSeen[i], csSeen[i])
			}
		}
		t.Fatalf("%d problems from Parquet, %d from CSV", len(pqSeen), len(csSeen))
	}
	if !reflect.DeepEqual(pq, cs) {
		t.Fatalf("the patients differ")
	}
	if pqRep.Rows != csRep.Rows || pqRep.Valid != csRep.Valid || !reflect.DeepEqual(pqRep.ByReason, csRep.ByReason) || !reflect.DeepEqual(pqRep.Nulls, csRep.Nulls) {
		t.Fatalf("reports differ:\nParquet %+v\nCSV     %+v", pqRep, csRep)
	}
}
