package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/internal/testkit/s3test"
	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
)

// publish trains a small logistic model for target on synthetic patients and
// publishes it as name.
func publish(t testing.TB, reg *models.Registry, name, target string, seed uint64) string {
	t.Helper()
	return publishSpec(t, reg, name, features.BuiltinSpec(target), seed)
}

// publishSpec is publish with a feature spec of one's own.
func publishSpec(t testing.TB, reg *models.Registry, name string, spec *features.Spec, seed uint64) string {
	t.Helper()
	files := modeltest.Files(t, name, spec, 1200, seed)
	v, err := reg.Publish(name, files)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The shared registry is built once per test binary (training is the slow
// part) and removed by TestMain.
var (
	regOnce sync.Once
	regRoot string
)

// The S3-compatible server of the object-store tests, started by TestMain
// when its binary is found (s3test).
var (
	s3server *s3test.Server
	s3err    error
)

func TestMain(m *testing.M) {
	code := s3test.Main(m, &s3server, &s3err)
	if regRoot != "" {
		os.RemoveAll(regRoot)
	}
	os.Exit(code)
}

func sharedRegistry(t testing.TB) string {
	regOnce.Do(func() {
		var err error
		if regRoot, err = os.MkdirTemp("", "abscopal-api-test-"); err != nil {
			t.Fatal(err)
		}
		reg := &models.Registry{Dir: filepath.Join(regRoot, "registry")}
		publish(t, reg, "abscopal", "abscopal_response", 1)
		publish(t, reg, "response", "objective_response", 2)
	})
	return filepath.Join(regRoot, "registry")
}

// client calls a server and checks every exchange against the OpenAPI document.
type client struct {
	t      *testing.T
	base   string
	router routers.Router
	token  string
}

func newClient(t *testing.T, srv *Server) *client {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: hs.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: hs.URL, router: router}
}

// do sends a request; validRequest says whether the request itself must
// conform (tests of bad input send requests that do not). The response
// must always conform.
func (c *client) do(method, path, body string, validRequest bool) (int, map[string]any) {
	c.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return c.send(method, path, ct, []byte(body), validRequest)
}

// send is do with a body of any type (ct: its Content-Type, "" for none).
func (c *client) send(method, path, ct string, body []byte, validRequest bool) (int, map[string]any) {
	c.t.Helper()
	var rdr io.Reader
	if len(body) > 0 {
		rdr = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rdr)
	if err != nil {
		c.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)

	vreq, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	vreq.Header = req.Header.Clone()
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		c.t.Fatalf("%s %s is not in the OpenAPI document: %v", method, path, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}}
	if validRequest {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			c.t.Errorf("%s %s: the request does not conform to the OpenAPI document: %v", method, path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: in.Options}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		c.t.Errorf("%s %s -> %d: the response does not conform to the OpenAPI document: %v\n%s", method, path, resp.StatusCode, err, respBody)
	}
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(respBody, &m); err != nil {
			c.t.Fatalf("%s %s: %v in %s", method, path, err, respBody)
		}
	}
	return resp.StatusCode, m
}

func newServerB(t testing.TB) *Server { return newServer(t, Config{}) }

func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.Registry == "" {
		cfg.Registry = sharedRegistry(t)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg.WatchInterval = -1
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const sbrtPatient = `{"patient_id": "p1", "ici_class": "pd1", "pdl1_tps": 5, "mhc1_status": "high", "alc": 1.6, "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung", "rt_ici_sequence": "concurrent"}`

func prediction(t *testing.T, body map[string]any, i int, target string) map[string]any {
	t.Helper()
	preds := body["predictions"].([]any)
	return preds[i].(map[string]any)["predictions"].(map[string]any)[target].(map[string]any)
}

func TestPredict(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))

	status, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	if status != 200 {
		t.Fatalf("status %d: %v", status, body)
	}
	a, o := prediction(t, body, 0, "abscopal_response"), prediction(t, body, 0, "objective_response")
	pa, _ := a["probability"].(float64)
	if !(pa > 0 && pa < 1) || a["model"] != "abscopal" || a["version"] != "v1" || o["model"] != "response" {
		t.Errorf("predictions %v / %v", a, o)
	}
	// The models learned from synthetic patients, and each answer says so.
	if a["trained_on_synthetic_data"] != true || o["trained_on_synthetic_data"] != true {
		t.Errorf("an answer of a model trained on synthetic data does not say so: %v / %v", a, o)
	}
	// The answer is the model's: the same as scoring the patient directly.
	m, err := (&models.Registry{Dir: sharedRegistry(t)}).Load("abscopal")
	if err != nil {
		t.Fatal(err)
	}
	var p data.Patient
	json.Unmarshal([]byte(sbrtPatient), &p)
	if want := m.Predict(features.PatientRecord{P: &p}).Probability; pa != want {
		t.Errorf("API probability %v, model %v", pa, want)
	}
	if len(a["contributions"].([]any)) != 5 || !contains(a["imputed"], "tmb") {
		t.Errorf("contributions %v, imputed %v", a["contributions"], a["imputed"])
	}

	// A batch, with a patient without RT: no abscopal number, and why.
	status, body = c.do("POST", "/v1/predict", `{"patients": [`+sbrtPatient+`, {"ici_class": "pdl1", "rt_dose_gy": 0, "alc": 30}]}`, true)
	if status != 200 || len(body["predictions"].([]any)) != 2 {
		t.Fatalf("batch: %d %v", status, body)
	}
	noRT := prediction(t, body, 1, "abscopal_response")
	if noRT["probability"] != nil || !strings.Contains(noRT["reason"].(string), "radiotherapy") {
		t.Errorf("no RT: %v", noRT)
	}
	if w := prediction(t, body, 1, "objective_response")["warnings"]; w == nil || !strings.Contains(w.([]any)[0].(string), "alc = 30 is outside the training range") {
		t.Errorf("warnings %v", w)
	}
	if body["predictions"].([]any)[1].(map[string]any)["patient_id"] != "patient-2" {
		t.Errorf("a missing patient_id is not numbered: %v", body["predictions"])
	}
}

func contains(list any, s string) bool {
	l, _ := list.([]any)
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestPredictErrors(t *testing.T) {
	c := newClient(t, newServer(t, Config{MaxBodyBytes: 4096, MaxBatch: 3}))
	big := `{"patient_id": "` + strings.Repeat("x", 5000) + `", "ici_class": "pd1"}`
	tests := []struct {
		name, body string
		status     int
		code       string
		field      string
		msg        string
	}{
		{"malformed", `{"ici_class": `, 400, codeMalformed, "", "truncated"},
		{"not an object", `[1, 2]`, 400, codeMalformed, "", ""},
		{"typo", `{"ici_class": "pd1", "alc_baseline": 1.2}`, 422, codeUnknownField, "alc_baseline", "unknown field alc_baseline"},
		{"outcome as input", `{"ici_class": "pd1", "objective_response": true}`, 422, codeUnknownField, "objective_response", "an outcome"},
		{"out of range", `{"ici_class": "pd1", "alc": 500}`, 422, codeInvalid, "alc", "[0, 50] 10^9/L"},
		{"wrong type", `{"ici_class": "pd1", "alc": "high"}`, 422, codeInvalid, "alc", "alc must be a number ([0, 50] 10^9/L), got a JSON string"},
		{"fraction of a fraction", `{"ici_class": "pd1", "rt_fractions": 3.5}`, 422, codeInvalid, "rt_fractions", "rt_fractions must be a whole number ([0, 60] fractions), got a JSON number 3.5"},
		{"bool as string", `{"ici_class": "pd1", "rt_nodal": "yes"}`, 422, codeInvalid, "rt_nodal", "rt_nodal must be true or false"},
		{"level as number", `{"ici_class": 1}`, 422, codeInvalid, "ici_class", "ici_class must be a string (one of pd1"},
		{"missing required", `{"alc": 1}`, 422, codeInvalid, "ici_class", "null in required field"},
		{"RT without fractions", `{"ici_class": "pd1", "rt_dose_gy": 24, "rt_site": "lung"}`, 422, codeInvalid, "rt_fractions", "required when rt_dose_gy > 0"},
		{"in a batch", `{"patients": [{"ici_class": "pd1"}, {"ici_class": "pd1", "pdl1_tps": 101}]}`, 422, codeInvalid, "patients[1].pdl1_tps", "[0, 100] %"},
		{"batch too large", `{"patients": [{"ici_class": "pd1"}, {"ici_class": "pd1"}, {"ici_class": "pd1"}, {"ici_class": "pd1"}]}`, 422, codeInvalid, "patients", "1 to 3 patients"},
		{"body too large", big, 413, codeTooLarge, "", "4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.do("POST", "/v1/predict", tt.body, false)
			e, _ := body["error"].(map[string]any)
			if status != tt.status || e["code"] != tt.code || (tt.field != "" && e["field"] != tt.field) || !strings.Contains(e["message"].(string), tt.msg) {
				t.Errorf("got %d %v; want %d %s field %q message with %q", status, e, tt.status, tt.code, tt.field, tt.msg)
			}
		})
	}
}

