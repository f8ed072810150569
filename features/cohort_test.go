package features_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/radiobiology"
)

func patientRecords(ps []data.Patient) []features.Record {
	rs := make([]features.Record, len(ps))
	for i := range ps {
		rs[i] = features.PatientRecord{P: &ps[i]}
	}
	return rs
}

func TestBuiltinSpecOnSyntheticCohort(t *testing.T) {
	ps := synth.Generate(3000, 21)
	recs := patientRecords(ps)
	p, err := features.Fit(features.BuiltinSpec("abscopal_response"), recs)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := p.TransformAll(recs)

	// JSON round trip: the same output, bit for bit.
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := features.UnmarshalPipeline(b)
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := back.TransformAll(recs)
	for i := range m.Data {
		if math.Float64bits(m.Data[i]) != math.Float64bits(m2.Data[i]) {
			t.Fatalf("output %d (%s) differs after a JSON round trip: %v vs %v", i%m.Cols, p.Outputs[i%m.Cols], m.Data[i], m2.Data[i])
		}
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Error("re-serializing a loaded pipeline changes it")
	}

	// The serving path (one record) gives the training path's row.
	dst := make([]float64, p.NumOutputs())
	for _, i := range []int{0, 17, 2999} {
		back.Transform(recs[i], dst, nil)
		for j := range dst {
			if dst[j] != m.Row(i)[j] {
				t.Fatalf("row %d, %s: single %v, batch %v", i, p.Outputs[j], dst[j], m.Row(i)[j])
			}
		}
	}

	// No NaN anywhere: patients without RT have defined dose features.
	for i, x := range m.Data {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("output %s of row %d is %v", p.Outputs[i%m.Cols], i/m.Cols, x)
		}
	}
}

func TestDerivedValuesOnPatients(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	n := func(x int) *int { return &x }
	s := func(x string) *string { return &x }
	bl := func(x bool) *bool { return &x }
	sbrt := data.Patient{RTDoseGy: f(24), RTFractions: n(3), RTSite: s("lung"), RTNodal: bl(false), ALC: f(0.9), ALCNadir: f(0.15), ANC: f(4.5),
		MeanLungDoseGy: f(15), MeanHeartDoseGy: f(10), MeanBodyDoseGy: f(5), MHC1Status: s("high"), HLALOH: bl(false), IFNPathwayDefect: bl(false)}
	none := data.Patient{RTDoseGy: f(0), ALC: f(1.2), MHC1Status: s("loss")}
	unplanned := data.Patient{RTDoseGy: f(60), RTFractions: n(30), RTSite: s("lung")}
	tests := []struct {
		p    *data.Patient
		name string
		want data.Value
	}{
		{&sbrt, "dose_per_fraction_gy", data.Float(8)},
		{&sbrt, "bed10_gy", data.Float(43.2)},
		{&sbrt, "eqd2_10_gy", data.Float(36)},
		{&sbrt, "hypofractionated", data.Bool(true)},
		{&sbrt, "ablative", data.Bool(false)},
		{&sbrt, "lymphopenia_grade_baseline", data.Float(1)},
		{&sbrt, "lymphopenia_grade_nadir", data.Float(4)},
		{&sbrt, "nlr", data.Float(5)},
		{&sbrt, "immune_evasion", data.Bool(false)},
		{&sbrt, "irradiated_site", data.String("lung")},
		{&sbrt, "lung_dose_gy", data.Float(15)},
		{&none, "lung_dose_gy", data.Float(0)},  // no RT: no lung dose
		{&unplanned, "lung_dose_gy", data.Null}, // RT of unknown plan
		{&unplanned, "edic_gy", data.Null},
		{&none, "bed10_gy", data.Float(0)},
		{&none, "hypofractionated", data.Bool(false)},
		{&none, "edic_gy", data.Float(0)},
		{&none, "irradiated_site", data.String("none")},
		{&none, "rt_sequence", data.String("none")},
		{&none, "nodal_rt", data.Bool(false)},
		{&none, "lymphopenia_grade_nadir", data.Float(0)}, // no RT: the baseline grade
		{&none, "immune_evasion", data.Bool(true)},        // MHC-I loss, others unknown
		{&none, "nlr", data.Null},                         // no ANC
	}
	for _, tt := range tests {
		got := derivedValue(t, tt.name, tt.p)
		if got.Valid != tt.want.Valid || got.Bool != tt.want.Bool || got.Str != tt.want.Str || math.Abs(got.Num-tt.want.Num) > 1e-9 {
			t.Errorf("%s: got %+v, want %+v", tt.name, got, tt.want)
		}
	}
	if got := derivedValue(t, "edic_gy", &sbrt); math.Abs(got.Num-radiobiology.EDIC(15, 10, 5, 3)) > 1e-12 {
		t.Errorf("edic_gy = %v", got)
	}
}

// derivedValue computes a built-in feature through the exported export path.
func derivedValue(t *testing.T, name string, p *data.Patient) data.Value {
	t.Helper()
	for _, d := range features.DerivedNames() {
		dd, _ := features.LookupDerived(d)
		if dd.OutputName(radiobiology.TumourAlphaBetaGy) == name {
			return dd.Value(features.PatientRecord{P: p}, radiobiology.TumourAlphaBetaGy)
		}
	}
	t.Fatalf("no derived feature named %s", name)
	return data.Null
}

func TestChowellSpecOnRealCohort(t *testing.T) {
	const path = "../../shared/data/ici_cohort_chowell2022_train.parquet"
	if _, err := os.Stat(path); err != nil {
		t.Skip("the real cohort is not here: ", err)
	}
	spec, err := features.LoadSpec("../examples/ici_chowell2022.spec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := data.ReadTable(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cols []data.ColumnInfo
	for _, c := range tbl.Columns {
		cols = append(cols, c.ColumnInfo)
	}
	if err := spec.Check(path, cols, true); err != nil {
		t.Fatal(err)
	}
	br := features.NewBatchRecords(tbl)
	recs := make([]features.Record, br.Len())
	pos := 0
	for i := range recs {
		recs[i] = br.Row(i)
		if y, ok := spec.Label(recs[i]); ok && y {
			pos++
		}
	}
	if len(recs) != 1184 || pos != 319 {
		t.Errorf("%d rows, %d responders; the data README says 1,184 and 319", len(recs), pos)
	}
	p, err := features.Fit(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Features) != 16 {
		t.Errorf("%d features, want the 16 of RF16", len(p.Features))
	}
	for _, f := range p.Features {
		if f.Name == "cancer_type" && len(f.Levels) != 16 {
			t.Errorf("cancer_type has %d levels, want 16", len(f.Levels))
		}
	}
}
