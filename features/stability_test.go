package features

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// TestStability fits a pipeline on 100 rows (x = 1..100, ten missing; a
// level a or b in halves) and checks the training profile and the PSI of
// files by hand: the training rows themselves give 0; a file of x = 5 only,
// every level a, and no row missing gives the sum worked out below.
func TestStability(t *testing.T) {
	spec := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "x", Kind: Numeric}, {Column: "site", Kind: Categorical}}}
	var train []Record
	for i := 1; i <= 110; i++ {
		x := data.Float(float64(i))
		if i > 100 {
			x = data.Null
		}
		site := "a"
		if i%2 == 0 {
			site = "b"
		}
		train = append(train, mapRecord{"x": x, "site": data.String(site)})
	}
	p, err := Fit(spec, train)
	if err != nil {
		t.Fatal(err)
	}
	x, site := p.Features[0], p.Features[1]

	if !reflect.DeepEqual(x.Bins, []float64{10, 20, 30, 40, 50, 60, 70, 80, 90}) || !reflect.DeepEqual(x.Shares, []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}) ||
		!reflect.DeepEqual(site.Shares, []float64{.5, .5}) {
		t.Fatalf("profile: x bins %v shares %v, site shares %v", x.Bins, x.Shares, site.Shares)
	}

	same := p.NewStability()
	for _, r := range train {
		same.Add(r)
	}
	for _, s := range same.Shifts() {
		if math.Abs(s.PSI) > 1e-12 {
			t.Errorf("the training rows against themselves: %+v", s)
		}
	}

	// The training rows counted in two parts and merged: the same counts.
	first, second := p.NewStability(), p.NewStability()
	for i, r := range train {
		if i < 37 {
			first.Add(r)
		} else {
			second.Add(r)
		}
	}
	first.Merge(second)
	if !reflect.DeepEqual(first, same) {
		t.Errorf("merged counts %+v, counted at once %+v", first, same)
	}
	second.Reset()
	if second.Shifts() != nil {
		t.Errorf("after Reset: %+v", second.Shifts())
	}

	moved := p.NewStability()
	for range 20 {
		moved.Add(mapRecord{"x": data.Float(5), "site": data.String("a")})
	}
	moved.Add(mapRecord{"x": data.Float(5), "site": data.String("c")}) // a level never seen
	shifts := moved.Shifts()
	// x: training shares 10/110 a bin and 10/110 missing; the file 21/21 in
	// the first bin, none missing (1e-4 stands in for an empty share).
	e, f := 10.0/110, 1e-4
	wantX := (1-e)*math.Log(1/e) + 9*(f-e)*math.Log(f/e) + (f-e)*math.Log(f/e)
	// site: training a, b in halves (none missing); the file 20/21 a, 1/21
	// unseen.
	a, u := 20.0/21, 1.0/21
	wantSite := (a-.5)*math.Log(a/.5) + (f-.5)*math.Log(f/.5) + (u-f)*math.Log(u/f)
	got := map[string]float64{}
	for _, s := range shifts {
		got[s.Feature] = s.PSI
	}
	if math.Abs(got["x"]-wantX) > 1e-12 || math.Abs(got["site"]-wantSite) > 1e-12 || shifts[0].Feature != "x" {
		t.Errorf("PSI %v, want x %v, site %v, largest first", shifts, wantX, wantSite)
	}

	// The bins Transform notes (Notes.Profile) count as the values do.
	viaNotes := p.NewStability()
	notes := Notes{Profile: true}
	dst := make([]float64, p.NumOutputs())
	for i := range 21 {
		r := mapRecord{"x": data.Float(5), "site": data.String("a")}
		if i == 20 {
			r["site"] = data.String("c")
		}
		notes.Reset()
		p.Transform(r, dst, &notes)
		viaNotes.AddBins(notes.Bins)
	}
	if !notes.Profile || !reflect.DeepEqual(viaNotes.Shifts(), shifts) {
		t.Errorf("via Transform's notes: %v, want %v", viaNotes.Shifts(), shifts)
	}
}

// TestProfileChecked: a bundle's profile that does not fit its feature
// (edited by hand: more levels than shares) is refused when the pipeline
// is decoded, not met as an index out of range while scoring.
func TestProfileChecked(t *testing.T) {
	spec := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "site", Kind: Categorical}}}
	p, err := Fit(spec, []Record{mapRecord{"site": data.String("a")}, mapRecord{"site": data.String("b")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalPipeline(b); err != nil {
		t.Fatalf("the pipeline as fitted: %v", err)
	}
	p.Features[0].Shares = p.Features[0].Shares[:1]
	b, _ = json.Marshal(p)
	if _, err := UnmarshalPipeline(b); err == nil || !strings.Contains(err.Error(), "feature site: profile of 1 shares and 0 bins, want 2 shares") {
		t.Errorf("a profile short of a level: %v", err)
	}
}

// TestSummarize: quartiles of 1..100 are 25, 50 and 75 (the empirical CDF
// reaches each exactly: nothing to interpolate), the range 1-100, ten rows
// missing; levels counted, commonest first, ties by name.
func TestSummarize(t *testing.T) {
	spec := &Spec{Target: Target{Column: "y", Positive: true}, Features: []FeatureSpec{{Column: "x", Kind: Numeric, Transforms: []Transform{{Op: OpLog1p}}},
		{Column: "site", Kind: Categorical}, {Column: "flag", Kind: Boolean}}}
	var rows []Record
	for i := 1; i <= 110; i++ {
		x := data.Float(float64(i))
		if i > 100 {
			x = data.Null
		}
		site := []string{"b", "a", "c", "a"}[i%4]
		rows = append(rows, mapRecord{"x": x, "site": data.String(site), "flag": data.Bool(i <= 11)})
	}
	p, err := Fit(spec, rows)
	if err != nil {
		t.Fatal(err)
	}
	got := p.Summarize(rows)
	want := []Summary{
		{Feature: "x", Kind: Numeric, Rows: 110, Missing: 10, Quartiles: []float64{25, 50, 75}, Min: 1, Max: 100},
		{Feature: "site", Kind: Categorical, Rows: 110, Levels: []LevelCount{{"a", 55}, {"c", 28}, {"b", 27}}},
		{Feature: "flag", Kind: Boolean, Rows: 110, Levels: []LevelCount{{"false", 99}, {"true", 11}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("summaries\n%+v\nwant\n%+v", got, want)
	}
	if p.Summarize(nil) != nil {
		t.Error("a summary of no rows")
	}
}