func TestRegimens(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	status, body := c.do("POST", "/v1/regimens/compare", `{"patient": {"patient_id": "r", "ici_class": "pd1", "pdl1_tps": 0}, "rank_by": "abscopal_response"}`, true)
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	rs := body["regimens"].([]any)
	if len(rs) != len(DefaultRegimens) {
		t.Fatalf("%d regimens, want the %d defaults", len(rs), len(DefaultRegimens))
	}
	last := -1.0
	labels := map[string]float64{}
	for i, r := range rs {
		rm := r.(map[string]any)
		reg := rm["regimen"].(map[string]any)
		labels[reg["label"].(string)] = rm["bed10_gy"].(float64)
		p := rm["predictions"].(map[string]any)["abscopal_response"].(map[string]any)["probability"]
		if int(rm["rank"].(float64)) != i+1 {
			t.Errorf("rank %v at position %d", rm["rank"], i+1)
		}
		if p == nil {
			if reg["label"] != "ICI alone" || i != len(rs)-1 {
				t.Errorf("%v has no abscopal probability and is not last", reg["label"])
			}
			continue
		}
		if last >= 0 && p.(float64) > last {
			t.Errorf("not ranked: %v after %v", p, last)
		}
		last = p.(float64)
	}
	if labels["8 Gy x 3"] != 43.2 || labels["12.5 Gy x 4"] != 112.5 || labels["45 Gy / 15"] != 58.5 {
		t.Errorf("BED10 by regimen %v", labels)
	}

	status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 40, "fractions": 1}]}`, true)
	if e := body["error"].(map[string]any); status != 422 || e["field"] != "regimens[0].dose_gy" || !strings.Contains(e["message"].(string), "exceeds 35 Gy") {
		t.Errorf("40 Gy x 1: %d %v", status, body)
	}
	for _, tt := range []struct{ regimens, field, msg string }{
		{`[{"dose_gy": "24", "fractions": 3}]`, "regimens[0].dose_gy", `regimens[0].dose_gy must be a number (Gy), got a JSON string`},
		{`[{"dose_gy": 24, "fractions": 3}, {"dose_gy": 24, "fractions": 3.5}]`, "regimens[1].fractions", "regimens[1].fractions must be a whole number, got a JSON number 3.5"},
		{`[{"dose_gy": 24, "fractions": 3, "nodal": "no"}]`, "regimens[0].nodal", "must be true or false"},
		{`{"dose_gy": 24}`, "regimens", "regimens must be a JSON array of regimens"},
		{`[24]`, "regimens[0]", "regimens[0] must be a JSON object"},
		{`[{"dose_gy": 60, "fractions": 30, "mean_lung_dose_gy": "16"}]`, "regimens[0].mean_lung_dose_gy", "regimens[0].mean_lung_dose_gy must be a number (Gy), got a JSON string"},
		{`[{"dose_gy": 60, "fractions": 30, "mean_heart_dose_gy": 120}]`, "regimens[0].mean_heart_dose_gy", "field mean_heart_dose_gy: out of range: 120 (allowed: [0, 100] Gy)"},
		{`[{"dose_gy": 0, "fractions": 0, "mean_body_dose_gy": 0, "mean_lung_dose_gy": 3}]`, "regimens[0].mean_lung_dose_gy", "mean_lung_dose_gy: a plan's mean organ dose needs radiotherapy, and dose_gy is 0"},
	} {
		status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"ici_class": "pd1"}, "regimens": `+tt.regimens+`}`, false)
		if e := body["error"].(map[string]any); status != 422 || e["field"] != tt.field || e["message"] != tt.msg && !strings.Contains(e["message"].(string), tt.msg) || strings.Contains(e["message"].(string), "Go ") {
			t.Errorf("regimens %s: %d %v; want %s: %q", tt.regimens, status, body, tt.field, tt.msg)
		}
	}
	status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 24, "fractions": 3}, {"dose_gy": -24, "fractions": 3}]}`, false)
	if e := body["error"].(map[string]any); status != 422 || e["field"] != "regimens[1].dose_gy" || !strings.HasPrefix(e["message"].(string), "field dose_gy: out of range: -24 (allowed: [0, 150] Gy)") {
		t.Errorf("negative dose: %d %v", status, body)
	}
	status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"ici_class": "pd1"}, "regimens": [{"dose": 40}]}`, false)
	if status != 422 || !strings.Contains(body["error"].(map[string]any)["message"].(string), `unknown field dose`) {
		t.Errorf("unknown regimen field: %d %v", status, body)
	}
}

