package features

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// TestSpline checks the knots and the terms of restricted cubic splines of
// 3, 4 and 5 knots against rms::rcspline.eval's definition, computed in
// numpy (testdata/rcs/make_reference.py), on 200 values and at points
// below, between and beyond the knots; and that each term is linear beyond
// the outer knots, as a restricted spline must be.
func TestSpline(t *testing.T) {
	b, err := os.ReadFile("testdata/rcs/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Train []float64 `json:"train"`
		X     []float64 `json:"x"`
		Cases []struct {
			Asked int         `json:"knots_asked"`
			Knots []float64   `json:"knots"`
			Terms [][]float64 `json:"terms"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	sorted := slices.Sorted(slices.Values(ref.Train))
	for _, c := range ref.Cases {
		knots, err := splineKnots(sorted, c.Asked)
		if err != nil {
			t.Fatal(err)
		}
		for i := range knots {
			if math.Abs(knots[i]-c.Knots[i]) > 1e-12 {
				t.Errorf("%d knots: %v, want %v", c.Asked, knots, c.Knots)
				break
			}
		}
		for i, x := range ref.X {
			for j, want := range c.Terms[i] {
				if got := splineTerm(x, knots, j); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
					t.Errorf("%d knots, term %d at %v: %.15g, want %.15g", c.Asked, j+1, x, got, want)
				}
			}
		}
		// Linear beyond the last knot: equal steps give equal changes.
		last := knots[len(knots)-1]
		for j := range len(knots) - 2 {
			a, b, c := splineTerm(last+10, knots, j), splineTerm(last+20, knots, j), splineTerm(last+30, knots, j)
			if math.Abs((c-b)-(b-a)) > 1e-9*math.Abs(c) {
				t.Errorf("%d knots, term %d is not linear beyond the last knot: %v %v %v", len(knots), j+1, a, b, c)
			}
		}
	}
	if _, err := splineKnots([]float64{0, 0, 0, 0, 1, 1, 1, 2, 2, 2}, 5); err == nil || !strings.Contains(err.Error(), "rcs with 5 knots needs 5 distinct quantiles") {
		t.Errorf("a feature of few values: err = %v", err)
	}
}

// TestSplinePipeline: a spec's {rcs: 4} gives a feature its value and two
// spline terms, named with primes as Harrell writes them, standardized on the training
// rows, one feature for contributions, three parameters; the pipeline
// round-trips through JSON to the same vectors; a tampered spline is
// refused.
func TestSplinePipeline(t *testing.T) {
	spec, err := ParseSpec("s.yaml", []byte("target: {column: y, positive: true}\nfeatures:\n  - column: age\n    kind: numeric\n    transforms: [{rcs: 4}, standardize]\n  - column: x\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tr := spec.Features[0].Transforms[0]; tr.Op != OpRCS || tr.Knots != 4 {
		t.Fatalf("transform %+v", tr)
	}
	var recs []Record
	for i := range 300 {
		recs = append(recs, mapRecord{"age": data.Float(30 + float64(i%60)), "x": data.Float(float64(i % 7)), "y": data.Bool(i%3 == 0)})
	}
	p, err := Fit(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"age", "age'", "age''", "x"}; !slices.Equal(p.Outputs, want) {
		t.Errorf("outputs %v, want %v", p.Outputs, want)
	}
	if of, names := p.OutputGroups(); !slices.Equal(names, []string{"age", "x"}) || !slices.Equal(of, []int{0, 0, 0, 1}) {
		t.Errorf("groups %v %v", of, names)
	}
	if p.Parameters() != 4 {
		t.Errorf("%d parameters, want 4 (the value and two terms, and x)", p.Parameters())
	}
	m, _ := p.TransformAll(recs)
	for col := range 3 { // each column standardized on the training rows
		var s, ss float64
		for i := range m.Rows {
			v := m.Row(i)[col]
			s, ss = s+v, ss+v*v
		}
		if mean, sd := s/float64(m.Rows), math.Sqrt(ss/float64(m.Rows)-s*s/float64(m.Rows*m.Rows)); math.Abs(mean) > 1e-9 || math.Abs(sd-1) > 1e-9 {
			t.Errorf("output %s: mean %v, sd %v", p.Outputs[col], mean, sd)
		}
	}
	x := make([]float64, 4)
	p.Transform(mapRecord{"age": data.Float(51), "x": data.Float(2)}, x, nil)
	f := p.Features[0]
	if want := (splineTerm(51, f.Knots, 1) - f.SplineMean[1]) / f.SplineSD[1]; x[2] != want {
		t.Errorf("age'' of 51: %v, want %v", x[2], want)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalPipeline(js)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, 4)
	back.Transform(mapRecord{"age": data.Float(51), "x": data.Float(2)}, y, nil)
	if !slices.Equal(x, y) {
		t.Errorf("after JSON: %v, before %v", y, x)
	}
	tampered := strings.Replace(string(js), `"spline_sd":[`, `"spline_sd":[0,`, 1)
	if _, err := UnmarshalPipeline([]byte(tampered)); err == nil || !strings.Contains(err.Error(), "feature age") {
		t.Errorf("tampered spline: err = %v", err)
	}
	for _, tt := range []struct{ transforms, want string }{
		{"[{rcs: 2}]", "rcs with 2 knots (allowed: 3 to 7"},
		{"[{rcs: 4}, log1p]", "rcs must be the last transform but standardize"},
		{"[{rcs: four}]", "rcs takes a number of knots"},
	} {
		_, err := ParseSpec("s.yaml", []byte("target: {column: y, positive: true}\nfeatures:\n  - column: age\n    kind: numeric\n    transforms: "+tt.transforms+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.transforms, err, tt.want)
		}
	}
}
