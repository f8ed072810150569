package features

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// mapRecord is a Record for tests.
type mapRecord map[string]data.Value

func (m mapRecord) Value(c string) data.Value { return m[c] }

func TestFitAndTransformByHand(t *testing.T) {
	spec := &Spec{
		Name:   "hand",
		Target: Target{Column: "y", Positive: true},
		Features: []FeatureSpec{
			{Column: "x", Kind: Numeric, Transforms: []Transform{{Op: OpStandardize}}},
			{Column: "c", Kind: Categorical},
			{Column: "b", Kind: Boolean},
			{Column: "z", Kind: Numeric, Transforms: []Transform{{Op: OpClip, Min: 0, Max: 10}, {Op: OpLog1p}}},
		},
	}
	rows := []Record{
		mapRecord{"x": data.Float(1), "c": data.String("b"), "b": data.Bool(true), "z": data.Float(0)},
		mapRecord{"x": data.Float(2), "c": data.String("a"), "b": data.Bool(true), "z": data.Float(50)},
		mapRecord{"x": data.Float(6), "c": data.String("b"), "b": data.Bool(false), "z": data.Float(math.E - 1)},
		mapRecord{"x": data.Null, "c": data.Null, "b": data.Bool(true), "z": data.Float(math.E - 1)},
	}
	p, err := Fit(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: x observed {1, 2, 6}: median 2, mean 3, population SD sqrt((4+1+9)/3) = sqrt(14/3).
	x := p.Features[0]
	if x.Impute != 2 || x.Mean != 3 || math.Abs(x.SD-math.Sqrt(14.0/3)) > 1e-12 || !x.MissingIndicator {
		t.Errorf("x fitted as %+v; want impute 2, mean 3, SD sqrt(14/3), indicator", x)
	}
	c := p.Features[1]
	if !reflect.DeepEqual(c.Levels, []string{"a", "b"}) || c.ImputeLevel != "b" || !c.MissingIndicator {
		t.Errorf("c fitted as %+v; want levels [a b], impute b, indicator", c)
	}
	if b := p.Features[2]; b.Impute != 1 || b.MissingIndicator {
		t.Errorf("b fitted as %+v; want impute 1 (3 of 4 true), no indicator", b)
	}
	// z: clip to [0, 10] then log1p: {0, log 11, 1, 1}: median (1 + 1)/2 = 1.
	if z := p.Features[3]; z.Impute != 1 || z.RawMin != 0 || z.RawMax != 50 {
		t.Errorf("z fitted as %+v; want impute 1, raw range [0, 50]", z)
	}
	wantOutputs := []string{"x", "x:missing", "c=a", "c=b", "c=<unseen>", "c:missing", "b", "z"}
	if !reflect.DeepEqual(p.Outputs, wantOutputs) {
		t.Fatalf("outputs %v, want %v", p.Outputs, wantOutputs)
	}
	// Degrees of freedom: x and its indicator, c's two levels less one and
	// its indicator, b, z: 6 of the 8 outputs.
	if n := p.Parameters(); n != 6 {
		t.Errorf("parameters %d, want 6", n)
	}

	var notes Notes
	dst := make([]float64, p.NumOutputs())
	p.Transform(mapRecord{"x": data.Null, "c": data.String("zzz"), "b": data.Null, "z": data.Float(-5)}, dst, &notes)
	sd := math.Sqrt(14.0 / 3)
	want := []float64{(2 - 3) / sd, 1, 0, 0, 1, 0, 1, 0} // z: clip(-5) = 0, log1p(0) = 0
	for i := range want {
		if math.Abs(dst[i]-want[i]) > 1e-12 {
			t.Errorf("output %s = %v, want %v", p.Outputs[i], dst[i], want[i])
		}
	}
	if !reflect.DeepEqual(notes.Imputed, []string{"x", "b"}) {
		t.Errorf("imputed %v, want [x b]", notes.Imputed)
	}
	if !reflect.DeepEqual(notes.Unseen, []Unseen{{"c", "zzz"}}) {
		t.Errorf("unseen %v", notes.Unseen)
	}
	if !reflect.DeepEqual(notes.OutOfRange, []OutOfRange{{Feature: "z", Value: -5, Min: 0, Max: 50}}) {
		t.Errorf("out of range %v", notes.OutOfRange)
	}
}

func TestFitErrors(t *testing.T) {
	spec := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "alc", Kind: Numeric}}}
	_, err := Fit(spec, []Record{mapRecord{}, mapRecord{"alc": data.Null}})
	var fe *FitError
	if !errors.As(err, &fe) || fe.Feature != "alc" || !strings.Contains(err.Error(), "null in all 2 training rows") {
		t.Errorf("err = %v, want the all-null feature named", err)
	}
	spec = &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Derived: "edic_gy"}}}
	_, err = Fit(spec, []Record{mapRecord{"rt_dose_gy": data.Float(24), "rt_fractions": data.Float(3)}})
	if !errors.Is(err, ErrFit) || !strings.Contains(err.Error(), "feature edic_gy") || !strings.Contains(err.Error(), "mean_lung_dose_gy") {
		t.Errorf("err = %v, want edic_gy and its inputs named", err)
	}
}

func TestSpecErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown transform", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n  - column: tmb\n    kind: numeric\n    transforms: [log2]\n",
			[]string{"s.yaml:5", "features[1] (tmb)", `unknown transform "log2"`, "log1p, clip, rcs, standardize"}},
		{"unknown kind", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: ordinal\n",
			[]string{"s.yaml:3", `unknown kind "ordinal"`}},
		{"typo in a key", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    knid: numeric\n",
			[]string{"s.yaml", "line 4: unknown key \"knid\" in a feature (column, derived, kind, transforms"}},
		{"transform on a category", "target: {column: y, positive: true}\nfeatures:\n  - column: c\n    kind: categorical\n    transforms: [log1p]\n",
			[]string{"features[0] (c)", "needs a numeric feature"}},
		{"bad clip", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n    transforms: [{clip: [5, 1]}]\n",
			[]string{"clip [5, 1]"}},
		{"unknown derived", "target: {column: y, positive: true}\nfeatures:\n  - derived: bed12\n",
			[]string{`unknown derived feature "bed12"`, "bed, "}},
		{"no target", "features:\n  - column: a\n    kind: numeric\n", []string{"target.column: missing"}},
		{"standardize not last", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n    transforms: [standardize, log1p]\n",
			[]string{"standardize must be the last"}},
		{"duplicate", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n  - column: a\n    kind: numeric\n",
			[]string{"features[1] (a)", "appears twice"}},
		{"a list for a feature", "target: {column: y, positive: true}\nfeatures:\n  - [a, b]\n",
			[]string{"line 3: a list where a feature (column or derived, kind, transforms) is expected"}},
		{"a string for transforms", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n    transforms: log1p\n",
			[]string{"line 5: a string (`log1p`) where a list of transforms (log1p, standardize, {clip: [lo, hi]} or {rcs: k}) is expected"}},
		{"a number for the target", "target: 5\nfeatures:\n  - column: a\n    kind: numeric\n",
			[]string{"line 1: a number (`5`) where target (column, positive or at_least; or time and event) is expected"}},
		{"target as a feature", "target: {column: y, positive: true}\nfeatures:\n  - column: a\n    kind: numeric\n  - column: y\n    kind: boolean\n",
			[]string{"s.yaml:5", "features[1] (y)", "the target column cannot be a feature"}},
		{"id as a feature", "id: sample_id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: sample_id\n    kind: categorical\n",
			[]string{"s.yaml:4", "features[0] (sample_id)", "the id column cannot be a feature"}},
		{"an outcome as a feature", "target: {column: objective_response, positive: true}\nfeatures:\n  - column: pfs_months\n    kind: numeric\n",
			[]string{"features[0] (pfs_months)", "column pfs_months is an outcome in the cohort schema (outcomes), known only after treatment"}},
		{"the truth as a feature", "target: {column: objective_response, positive: true}\nfeatures:\n  - column: true_p_response\n    kind: numeric\n",
			[]string{"column true_p_response is an outcome in the cohort schema (synthetic ground truth)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSpec("s.yaml", []byte(tt.yaml))
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("err = %v, want ErrSpec", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSpecCheckAgainstColumns(t *testing.T) {
	cols := []data.ColumnInfo{
		{Name: "id", Kind: data.KindString, Type: "STRING"},
		{Name: "y", Kind: data.KindBool, Type: "BOOLEAN"},
		{Name: "age", Kind: data.KindFloat, Type: "DOUBLE"},
		{Name: "stage", Kind: data.KindInt, Type: "INT64"},
		{Name: "histology", Kind: data.KindString, Type: "STRING"},
	}
	tests := []struct {
		name string
		f    FeatureSpec
		want string
	}{
		{"missing column", FeatureSpec{Column: "bmi", Kind: Numeric}, "column bmi is not in f.parquet"},
		{"a column in other case", FeatureSpec{Column: "Age", Kind: Numeric}, `column Age is not in f.parquet, which has "age": column names are exact`},
		{"categorical that is a measurement", FeatureSpec{Column: "age", Kind: Categorical}, "categorical feature, but column age in f.parquet is DOUBLE: a categorical feature reads strings or integer codes; use kind numeric for a measurement, or store the codes as integers (DuckDB: CAST(age AS BIGINT))"},
		{"boolean that is numeric", FeatureSpec{Column: "age", Kind: Boolean}, "boolean feature, but column age in f.parquet is DOUBLE: a boolean feature reads a BOOLEAN column; use kind numeric for a 0/1 code"},
		{"numeric that is a string", FeatureSpec{Column: "histology", Kind: Numeric}, "numeric feature, but column histology in f.parquet is STRING: a numeric feature reads a column of numbers; numbers stored as text are cast (DuckDB: CAST(histology AS DOUBLE); pandas: pd.to_numeric), levels take kind categorical"},
		{"derived without inputs", FeatureSpec{Derived: "bed"}, "derived feature bed needs column rt_dose_gy, which f.parquet lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Spec{ID: "id", Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{tt.f}}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			err := s.Check("f.parquet", cols, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	ok := &Spec{ID: "id", Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "age", Kind: Numeric},
		{Column: "stage", Kind: Categorical}}} // integer codes of levels
	if err := ok.Check("f.parquet", cols, true); err != nil {
		t.Errorf("valid spec: %v", err)
	}
	s := &Spec{Target: Target{Column: "y", Positive: "yes"}, Features: []FeatureSpec{{Column: "age", Kind: Numeric}}}
	if err := s.Check("f.parquet", cols, true); err == nil || !strings.Contains(err.Error(), "not STRING") {
		t.Errorf("string positive on a bool target: err = %v", err)
	}
}

func TestTransformJSON(t *testing.T) {
	ts := []Transform{{Op: OpLog1p}, {Op: OpClip, Min: -1, Max: 2.5}, {Op: OpStandardize}}
	b, err := json.Marshal(ts)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["log1p",{"clip":[-1,2.5]},"standardize"]` {
		t.Errorf("json %s", b)
	}
	var back []Transform
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, ts) {
		t.Errorf("round trip %v, %v", back, err)
	}
}

func TestOutputGroups(t *testing.T) {
	p := &Pipeline{Outputs: []string{"age", "mhc1_status=high", "mhc1_status=loss", "mhc1_status=<unseen>", "alc", "alc:missing", "sex=f"}}
	of, names := p.OutputGroups()
	wantOf, wantNames := []int{0, 1, 1, 1, 2, 2, 3}, []string{"age", "mhc1_status", "alc", "sex"}
	if !slices.Equal(of, wantOf) || !slices.Equal(names, wantNames) {
		t.Errorf("groups %v of %v; want %v of %v", of, names, wantOf, wantNames)
	}
}

// TestFitRecordsIDType: the pipeline notes whether the id column held
// numbers, for servers that declare input types.
func TestFitRecordsIDType(t *testing.T) {
	spec := &Spec{ID: "id", Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "x", Kind: Numeric}}}
	for _, tt := range []struct {
		id      data.Value
		numeric bool
	}{{data.Float(10004), true}, {data.String("p1"), false}} {
		recs := []Record{mapRecord{"id": data.Null, "x": data.Float(1)}, mapRecord{"id": tt.id, "x": data.Float(2)}}
		p, err := Fit(spec, recs)
		if err != nil {
			t.Fatal(err)
		}
		if p.IDNumeric != tt.numeric {
			t.Errorf("id %v: IDNumeric %v", tt.id, p.IDNumeric)
		}
	}
}

// TestIntegerCodes: a categorical feature over an integer column (sites
// coded 1, 2, 10) one-hot encodes the codes as levels "1", "2", "10", reads
// an unseen code as unseen, keeps a string column's levels as they are, and
// survives the bundle's JSON.
func TestIntegerCodes(t *testing.T) {
	spec := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{
		{Column: "site", Kind: Categorical}, {Column: "histology", Kind: Categorical}}}
	rows := []Record{
		mapRecord{"site": data.Float(1), "histology": data.String("squamous")},
		mapRecord{"site": data.Float(10), "histology": data.String("")},
		mapRecord{"site": data.Float(2), "histology": data.String("adeno")},
		mapRecord{"site": data.Float(1), "histology": data.Null},
		mapRecord{"site": data.Null, "histology": data.String("adeno")},
	}
	p, err := Fit(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	site, hist := p.Features[0], p.Features[1]
	if !site.Codes || !reflect.DeepEqual(site.Levels, []string{"1", "10", "2"}) || site.ImputeLevel != "1" {
		t.Errorf("site: codes %v, levels %v, impute %q", site.Codes, site.Levels, site.ImputeLevel)
	}
	if hist.Codes || !reflect.DeepEqual(hist.Levels, []string{"", "adeno", "squamous"}) {
		t.Errorf("histology: codes %v, levels %q", hist.Codes, hist.Levels)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Pipeline
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	x := make([]float64, back.NumOutputs())
	var notes Notes
	back.Transform(mapRecord{"site": data.Float(10), "histology": data.String("adeno")}, x, &notes)
	on := map[string]float64{}
	for j, o := range back.Outputs {
		on[o] = x[j]
	}
	if on["site=10"] != 1 || on["site=1"] != 0 || on["histology=adeno"] != 1 || len(notes.Unseen) != 0 {
		t.Errorf("site 10, adeno: %v, notes %+v", on, notes)
	}
	back.Transform(mapRecord{"site": data.Float(7), "histology": data.String("adeno")}, x, &notes)
	if x[3] != 1 || len(notes.Unseen) != 1 || notes.Unseen[0] != (Unseen{Feature: "site", Value: "7"}) {
		t.Errorf("site 7: %v (outputs %v), notes %+v", x, back.Outputs, notes)
	}
	// A code read as text (a CSV column) is the same code: "010" is 10;
	// text that is no integer is unseen.
	notes.Reset()
	y := make([]float64, back.NumOutputs())
	back.Transform(mapRecord{"site": data.String("010"), "histology": data.String("adeno")}, y, &notes)
	back.Transform(mapRecord{"site": data.Float(10), "histology": data.String("adeno")}, x, &notes)
	if !reflect.DeepEqual(x, y) || len(notes.Unseen) != 0 {
		t.Errorf("site \"010\": %v, site 10: %v, notes %+v", y, x, notes)
	}
	back.Transform(mapRecord{"site": data.String("ten"), "histology": data.String("adeno")}, y, &notes)
	if len(notes.Unseen) != 1 || notes.Unseen[0] != (Unseen{Feature: "site", Value: "ten"}) {
		t.Errorf("site \"ten\": notes %+v", notes)
	}

	// Integer codes read integers or text; text levels refuse integers.
	kinds := map[string]data.Kind{"site": data.KindString, "histology": data.KindString}
	if err := back.CheckKinds("f.parquet", func(c string) data.Kind { return kinds[c] }); err != nil {
		t.Errorf("site as text: %v", err)
	}
	kinds["histology"] = data.KindInt
	err = back.CheckKinds("f.parquet", func(c string) data.Kind { return kinds[c] })
	if err == nil || err.Error() != "f.parquet: column histology holds integers, but the model learnt feature histology from text levels (, adeno, squamous): store the column as text (DuckDB: CAST(histology AS VARCHAR); pandas: .astype(str))" {
		t.Errorf("histology as integers: %v", err)
	}
}