func TestModelsSchemaHealth(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	status, body := c.do("GET", "/v1/models", "", true)
	ms := body["models"].([]any)
	if status != 200 || len(ms) != 2 || ms[0].(map[string]any)["trained_on_synthetic_data"] != true {
		t.Errorf("models: %d %v", status, body)
	}
	status, body = c.do("GET", "/v1/models/abscopal", "", true)
	if status != 200 || !strings.Contains(body["card"].(string), "not for clinical use") {
		t.Errorf("model: %d", status)
	}
	if status, _ = c.do("GET", "/v1/models/nope", "", true); status != 404 {
		t.Errorf("unknown model: %d", status)
	}
	// The card and its plots, for a client to render the card with its images.
	for _, tt := range []struct {
		file, ctype string
		status      int
	}{{"card.md", "text/markdown; charset=utf-8", 200}, {"card.html", "text/html; charset=utf-8", 200}, {"calibration.svg", "image/svg+xml", 200}, {"decision_curve.svg", "image/svg+xml", 200},
		{"bundle.json", "application/json; charset=utf-8", 404}, {"MANIFEST", "application/json; charset=utf-8", 404}} {
		resp, err := http.Get(c.base + "/v1/models/abscopal/files/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.ctype ||
			strings.HasSuffix(tt.file, ".svg") && (!bytes.Contains(b, []byte("<svg")) || resp.Header.Get("Content-Security-Policy") == "") {
			t.Errorf("%s: %d %s", tt.file, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if tt.file == "card.md" && !strings.Contains(string(b), "![calibration curve](calibration.svg)") {
			t.Errorf("card.md: %.200s", b)
		}
		// One page, its plots inlined; nothing else may load or run.
		if tt.file == "card.html" && (!bytes.Contains(b, []byte(`<img src="data:image/svg+xml;base64,`)) || bytes.Contains(b, []byte(`src="calibration.svg"`)) ||
			resp.Header.Get("Content-Security-Policy") != "default-src 'none'; img-src data:; style-src 'unsafe-inline'") {
			t.Errorf("card.html: %s %.200s", resp.Header.Get("Content-Security-Policy"), b)
		}
	}
	status, body = c.do("GET", "/v1/schema", "", true)
	if fs := body["fields"].([]any); status != 200 || len(fs) != 26 {
		t.Errorf("schema: %d, %d fields", status, len(fs))
	}
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json", "/metrics"} {
		if status, _ := c.do("GET", p, "", true); status != 200 {
			t.Errorf("%s: %d", p, status)
		}
	}
}

func TestOpenInferenceProtocol(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	for _, p := range []string{"/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/abscopal", "/v2/models/abscopal/ready",
		"/v2/models/abscopal/versions/v1", "/v2/models/abscopal/versions/v1/ready"} {
		if status, body := c.do("GET", p, "", true); status != 200 {
			t.Errorf("%s: %d %v", p, status, body)
		}
	}
	infer := `{"id": "req-7", "inputs": [
		{"name": "ici_class", "datatype": "BYTES", "shape": [3], "data": ["pd1", "pdl1", "ctla4"]},
		{"name": "rt_dose_gy", "datatype": "FP64", "shape": [3], "data": [24, 50, 0]},
		{"name": "rt_fractions", "datatype": "INT64", "shape": [3], "data": [3, 4, null]},
		{"name": "rt_site", "datatype": "BYTES", "shape": [3], "data": ["lung", "liver", null]},
		{"name": "alc", "datatype": "FP64", "shape": [3], "data": [1.2, null, 0.8]}]}`
	status, body := c.do("POST", "/v2/models/abscopal/infer", infer, true)
	if status != 200 || body["id"] != "req-7" || body["model_version"] != "v1" {
		t.Fatalf("infer: %d %v", status, body)
	}
	if p, _ := body["parameters"].(map[string]any); p["trained_on_synthetic_data"] != true {
		t.Errorf("an answer of a model trained on synthetic data does not say so: parameters %v", body["parameters"])
	}
	out := body["outputs"].([]any)[0].(map[string]any)
	d := out["data"].([]any)
	if len(d) != 3 || d[2] != nil || d[0].(float64) <= 0 || d[0].(float64) >= 1 {
		t.Errorf("outputs %v", out)
	}
	// Row 3 had no RT: its null is explained, by row.
	params, _ := out["parameters"].(map[string]any)
	if rows, _ := params["null_rows"].([]any); len(rows) != 1 || rows[0] != 3.0 || !strings.Contains(fmt.Sprint(params["null_reason"]), "needs radiotherapy") {
		t.Errorf("parameters %v", params)
	}
	// The v1 API gives the same number for the same patient.
	_, v1 := c.do("POST", "/v1/predict", `{"ici_class": "pd1", "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung", "alc": 1.2}`, true)
	if prediction(t, v1, 0, "abscopal_response")["probability"] != d[0] {
		t.Errorf("v2 %v, v1 %v", d[0], prediction(t, v1, 0, "abscopal_response")["probability"])
	}
	// A [rows, 1] column with one array per row, as some clients send it,
	// and the one output asked for by name: the same answer.
	nested := `{"inputs": [
		{"name": "ici_class", "datatype": "BYTES", "shape": [3, 1], "data": [["pd1"], ["pdl1"], ["ctla4"]]},
		{"name": "rt_dose_gy", "datatype": "FP64", "shape": [3, 1], "data": [[24], [50], [0]]},
		{"name": "rt_fractions", "datatype": "INT64", "shape": [3, 1], "data": [[3], [4], [null]]},
		{"name": "rt_site", "datatype": "BYTES", "shape": [3], "data": ["lung", "liver", null]},
		{"name": "alc", "datatype": "FP64", "shape": [3, 1], "data": [[1.2], [null], [0.8]]}], "outputs": [{"name": "probability"}]}`
	status, body = c.do("POST", "/v2/models/abscopal/infer", nested, true)
	if got := body["outputs"].([]any)[0].(map[string]any)["data"]; status != 200 || fmt.Sprint(got) != fmt.Sprint(d) {
		t.Errorf("nested columns: %d %v, want %v", status, body, d)
	}
	for _, tt := range []struct {
		path, body string
		status     int
		msg        string
	}{
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "alc_baseline", "datatype": "FP64", "shape": [1], "data": [1]}]}`, 400, `unknown input "alc_baseline"`},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "alc", "datatype": "FP64", "shape": [2], "data": [1, 2]}]}`, 400, "has 2 values, others 1"},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "alc", "datatype": "FP64", "shape": [1], "data": [500]}]}`, 400, "row 1: field alc: out of range"},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["ctla4"]}]}`, 400, "input ici_class given twice"},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}], "outputs": [{"name": "class"}]}`, 400, `unknown output "class": the model's one output is probability`},
		{"/v2/models/abscopal/infer", `{"id": 7, "inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`, 400, "not an inference request: id must be a JSON string, got a JSON number"},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1, 2], "data": ["pd1", "pd1"]}]}`, 400, "shape [1 2]; a column is [rows] or [rows, 1]"},
		{"/v2/models/abscopal/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1, 1], "data": [[["pd1"]]]}]}`, 400, "data must be a flat list of values, or one list of one value per row"},
		{"/v2/models/nope/infer", `{"inputs": []}`, 404, "model nope not found"},
		{"/v2/models/abscopal/versions/v9/infer", `{"inputs": []}`, 404, "version v9 is not served"},
	} {
		status, body := c.do("POST", tt.path, tt.body, false)
		if msg, _ := body["error"].(string); status != tt.status || !strings.Contains(msg, tt.msg) {
			t.Errorf("%s %s: %d %v; want %d and %q", tt.path, tt.body, status, body, tt.status, tt.msg)
		}
	}
}

func TestAuthAndInternals(t *testing.T) {
	s := newServer(t, Config{Tokens: []Token{{Secret: "s3cret-token"}, {Client: "ehr", Secret: "other"}}})
	s.engine.GET("/v1/boom", func(*gin.Context) { panic("database password is hunter2") })
	c := newClient(t, s)
	if status, body := c.do("GET", "/v1/models", "", true); status != 401 || body["error"].(map[string]any)["code"] != codeUnauthorized {
		t.Errorf("no token: %d %v", status, body)
	}
	c.token = "wrong"
	if status, _ := c.do("GET", "/v2/models/abscopal", "", true); status != 401 {
		t.Errorf("wrong token on /v2: %d", status)
	}
	c.token = "other"
	if status, _ := c.do("GET", "/v1/models", "", true); status != 200 {
		t.Errorf("good token: %d", status)
	}
	c.token = ""
	if status, _ := c.do("GET", "/healthz", "", true); status != 200 {
		t.Errorf("health needs no token: %d", status)
	}
	// A panic is a 500 that says nothing of the internals.
	req, _ := http.NewRequest("GET", c.base+"/v1/boom", nil)
	req.Header.Set("Authorization", "Bearer s3cret-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || strings.Contains(string(b), "hunter2") || !strings.Contains(string(b), resp.Header.Get("X-Request-ID")) {
		t.Errorf("panic: %d %s", resp.StatusCode, b)
	}
	if _, err := New(Config{Registry: sharedRegistry(t), Tokens: []Token{{}}}); err == nil {
		t.Error("an empty token was accepted")
	}
}

