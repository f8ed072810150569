package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// fuzzBody posts body to path on srv's handler and fails on what a client
// must never see whatever it sends: a 500, a body that is not the error
// envelope or a JSON answer, or Go's own names for types.
func fuzzBody(t *testing.T, srv *Server, path, body string, envelope func(map[string]any) bool) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %q: %d, not JSON: %q", path, body, rec.Code, rec.Body.String())
	}
	switch {
	case rec.Code >= 500:
		t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body.String())
	case rec.Code != http.StatusOK && !envelope(out):
		t.Fatalf("%s %q: %d without the error envelope: %s", path, body, rec.Code, rec.Body.String())
	case strings.Contains(rec.Body.String(), "Go ") || strings.Contains(rec.Body.String(), "struct") || strings.Contains(rec.Body.String(), "api."):
		t.Fatalf("%s %q: internals in %s", path, body, rec.Body.String())
	}
}

func v1Envelope(out map[string]any) bool {
	e, ok := out["error"].(map[string]any)
	return ok && e["code"] != nil && e["message"] != nil
}

func v2Envelope(out map[string]any) bool {
	_, ok := out["error"].(string)
	return ok
}

// FuzzPredict: /v1/predict and /v1/regimens/compare answer any body with a
// result or a 4xx in the error envelope. The seeds run with go test; go
// test ./api -run XXX -fuzz FuzzPredict searches further.
func FuzzPredict(f *testing.F) {
	for _, s := range []string{
		`{"patient_id": "a", "ici_class": "pd1", "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`,
		`{"patients": [{"ici_class": "pd1"}, {"ici_class": "ctla4", "alc": 0.4}]}`,
		`{"ici_class": "pd1", "alc": "1.2"}`, `{"ici_class": "pd1", "rt_fractions": 3.5}`, `[1]`, `{"patients": {}}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 24, "fractions": 3}]}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": "24"}], "rank_by": 3}`, `{"ici_class": null}`, ``, `{`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 60, "fractions": 30, "mean_lung_dose_gy": 16, "mean_heart_dose_gy": 10, "mean_body_dose_gy": 6.6}]}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 0, "fractions": 0, "mean_lung_dose_gy": -1}]}`,
	} {
		f.Add(s)
	}
	srv := newServer(f, Config{MaxBatch: 5})
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, srv, "/v1/predict", body, v1Envelope)
		fuzzBody(t, srv, "/v1/regimens/compare", body, v1Envelope)
	})
}

// FuzzInfer: the Open Inference Protocol endpoint answers any body with a
// result or a 4xx {"error": "..."}.
func FuzzInfer(f *testing.F) {
	for _, s := range []string{
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`,
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [2, 1], "data": [["pd1"], [null]]}]}`,
		`{"inputs": [{"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [1e30]}, {"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`,
		`{"id": 3, "inputs": []}`, `{"inputs": [{"name": "ici_class", "shape": [-1], "data": [[[]]]}]}`,
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}], "outputs": [{"name": 1}]}`,
	} {
		f.Add(s)
	}
	srv := newServer(f, Config{MaxBatch: 5})
	f.Fuzz(func(t *testing.T, body string) {
		fuzzBody(t, srv, "/v2/models/abscopal/infer", body, v2Envelope)
	})
}
