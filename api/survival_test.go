package api

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// survivalRegistry holds the two responses' models and a Cox model of
// overall survival.
func survivalRegistry(t *testing.T) (string, *models.Model) {
	t.Helper()
	reg := &models.Registry{Dir: filepath.Join(t.TempDir(), "registry")}
	for name, files := range map[string]map[string][]byte{
		"abscopal": modeltest.Files(t, "abscopal", features.BuiltinSpec(data.AbscopalResponse), 600, 1),
		"response": modeltest.Files(t, "response", features.BuiltinSpec(data.ObjectiveResponse), 600, 2),
		"os":       modeltest.SurvivalFilesWith(t, "os", "os", 600, train.SurvivalOptions{Folds: 3, Seed: 3, Bootstrap: 20, Instability: 10, Intervals: true}),
	} {
		if _, err := reg.Publish(name, files); err != nil {
			t.Fatal(err)
		}
	}
	m, err := reg.Load("os")
	if err != nil {
		t.Fatal(err)
	}
	return reg.Dir, m
}

// TestSurvivalOnV1AndV2: a served Cox model of overall survival answers
// /v1/predict (median, survival at 6, 12 and 24 months, the curve when
// asked) exactly as the model does, ranks regimens by median OS, and
// answers Open Inference v2 with named outputs; every exchange conforms to
// the OpenAPI document.
func TestSurvivalOnV1AndV2(t *testing.T) {
	dir, m := survivalRegistry(t)
	c := newClient(t, newServer(t, Config{Registry: dir}))
	var p data.Patient
	if err := json.Unmarshal([]byte(sbrtPatient), &p); err != nil {
		t.Fatal(err)
	}
	want := m.PredictSurvival(features.PatientRecord{P: &p}, []float64{6, 12, 24}, new(models.Scratch))

	status, body := c.do("POST", "/v1/predict?curve=true", sbrtPatient, true)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	osp := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["overall_survival"].(map[string]any)
	if want.HasMedian && osp["median_months"] != want.Median {
		t.Errorf("median %v, the model's %v", osp["median_months"], want.Median)
	}
	for k, s := range osp["survival"].([]any) {
		at := s.(map[string]any)
		if at["months"] != []float64{6, 12, 24}[k] || at["probability"] != want.Survival[k] {
			t.Errorf("survival %v, the model's %v at %v", at, want.Survival[k], []float64{6, 12, 24}[k])
		}
	}
	curve := osp["curve"].([]any)
	if len(curve) != 48 {
		t.Errorf("curve of %d months, want 48", len(curve))
	}
	for i := 1; i < len(curve); i++ {
		if curve[i].(map[string]any)["probability"].(float64) > curve[i-1].(map[string]any)["probability"].(float64) {
			t.Errorf("the curve rises at month %d", i+1)
		}
	}
	if osp["model"] != "os" || osp["trained_on_synthetic_data"] != true || len(osp["contributions"].([]any)) == 0 {
		t.Errorf("overall_survival: %v", osp)
	}
	// Without ?curve, no curve; without ?intervals, no interval.
	_, body = c.do("POST", "/v1/predict", sbrtPatient, true)
	if _, has := prediction(t, body, 0, "overall_survival")["curve"]; has {
		t.Error("a curve without ?curve=true")
	}
	if _, has := prediction(t, body, 0, "overall_survival")["median_interval_95"]; has {
		t.Error("an interval without ?intervals=true")
	}
	// With ?intervals=true, the central 95% of the 10 bootstrap models'
	// medians: the order statistics of theirs, computed here from each.
	_, body = c.do("POST", "/v1/predict?intervals=true", sbrtPatient, true)
	medians := make([]float64, len(m.Bootstrap))
	for i, b := range m.Bootstrap {
		x := make([]float64, b.Pipeline.NumOutputs())
		b.Pipeline.Transform(features.PatientRecord{P: &p}, x, new(features.Notes))
		t, ok := b.Survival.Median(x)
		if !ok {
			t = math.Inf(1)
		}
		medians[i] = t
	}
	lo, hi := stats.Central95(medians)
	iv, _ := prediction(t, body, 0, "overall_survival")["median_interval_95"].([]any)
	if len(m.Bootstrap) != 10 || len(iv) != 2 || iv[0] != lo || (math.IsInf(hi, 1) && iv[1] != nil) || (!math.IsInf(hi, 1) && iv[1] != hi) {
		t.Errorf("median_interval_95 %v, the bootstrap models' central 95%% %v-%v of %v", iv, lo, hi, medians)
	}

	// Regimens ranked by the median OS, longest first.
	status, body = c.do("POST", "/v1/regimens/compare", fmt.Sprintf(`{"patient": %s, "rank_by": "os"}`, sbrtPatient), true)
	if status != 200 {
		t.Fatalf("compare: %d %v", status, body)
	}
	prev := 1e9
	for _, r := range body["regimens"].([]any) {
		med, ok := r.(map[string]any)["predictions"].(map[string]any)["overall_survival"].(map[string]any)["median_months"].(float64)
		if ok && med > prev {
			t.Errorf("median %v ranked after %v", med, prev)
		}
		if ok {
			prev = med
		}
	}
	if status, body := c.do("POST", "/v1/regimens/compare", fmt.Sprintf(`{"patient": %s, "rank_by": "pfs"}`, sbrtPatient), true); status != 422 ||
		!strings.Contains(fmt.Sprint(body), "no time-to-event model of it is served") {
		t.Errorf("rank_by pfs without a PFS model: %d %v", status, body)
	}

	// Open Inference v2: named outputs, the same numbers.
	status, body = c.do("GET", "/v2/models/os", "", true)
	if status != 200 || !strings.Contains(fmt.Sprint(body["outputs"]), "median_months") || !strings.Contains(fmt.Sprint(body["outputs"]), "survival_12") {
		t.Errorf("v2 metadata: %d %v", status, body)
	}
	infer := `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "pdl1_tps", "datatype": "FP64", "shape": [1], "data": [5]},
		{"name": "mhc1_status", "datatype": "BYTES", "shape": [1], "data": ["high"]}, {"name": "alc", "datatype": "FP64", "shape": [1], "data": [1.6]},
		{"name": "rt_dose_gy", "datatype": "FP64", "shape": [1], "data": [24]}, {"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [3]},
		{"name": "rt_site", "datatype": "BYTES", "shape": [1], "data": ["lung"]}, {"name": "rt_ici_sequence", "datatype": "BYTES", "shape": [1], "data": ["concurrent"]}]}`
	status, body = c.do("POST", "/v2/models/os/infer", infer, true)
	if status != 200 {
		t.Fatalf("v2 infer: %d %v", status, body)
	}
	got := map[string]any{}
	for _, o := range body["outputs"].([]any) {
		om := o.(map[string]any)
		got[om["name"].(string)] = om["data"].([]any)[0]
	}
	if got["survival_12"] != want.Survival[1] || (want.HasMedian && got["median_months"] != want.Median) {
		t.Errorf("v2 outputs %v, the model's S(12) %v and median %v", got, want.Survival[1], want.Median)
	}
	if status, _ := c.do("POST", "/v2/models/os/infer", strings.Replace(infer, `"inputs"`, `"outputs": [{"name": "probability"}], "inputs"`, 1), false); status != 400 {
		t.Errorf("v2: a probability asked of a time-to-event model: %d", status)
	}

	// Listed, answering the os target.
	_, body = c.do("GET", "/v1/models", "", true)
	if v1 := body["v1"].(map[string]any); v1["os"] == nil {
		t.Errorf("/v1/models: no model answers os: %v", v1)
	}
	os2 := filepath.Join(dir, "os")
	if _, err := os.Stat(filepath.Join(os2, "v1", "calibration_survival.svg")); err != nil {
		t.Error(err)
	}
}