// TestSetTokens: tokens are replaced under a running server (a token
// revoked, another added), and an empty list is refused once tokens are
// required, leaving the current ones.
func TestSetTokens(t *testing.T) {
	s := newServer(t, Config{Tokens: []Token{{Secret: "old"}}})
	c := newClient(t, s)
	status := func(token string) int {
		c.token = token
		st, _ := c.do("GET", "/v1/models", "", true)
		return st
	}
	if status("old") != 200 || status("new") != 401 {
		t.Fatal("before: old should pass, new not")
	}
	if err := s.SetTokens([]Token{{Secret: "new"}}); err != nil {
		t.Fatal(err)
	}
	if status("old") != 401 || status("new") != 200 {
		t.Error("after SetTokens: old should be refused, new pass")
	}
	// A token given by its digest: the token passes, the digest itself
	// (what a reader of the tokens file would have) does not.
	digest := sha256.Sum256([]byte("hashed-token"))
	if err := s.SetTokens([]Token{{Secret: "new"}, {Client: "ehr", SHA256: &digest}}); err != nil {
		t.Fatal(err)
	}
	if status("hashed-token") != 200 || status("new") != 200 || status(hex.EncodeToString(digest[:])) != 401 {
		t.Error("a token given by its digest: the token should pass, the digest not")
	}
	newDigest := sha256.Sum256([]byte("new"))
	for _, tokens := range [][]Token{nil, {}, {{Secret: "x"}, {}}, {{Secret: "x"}, {Client: "b", Secret: "x"}}, {{Client: "a b", Secret: "y"}},
		{{Secret: "new"}, {SHA256: &newDigest}}, {{Secret: "new", SHA256: &digest}}} {
		if err := s.SetTokens(tokens); err == nil {
			t.Errorf("SetTokens(%v) accepted", tokens)
		}
	}
	if status("hashed-token") != 200 || status("") != 401 {
		t.Error("a refused SetTokens changed the tokens")
	}
	// Without tokens from the start, the API is open, and may be closed.
	open := newServer(t, Config{})
	oc := newClient(t, open)
	if st, _ := oc.do("GET", "/v1/models", "", true); st != 200 {
		t.Errorf("open API: %d", st)
	}
	if err := open.SetTokens([]Token{{Secret: "t"}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := oc.do("GET", "/v1/models", "", true); st != 401 {
		t.Errorf("after tokens were set: %d, want 401", st)
	}
}

// TestNoRegistry: a registry that is not there, or a file, is refused at
// start, naming it; an empty one is served (no models, not ready).
func TestNoRegistry(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "scores.parquet")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	for _, tt := range []struct{ path, want string }{
		{filepath.Join(dir, "nope"), "registry " + filepath.Join(dir, "nope") + " does not exist (abscopal train --registry"},
		{file, "registry " + file + " is not a directory"},
	} {
		if _, err := New(Config{Registry: tt.path, Logger: quiet}); !errors.Is(err, ErrNoRegistry) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.path, err, tt.want)
		}
	}
	if _, err := New(Config{Registry: dir, Logger: quiet}); err != nil {
		t.Errorf("an empty registry: %v", err)
	}
}

// TestSpecMatchesRoutes: every route the server has is in the OpenAPI
// document, and every path of the document is served.
func TestSpecMatchesRoutes(t *testing.T) {
	s := newServer(t, Config{UI: true})
	doc, err := openapi3.NewLoader().LoadFromData(openAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			inDoc[method+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range s.engine.Routes() {
		p := r.Path
		for _, param := range []string{"name", "version", "file", "id"} {
			p = strings.ReplaceAll(p, ":"+param, "{"+param+"}")
		}
		served[r.Method+" "+p] = true
	}
	var missing, extra []string
	for k := range served {
		if !inDoc[k] {
			missing = append(missing, k)
		}
	}
	for k := range inDoc {
		if !served[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("served but not documented: %v; documented but not served: %v", missing, extra)
	}
}

// TestSpecPatientMatchesSchema: the document's Patient is the cohort
// schema's inputs, with the same types, ranges and levels.
func TestSpecPatientMatchesSchema(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(openAPISpec)
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Components.Schemas["Patient"].Value
	n := 0
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			continue
		}
		n++
		ref, ok := p.Properties[f.Name]
		if !ok {
			t.Errorf("field %s is not in the document's Patient", f.Name)
			continue
		}
		s := ref.Value
		want := map[data.Kind]string{data.KindFloat: "number", data.KindInt: "integer", data.KindBool: "boolean", data.KindString: "string"}[f.Kind]
		if !s.Type.Is(want) {
			t.Errorf("%s: type %v, want %s", f.Name, s.Type, want)
		}
		if f.HasRange && (s.Min == nil || s.Max == nil || *s.Min != f.Min || *s.Max != f.Max) {
			t.Errorf("%s: range [%v, %v], want [%v, %v]", f.Name, s.Min, s.Max, f.Min, f.Max)
		}
		if f.Categorical() {
			var enum []string
			for _, e := range s.Enum {
				enum = append(enum, e.(string))
			}
			if strings.Join(enum, ",") != strings.Join(f.Levels, ",") {
				t.Errorf("%s: levels %v, want %v", f.Name, enum, f.Levels)
			}
		}
	}
	if len(p.Properties) != n {
		t.Errorf("the document's Patient has %d properties, the schema %d inputs", len(p.Properties), n)
	}
}

// TestChunkedBody: a body sent without Content-Length (chunked) is read to
// its end, and refused past the limit.
func TestChunkedBody(t *testing.T) {
	c := newClient(t, newServer(t, Config{MaxBodyBytes: 4096}))
	for _, tt := range []struct {
		name   string
		body   string
		status int
	}{
		{"small", `{"patient_id": "chunked", "ici_class": "pd1"}`, 200},
		{"too large", `{"patient_id": "` + strings.Repeat("x", 5000) + `", "ici_class": "pd1"}`, 413},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// io.MultiReader hides the length: net/http sends it chunked.
			req, _ := http.NewRequest("POST", c.base+"/v1/predict", io.MultiReader(strings.NewReader(tt.body)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			if req.ContentLength != 0 || len(req.TransferEncoding) > 0 && req.TransferEncoding[0] != "chunked" {
				t.Fatalf("the request announced a length: %d", req.ContentLength)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tt.status, body)
			}
			if tt.status == 200 && body["predictions"].([]any)[0].(map[string]any)["patient_id"] != "chunked" {
				t.Errorf("answer %v", body)
			}
		})
	}
}

// TestResearcherSpecServesV1: a model with a researcher's spec over cohort
// columns answers /v1 for its target when it is the target's only model;
// with two, the server does not guess: configuration or a production alias
// says which.
func TestResearcherSpecServesV1(t *testing.T) {
	spec, err := features.ParseSpec("own.yaml", []byte(`id: patient_id
target: {column: objective_response, positive: true}
features:
  - derived: bed
    alpha_beta_gy: 3
  - column: alc
    kind: numeric
    transforms: [log1p, standardize]
  - column: mhc1_status
    kind: categorical
`))
	if err != nil {
		t.Fatal(err)
	}
	reg := &models.Registry{Dir: t.TempDir()}
	publishSpec(t, reg, "a-own", spec, 3)
	publish(t, reg, "abscopal", "abscopal_response", 4)
	c := newClient(t, newServer(t, Config{Registry: reg.Dir}))
	status, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	if status != 200 {
		t.Fatalf("predict: %d %v", status, body)
	}
	if p := prediction(t, body, 0, "objective_response"); p["model"] != "a-own" || p["probability"] == nil {
		t.Errorf("objective response: %v", p)
	}

	// Two models of the target: which answers is not guessed. The server
	// refuses to start until one is named, by configuration or by a
	// production alias.
	publish(t, reg, "response", "objective_response", 5)
	if _, err := New(Config{Registry: reg.Dir, WatchInterval: -1, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}); !errors.Is(err, ErrAmbiguousV1) ||
		!strings.Contains(err.Error(), "a-own, response could each answer objective_response") || !strings.Contains(err.Error(), "--v1-model objective_response=NAME") {
		t.Errorf("two models of objective_response: %v", err)
	}
	for _, tt := range []struct {
		name     string
		cfg      Config
		alias    string // a model given the production alias first
		want     string
		chosenBy string
	}{
		{"configured", Config{V1Models: map[string]string{"objective_response": "a-own"}}, "", "a-own", chosenByConfig},
		{"by the production alias", Config{}, "response", "response", chosenByAlias},
		{"configured over the alias", Config{V1Models: map[string]string{"objective_response": "a-own"}}, "response", "a-own", chosenByConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			os.RemoveAll(filepath.Join(reg.Dir, "response", "aliases"))
			if tt.alias != "" {
				if err := reg.SetAlias(tt.alias, "production", "v1"); err != nil {
					t.Fatal(err)
				}
			}
			tt.cfg.Registry = reg.Dir
			c := newClient(t, newServer(t, tt.cfg))
			_, body := c.do("POST", "/v1/predict", sbrtPatient, true)
			if p := prediction(t, body, 0, "objective_response"); p["model"] != tt.want {
				t.Errorf("objective_response answered by %v, want %s", p["model"], tt.want)
			}
			_, ready := c.do("GET", "/readyz", "", true)
			v1, _ := ready["v1"].(map[string]any)
			if o, _ := v1["objective_response"].(map[string]any); o["model"] != tt.want || o["chosen_by"] != tt.chosenBy || ready["status"] != "ready" {
				t.Errorf("/readyz: %v", ready)
			}
		})
	}
	// none serves no model on /v1 for the target: it answers /v2 only.
	c = newClient(t, newServer(t, Config{Registry: reg.Dir, V1Models: map[string]string{"objective_response": ""}}))
	_, body = c.do("POST", "/v1/predict", sbrtPatient, true)
	if p := prediction(t, body, 0, "objective_response"); p["model"] != nil || !strings.Contains(fmt.Sprint(p["reason"]), "no model") {
		t.Errorf("objective_response with none configured: %v", p)
	}
}

// TestPneumonitisOnV1: a model of grade 2 or worse pneumonitis answers on
// /v1 beside the responses, saying from which grade; each regimen of a
// comparison gets its risk (the patient's, given that regimen), and the
// ranking stays by response. A registry without one answers as before.
func TestPneumonitisOnV1(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	_, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	if _, ok := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["pneumonitis"]; ok {
		t.Errorf("pneumonitis answered without a model of it: %v", body)
	}

	reg := &models.Registry{Dir: t.TempDir()}
	publish(t, reg, "response", "objective_response", 2)
	two := 2.0
	spec := features.BuiltinSpec("pneumonitis_grade")
	spec.Target.Positive, spec.Target.AtLeast = nil, &two
	publishSpec(t, reg, "pneumonitis", spec, 6)
	c = newClient(t, newServer(t, Config{Registry: reg.Dir}))
	status, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	if status != 200 {
		t.Fatalf("predict: %d %v", status, body)
	}
	p := prediction(t, body, 0, "pneumonitis")
	if prob, _ := p["probability"].(float64); p["model"] != "pneumonitis" || p["outcome"] != "pneumonitis_grade >= 2" || prob <= 0 || prob >= 1 {
		t.Errorf("pneumonitis: %v", p)
	}
	if r := prediction(t, body, 0, "objective_response"); r["model"] != "response" || r["outcome"] != nil {
		t.Errorf("objective response: %v", r)
	}
	// As written, not escaped for HTML ("\u003e="): the answer is JSON.
	resp, err := http.Post(c.base+"/v1/predict", "application/json", strings.NewReader(sbrtPatient))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(raw, []byte(`"outcome":"pneumonitis_grade >= 2"`)) {
		t.Errorf("raw answer: %s", raw)
	}

	status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"patient_id": "r", "ici_class": "pd1"},
		"regimens": [{"dose_gy": 0, "fractions": 0}, {"dose_gy": 60, "fractions": 30, "site": "lung"}]}`, true)
	if status != 200 {
		t.Fatalf("compare: %d %v", status, body)
	}
	risk := map[string]float64{}
	last := 2.0
	for _, r := range body["regimens"].([]any) {
		preds := r.(map[string]any)["predictions"].(map[string]any)
		label := r.(map[string]any)["regimen"].(map[string]any)["label"].(string)
		pn, ok := preds["pneumonitis"].(map[string]any)["probability"].(float64)
		if !ok {
			t.Fatalf("%s: no pneumonitis probability: %v", label, preds)
		}
		risk[label] = pn
		if resp := preds["objective_response"].(map[string]any)["probability"].(float64); resp > last {
			t.Errorf("%s: not ranked by objective response (%v after %v)", label, resp, last)
		} else {
			last = resp
		}
	}
	// In the synthetic cohort conventional thoracic RT raises grade >= 3
	// pneumonitis from 3% to about 13%: the model must see it.
	if !(risk["ICI alone"] < risk["60 Gy / 30"]) {
		t.Errorf("pneumonitis risk by regimen %v: conventional thoracic RT no riskier than ICI alone", risk)
	}
	_, body = c.do("POST", "/v1/predict", `{"patient_id": "r", "ici_class": "pd1", "rt_dose_gy": 60, "rt_fractions": 30, "rt_site": "lung", "rt_nodal": false, "rt_ici_sequence": "rt_before_ici"}`, true)
	if got := prediction(t, body, 0, "pneumonitis")["probability"]; got != risk["60 Gy / 30"] {
		t.Errorf("the patient given 60 Gy / 30: %v; the comparison's regimen: %v", got, risk["60 Gy / 30"])
	}

	// A planned regimen's mean doses are used (they are not imputed), as
	// the patient's own would be.
	status, body = c.do("POST", "/v1/regimens/compare", `{"patient": {"patient_id": "r", "ici_class": "pd1", "mean_lung_dose_gy": 2},
		"regimens": [{"dose_gy": 60, "fractions": 30, "site": "lung", "mean_lung_dose_gy": 16, "mean_heart_dose_gy": 10, "mean_body_dose_gy": 6.6}]}`, true)
	if status != 200 {
		t.Fatalf("planned regimen: %d %v", status, body)
	}
	planned := body["regimens"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["pneumonitis"].(map[string]any)
	_, body = c.do("POST", "/v1/predict", `{"patient_id": "r", "ici_class": "pd1", "rt_dose_gy": 60, "rt_fractions": 30, "rt_site": "lung", "rt_nodal": false, "rt_ici_sequence": "rt_before_ici",
		"mean_lung_dose_gy": 16, "mean_heart_dose_gy": 10, "mean_body_dose_gy": 6.6}`, true)
	if got := prediction(t, body, 0, "pneumonitis")["probability"]; got != planned["probability"] || got == risk["60 Gy / 30"] {
		t.Errorf("the patient given 60 Gy / 30 with its plan's doses: %v; the comparison's planned regimen: %v; unplanned %v", got, planned["probability"], risk["60 Gy / 30"])
	}
	if imputed := fmt.Sprint(planned["imputed"]); strings.Contains(imputed, "edic_gy") {
		t.Errorf("a planned regimen's EDIC imputed: %s", imputed)
	}

	_, body = c.do("GET", "/v1/models", "", true)
	found := false
	for _, m := range body["models"].([]any) {
		if m := m.(map[string]any); m["name"] == "pneumonitis" {
			found = true
			if m["target"] != "pneumonitis_grade" || m["outcome"] != "pneumonitis_grade >= 2" || m["serves_v1_target"] != true {
				t.Errorf("listed as %v", m)
			}
		}
	}
	if !found {
		t.Errorf("pneumonitis not listed: %v", body)
	}
}

// TestIntervals: with ?intervals=true, a model that kept its bootstrap
// models gives each probability the central 95% of theirs, the same as
// models.Model.Interval; one that kept none says so; without the query
// nothing changes.
func TestIntervals(t *testing.T) {
	reg := &models.Registry{Dir: t.TempDir()}
	files := modeltest.FilesWith(t, "response", features.BuiltinSpec("objective_response"), 600, 7,
		train.Options{Algo: "logistic", Folds: 3, Seed: 7, Bootstrap: 10, Instability: 20, Intervals: true})
	if _, err := reg.Publish("response", files); err != nil {
		t.Fatal(err)
	}
	publish(t, reg, "abscopal", "abscopal_response", 1)
	c := newClient(t, newServer(t, Config{Registry: reg.Dir}))

	status, body := c.do("POST", "/v1/predict?intervals=true", sbrtPatient, true)
	if status != 200 {
		t.Fatalf("predict: %d %v", status, body)
	}
	p := prediction(t, body, 0, "objective_response")
	iv, ok := p["interval_95"].([]any)
	if !ok || len(iv) != 2 {
		t.Fatalf("no interval: %v", p)
	}
	m, err := reg.Load("response")
	if err != nil {
		t.Fatal(err)
	}
	var pt data.Patient
	if err := json.Unmarshal([]byte(sbrtPatient), &pt); err != nil {
		t.Fatal(err)
	}
	lo, hi, _ := m.Interval(features.PatientRecord{P: &pt}, new(models.Scratch))
	if iv[0] != lo || iv[1] != hi || !(lo < hi) {
		t.Errorf("interval %v, models.Model.Interval [%v, %v]", iv, lo, hi)
	}
	if a := prediction(t, body, 0, "abscopal_response"); a["interval_95"] != nil || !strings.Contains(fmt.Sprint(a["warnings"]), "no interval: abscopal:v1 kept no bootstrap models") {
		t.Errorf("a model without bootstrap models: %v", a)
	}

	_, body = c.do("POST", "/v1/predict", sbrtPatient, true)
	if p := prediction(t, body, 0, "objective_response"); p["interval_95"] != nil {
		t.Errorf("an interval not asked for: %v", p)
	}
	status, body = c.do("POST", "/v1/regimens/compare?intervals=1", `{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 24, "fractions": 3}, {"dose_gy": 0, "fractions": 0}]}`, true)
	if status != 200 {
		t.Fatalf("compare: %d %v", status, body)
	}
	for _, r := range body["regimens"].([]any) {
		if iv := r.(map[string]any)["predictions"].(map[string]any)["objective_response"].(map[string]any)["interval_95"]; iv == nil {
			t.Errorf("regimen %v without an interval", r.(map[string]any)["regimen"])
		}
	}
	_, list := c.do("GET", "/v1/models", "", true)
	for _, mi := range list["models"].([]any) {
		mi := mi.(map[string]any)
		if want := map[string]any{"response": 20.0, "abscopal": nil}[mi["name"].(string)]; mi["bootstrap_models"] != want {
			t.Errorf("%s: bootstrap_models %v, want %v", mi["name"], mi["bootstrap_models"], want)
		}
	}
	// Open Inference Protocol: the output interval_95, named in the
	// request; the metadata lists it for the model that has it.
	_, meta := c.do("GET", "/v2/models/response", "", true)
	if !strings.Contains(fmt.Sprint(meta["outputs"]), "interval_95") {
		t.Errorf("v2 metadata without interval_95: %v", meta)
	}
	infer := `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "rt_dose_gy", "datatype": "FP64", "shape": [1], "data": [24]},
		{"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [3]}, {"name": "rt_site", "datatype": "BYTES", "shape": [1], "data": ["lung"]}],
		"outputs": [{"name": "probability"}, {"name": "interval_95"}]}`
	status, body = c.do("POST", "/v2/models/response/infer", infer, true)
	outs, _ := body["outputs"].([]any)
	if status != 200 || len(outs) != 2 {
		t.Fatalf("v2 infer with interval_95: %d %v", status, body)
	}
	iv2 := outs[1].(map[string]any)
	_, v1body := c.do("POST", "/v1/predict?intervals=true", `{"ici_class": "pd1", "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`, true)
	if want := prediction(t, v1body, 0, "objective_response")["interval_95"]; iv2["name"] != "interval_95" || fmt.Sprint(iv2["shape"]) != "[1 2]" || fmt.Sprint(iv2["data"]) != fmt.Sprint(want) {
		t.Errorf("v2 interval %v, v1's %v", iv2, want)
	}
	status, body = c.do("POST", "/v2/models/abscopal/infer", infer, true)
	if e, _ := body["error"].(string); status != 400 || !strings.Contains(e, "output interval_95: abscopal:v1 kept no bootstrap models") {
		t.Errorf("v2 interval of a model without bootstrap models: %d %v", status, body)
	}

	batch := `{"patients": [` + strings.TrimSuffix(strings.Repeat(`{"ici_class": "pd1"},`, 101), ",") + `]}`
	status, body = c.do("POST", "/v1/predict?intervals=true", batch, true)
	if e, _ := body["error"].(map[string]any); status != 422 || e["field"] != "intervals" || !strings.Contains(fmt.Sprint(e["message"]), "intervals for at most 100 patients a request, got 101") {
		t.Errorf("intervals for 101 patients: %d %v", status, body)
	}
	status, body = c.do("POST", "/v1/predict?intervals=maybe", sbrtPatient, false)
	if e, _ := body["error"].(map[string]any); status != 422 || e["field"] != "intervals" || !strings.Contains(fmt.Sprint(e["message"]), `intervals is true or false, got "maybe"`) {
		t.Errorf("a bad intervals: %d %v", status, body)
	}
}

// TestV2NumericID: a researcher's model whose id column held numbers
// declares it FP64 (which takes INT64), not BYTES.
func TestV2NumericID(t *testing.T) {
	spec, err := features.ParseSpec("s.yaml", []byte("id: sample_id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: x\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	var recs []features.Record
	for i := 0; i < 4; i++ {
		recs = append(recs, valueRecord{"sample_id": data.Float(float64(10000 + i)), "x": data.Float(float64(i))})
	}
	pipe, err := features.Fit(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	declared := ""
	for _, in := range inputColumns(&models.Model{Bundle: &models.Bundle{Pipeline: pipe}}) {
		if in.Name == "sample_id" {
			declared = in.Datatype
		}
	}
	if declared != "FP64" {
		t.Errorf("sample_id declared %q, want FP64", declared)
	}
}

// TestV2SpecInputsChecked: a researcher's model is not validated as a
// cohort patient, yet its inputs are checked: a cohort column against the
// schema's range, and a column of its own against its transforms' domain
// (the log1p of -5 was imputed as if missing, in silence). Each is a 400
// naming the input and the row.
// ownModel publishes as "own" a logistic model of a spec of one's own
// (YAML) trained on 200 rows whose sample_id is the row's index and whose
// other values row gives, and returns a client of a server of it.
func ownModel(t *testing.T, yaml string, row func(i int) valueRecord) *client {
	t.Helper()
	spec, err := features.ParseSpec("own.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	var recs []features.Record
	for i := range 200 {
		r := row(i)
		r["sample_id"] = data.String(fmt.Sprint(i))
		recs = append(recs, r)
	}
	res, err := train.Run(context.Background(), spec, recs, train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Bundle("own", res, models.TrainingInfo{DataFile: "own.parquet"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := workflow.Files(b, res)
	if err != nil {
		t.Fatal(err)
	}
	reg := &models.Registry{Dir: t.TempDir()}
	if _, err := reg.Publish("own", files); err != nil {
		t.Fatal(err)
	}
	return newClient(t, newServer(t, Config{Registry: reg.Dir}))
}

func TestV2SpecInputsChecked(t *testing.T) {
	c := ownModel(t, `id: sample_id
target: {column: response, positive: true}
features:
  - column: nlr
    kind: numeric
    transforms: [log1p, standardize]
  - column: alc
    kind: numeric
`, func(i int) valueRecord {
		return valueRecord{"nlr": data.Float(float64(i % 9)), "alc": data.Float(0.5 + float64(i%7)/4), "response": data.Bool(i%3 == 0)}
	})
	for _, tt := range []struct {
		nlr, alc string
		status   int
		want     string
	}{
		{"[3, 0]", "[1.2, 1.2]", 200, ""},
		{"[3, -5]", "[1.2, 1.2]", 400, "input nlr, row 2: field nlr: out of range: -5 (allowed: above -1: the spec takes its log1p"},
		{"[3, 1]", "[1.2, 500]", 400, "input alc, row 2: field alc: out of range: 500 (allowed: [0, 50] 10^9/L)"},
		{"[-1, null]", "[1.2, 1.2]", 400, "input nlr, row 1: field nlr: out of range: -1"},
	} {
		status, body := c.do("POST", "/v2/models/own/infer", `{"inputs": [{"name": "nlr", "datatype": "FP64", "shape": [2], "data": `+tt.nlr+`},
			{"name": "alc", "datatype": "FP64", "shape": [2], "data": `+tt.alc+`}]}`, true)
		msg, _ := body["error"].(string)
		if status != tt.status || !strings.Contains(msg, tt.want) {
			t.Errorf("nlr %s, alc %s: %d %v; want %d %q", tt.nlr, tt.alc, status, body, tt.status, tt.want)
		}
	}
}

// TestV2Notes: an inference answer says, in its probability output's
// parameters, which rows had a feature imputed, a level the model never saw
// (a cancer type coded otherwise) or a value outside the training range,
// as /v1/predict does per patient; a clean request has no parameters.
func TestV2Notes(t *testing.T) {
	types := []string{"melanoma", "nsclc", "rcc"}
	c := ownModel(t, `id: sample_id
target: {column: response, positive: true}
features:
  - column: nlr
    kind: numeric
  - column: cancer_type
    kind: categorical
`, func(i int) valueRecord {
		return valueRecord{"nlr": data.Float(float64(i % 9)), "cancer_type": data.String(types[i%3]), "response": data.Bool(i%3 == 0 || i%7 == 0)}
	})
	infer := func(nlr, cancer string) map[string]any {
		t.Helper()
		status, body := c.do("POST", "/v2/models/own/infer", `{"inputs": [{"name": "nlr", "datatype": "FP64", "shape": [3], "data": `+nlr+`},
			{"name": "cancer_type", "datatype": "BYTES", "shape": [3], "data": `+cancer+`}]}`, true)
		out := body["outputs"].([]any)[0].(map[string]any)
		if status != 200 || len(out["data"].([]any)) != 3 {
			t.Fatalf("infer: %d %v", status, body)
		}
		params, _ := out["parameters"].(map[string]any)
		return params
	}
	if params := infer("[3, 8, 0]", `["nsclc", "rcc", "melanoma"]`); params != nil {
		t.Errorf("a clean request has parameters %v", params)
	}
	// Nor does the answer of a model trained on data not marked synthetic
	// have parameters of its own.
	if _, body := c.do("POST", "/v2/models/own/infer", `{"inputs": [{"name": "nlr", "datatype": "FP64", "shape": [1], "data": [3]}]}`, true); body["parameters"] != nil {
		t.Errorf("a model of real data: parameters %v", body["parameters"])
	}
	got := infer("[3, 30, null]", `["nsclc", "NSCLC", "melanoma"]`)
	want := map[string]any{
		"imputed_rows": map[string]any{"nlr": 1.0},
		"unseen":       []any{map[string]any{"row": 2.0, "feature": "cancer_type", "value": "NSCLC"}},
		"out_of_range": []any{map[string]any{"row": 2.0, "feature": "nlr", "value": 30.0, "min": 0.0, "max": 8.0}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parameters:\n got %v\nwant %v", got, want)
	}
}

// valueRecord is a features.Record for tests.
type valueRecord map[string]data.Value

func (r valueRecord) Value(c string) data.Value { return r[c] }

// TestV2IntegerCodes: a researcher's categorical feature over an integer
// column (ECOG grades as levels) is declared INT64 to inference clients,
// takes integers, and /v1 reads the same column from a patient alike.
func TestV2IntegerCodes(t *testing.T) {
	spec, err := features.ParseSpec("own.yaml", []byte(`id: patient_id
target: {column: objective_response, positive: true}
features:
  - column: ecog
    kind: categorical
  - column: alc
    kind: numeric
`))
	if err != nil {
		t.Fatal(err)
	}
	reg := &models.Registry{Dir: t.TempDir()}
	publishSpec(t, reg, "grades", spec, 6)
	c := newClient(t, newServer(t, Config{Registry: reg.Dir}))
	status, meta := c.do("GET", "/v2/models/grades", "", true)
	types := map[string]any{}
	for _, in := range meta["inputs"].([]any) {
		m := in.(map[string]any)
		types[m["name"].(string)] = m["datatype"]
	}
	if status != 200 || types["ecog"] != "INT64" || types["alc"] != "FP64" {
		t.Fatalf("metadata: %d %v", status, types)
	}
	status, body := c.do("POST", "/v2/models/grades/infer", `{"inputs": [
		{"name": "ecog", "datatype": "INT64", "shape": [3], "data": [0, 2, null]},
		{"name": "alc", "datatype": "FP64", "shape": [3], "data": [1.2, 1.2, 1.2]}]}`, true)
	d := body["outputs"].([]any)[0].(map[string]any)["data"].([]any)
	if status != 200 || len(d) != 3 || d[0] == d[1] {
		t.Fatalf("infer: %d %v", status, body)
	}
	_, v1 := c.do("POST", "/v1/predict", `{"ici_class": "pd1", "ecog": 2, "alc": 1.2}`, true)
	if p := prediction(t, v1, 0, "objective_response"); p["model"] != "grades" || p["probability"] != d[1] {
		t.Errorf("v1 %v, v2 %v", p, d[1])
	}
}

// TestServesRecalibratedVersion: a version made by recalibration is served
// with its new calibration, and says where it came from.
func TestServesRecalibratedVersion(t *testing.T) {
	ctx := context.Background()
	reg := &models.Registry{Dir: t.TempDir()}
	publish(t, reg, "response", "objective_response", 5)
	files, err := reg.ReadVerified("response", "v1")
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.Load("response:v1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "centre.parquet")
	if err := synth.WriteFile(ctx, path, 600, 8, data.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := features.OpenSource(ctx, path, features.BuiltinSpec("objective_response"), features.SourceOptions{NeedTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := train.Recalibrate(ctx, m, src, models.Recalibration{From: "response:v1", DataFile: "centre.parquet", DataSHA256: "abc", Synthetic: true},
		train.RecalibrateOptions{Method: models.CalibrationIsotonic})
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, err := workflow.RecalibratedFiles(rec, files)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Publish("response", out); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, newServer(t, Config{Registry: reg.Dir}))
	status, body := c.do("GET", "/v1/models/response", "", true)
	model, _ := body["model"].(map[string]any)
	rc, _ := model["recalibrated"].(map[string]any)
	if status != 200 || model["version"] != "v2" || rc["from"] != "response:v1" || rc["method"] != "isotonic" {
		t.Fatalf("model: %d %v", status, body)
	}
	_, body = c.do("POST", "/v1/predict", sbrtPatient, true)
	var p data.Patient
	if err := json.Unmarshal([]byte(sbrtPatient), &p); err != nil {
		t.Fatal(err)
	}
	want := rec.Bundle.Calibration.Apply(m.Predict(features.PatientRecord{P: &p}).Score)
	if got := prediction(t, body, 0, "objective_response"); got["version"] != "v2" || got["probability"] != want {
		t.Errorf("prediction %v, want v2's %v", got, want)
	}
}

// TestRequestLog: each request is logged with the model versions that
// answered it and the client whose token it bore, and nothing of the
// patient or of the token.
func TestRequestLog(t *testing.T) {
	var buf syncbuf.Buffer
	s, err := New(Config{Registry: sharedRegistry(t), Logger: slog.New(slog.NewJSONHandler(&buf, nil)), WatchInterval: -1,
		MetricsPublic: true, Tokens: []Token{{Client: "ehr-prod", Secret: "tok-ehr-123"}, {Secret: "tok-anon-456"}}})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s)
	c.token = "tok-ehr-123"
	patient := strings.Replace(sbrtPatient, `"p1"`, `"MRN-0042-secret"`, 1)
	if status, _ := c.do("POST", "/v1/predict", patient, true); status != 200 {
		t.Fatalf("predict: %d", status)
	}
	if status, _ := c.do("POST", "/v2/models/response/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`, true); status != 200 {
		t.Fatalf("infer: %d", status)
	}
	c.token = "tok-anon-456"
	c.do("GET", "/v1/schema", "", true)
	c.do("GET", "/healthz", "", true)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.WaitFor(`"msg":"request"`, 4)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	want := map[string]string{"/v1/predict": "abscopal:v1 response:v1", "/v2/models/:name/infer": "response:v1", "/v1/schema": "", "/healthz": ""}
	client := map[string]string{"/v1/predict": "ehr-prod", "/v2/models/:name/infer": "ehr-prod"}
	for _, l := range lines {
		route, _ := l["route"].(string)
		models, _ := l["models"].(string)
		if w, ok := want[route]; !ok || models != w {
			t.Errorf("%s logged models %q, want %q", route, models, w)
		}
		if cl, _ := l["client"].(string); cl != client[route] {
			t.Errorf("%s logged client %q, want %q", route, cl, client[route])
		}
		delete(want, route)
	}
	if strings.Contains(buf.String(), "tok-") {
		t.Errorf("the log holds a token:\n%s", buf.String())
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`abscopal_client_requests_total{client="ehr-prod"} 2`, `abscopal_client_requests_total{client=""} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if len(want) != 0 {
		t.Errorf("not logged: %v", want)
	}
	if strings.Contains(buf.String(), "MRN-0042-secret") || strings.Contains(buf.String(), "pdl1") {
		t.Errorf("the log holds patient data:\n%s", buf.String())
	}
}

// TestNoStore: every answer, the errors too, asks caches to keep nothing
// (they hold patient identifiers and predictions) and browsers not to sniff.
func TestNoStore(t *testing.T) {
	s := newServer(t, Config{})
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/v1/predict", sbrtPatient}, {"GET", "/v1/models", ""}, {"POST", "/v1/predict", "{"}, {"GET", "/nope", ""}, {"GET", "/healthz", ""},
	} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
		if h := rec.Header(); h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s (%d): Cache-Control %q, X-Content-Type-Options %q", tt.method, tt.path, rec.Code, h.Get("Cache-Control"), h.Get("X-Content-Type-Options"))
		}
	}
}

// TestDriftMetrics: each prediction counts, per model and version, its
// probability's decile and each input imputed, unseen or out of the training
// range, on /v1 and /v2 alike, so that a feed that stops sending a value
// shows on /metrics.
func TestDriftMetrics(t *testing.T) {
	s := newServer(t, Config{})
	c := newClient(t, s)
	// An ALC far above the training range, and a /v2 row without one
	// (imputed).
	if status, body := c.do("POST", "/v1/predict", `{"patients": [`+sbrtPatient+`, {"ici_class": "pd1", "alc": 45}]}`, true); status != 200 {
		t.Fatalf("predict: %d %v", status, body)
	}
	if status, body := c.do("POST", "/v2/models/response/infer", `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`, true); status != 200 {
		t.Fatalf("infer: %d %v", status, body)
	}
	// A regimen comparison's hypothetical regimens are not patients: not counted.
	if status, body := c.do("POST", "/v1/regimens/compare", `{"patient": `+sbrtPatient+`}`, true); status != 200 {
		t.Fatalf("regimens: %d %v", status, body)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		// Two patients on /v1 (one without RT: no abscopal probability) and one on /v2.
		`abscopal_predictions_total{model="response",target="objective_response",version="v1"} 3`,
		`abscopal_predictions_total{model="abscopal",target="abscopal_response",version="v1"} 1`,
		`abscopal_predicted_probability_count{model="response",version="v1"} 3`,
		// sbrtPatient has an ALC; the second patient's is above the range, the /v2 row has none.
		`abscopal_imputed_inputs_total{input="alc",model="response",version="v1"} 1`,
		`abscopal_out_of_range_inputs_total{input="alc",model="response",version="v1"} 1`,
		`abscopal_imputed_inputs_total{input="tmb",model="response",version="v1"} 3`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, `input="alc"`) || strings.HasPrefix(l, "abscopal_predictions_total") || strings.Contains(l, "probability_count") {
				t.Log(l)
			}
		}
	}
}

// TestRequireModels: a registry that lacks a required model is not loaded:
// at start the server is live but not ready, and says why; once the model
// is published it is ready; a reload that would drop the model keeps the
// current models.
func TestRequireModels(t *testing.T) {
	reg := &models.Registry{Dir: t.TempDir()}
	publish(t, reg, "abscopal", "abscopal_response", 1)
	s := newServer(t, Config{Registry: reg.Dir, Require: []string{"abscopal", "response"}})
	c := newClient(t, s)
	if status, body := c.do("GET", "/readyz", "", true); status != 503 || !strings.Contains(fmt.Sprint(body["reason"]), "a required model is missing") {
		t.Errorf("readyz without a required model: %d %v", status, body)
	}
	if status, _ := c.do("GET", "/healthz", "", true); status != 200 {
		t.Errorf("healthz: %d", status)
	}
	publish(t, reg, "response", "objective_response", 2)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if status, body := c.do("GET", "/readyz", "", true); status != 200 || body["models"] != 2.0 {
		t.Errorf("readyz with both: %d %v", status, body)
	}
	if err := os.RemoveAll(filepath.Join(reg.Dir, "response")); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); !errors.Is(err, ErrMissingModel) || !strings.Contains(err.Error(), "no model response") {
		t.Errorf("reload without response: %v", err)
	}
	status, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	if o := prediction(t, body, 0, "objective_response"); status != 200 || o["model"] != "response" {
		t.Errorf("after the refused reload: %d %v", status, o)
	}
}
