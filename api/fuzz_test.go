package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
)

// fuzzBody posts body to path on srv's handler and fails on what a client
// must never see whatever it sends: a 500, a body that is not the error
// envelope or a JSON answer, or Go's own names for types.
func fuzzBody(t *testing.T, srv *Server, path, body string, envelope func(map[string]any) bool) int {
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
	return rec.Code
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
// result or a 4xx in the error envelope; and a 200 from /v1/predict is
// given only to a body that means one thing (checkAccepted), with the
// probabilities of that thing written canonically. The seeds run with go
// test; go test ./api -run XXX -fuzz FuzzPredict searches further.
func FuzzPredict(f *testing.F) {
	for _, s := range []string{
		`{"patient_id": "a", "ici_class": "pd1", "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`,
		`{"patients": [{"ici_class": "pd1"}, {"ici_class": "ctla4", "alc": 0.4}]}`,
		`{"ici_class": "pd1", "alc": "1.2"}`, `{"ici_class": "pd1", "rt_fractions": 3.5}`, `[1]`, `{"patients": {}}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 24, "fractions": 3}]}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": "24"}], "rank_by": 3}`, `{"ici_class": null}`, ``, `{`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 60, "fractions": 30, "mean_lung_dose_gy": 16, "mean_heart_dose_gy": 10, "mean_body_dose_gy": 6.6}]}`,
		`{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 0, "fractions": 0, "mean_lung_dose_gy": -1}]}`,
		`{"ici_class": "pd1", "alc": 1.6, "ALC": 30}`, `{"ICI_CLASS": "pd1"}`, `{"ici_class": "pd1", "ecog": 1, "ecog": 2}`,
		`{"ici_class": "p\u00641", "alc": 1.6e0}`, `null`,
	} {
		f.Add(s)
	}
	srv := newServer(f, Config{MaxBatch: 5})
	f.Fuzz(func(t *testing.T, body string) {
		if code := fuzzBody(t, srv, "/v1/predict", body, v1Envelope); code == http.StatusOK {
			checkAccepted(t, srv, body)
		}
		fuzzBody(t, srv, "/v1/regimens/compare", body, v1Envelope)
	})
}

// checkAccepted is the oracle of a body /v1/predict accepted, read by
// encoding/json's token stream, which keeps what the server's decoder
// forbids: every member name is exactly a patient field's (or the batch's
// patients), none is given twice, and an integer field holds a whole
// number; and the body written again canonically (encoding/json's own
// output of the values read) is scored to the same bits.
func checkAccepted(t *testing.T, srv *Server, body string) {
	t.Helper()
	fields := map[string]data.Field{}
	for _, f := range data.CohortFields() {
		fields[f.Name] = f
	}
	var patients []map[string]any
	var obj map[string]any
	if err := json.Unmarshal([]byte(body), &obj); err != nil {
		t.Fatalf("accepted %q, which encoding/json cannot read: %v", body, err)
	}
	checkMembers(t, body, func(path []string, name string) bool {
		if len(path) == 0 && name == "patients" {
			return true
		}
		_, ok := fields[name]
		return ok
	})
	if list, ok := obj["patients"].([]any); ok {
		for _, p := range list {
			patients = append(patients, p.(map[string]any))
		}
	} else {
		patients = []map[string]any{obj}
	}
	for _, p := range patients {
		for name, v := range p {
			if x, ok := v.(float64); ok && fields[name].Kind == data.KindInt && x != math.Trunc(x) {
				t.Fatalf("accepted %s = %v for an integer field: %q", name, x, body)
			}
		}
	}
	canon, _ := json.Marshal(map[string]any{"patients": patients})
	_, want := post(t, srv, "/v1/predict", "application/json", body)
	status, got := post(t, srv, "/v1/predict", "application/json", string(canon))
	if status != http.StatusOK {
		// Only the default ids differ: a batch's are the same.
		t.Fatalf("accepted %q, but not its canonical form %s: %d %v", body, canon, status, got)
	}
	if a, b := probabilitiesOf(want), probabilitiesOf(got); a != b {
		t.Fatalf("%q scored %s, its canonical form %s scored %s", body, a, canon, b)
	}
}

// checkMembers walks the JSON text body with encoding/json's tokens and
// fails on an object that gives a member twice, or a member name allowed
// refuses (path: the names of the objects above, arrays skipped).
func checkMembers(t *testing.T, body string, allowed func(path []string, name string) bool) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	var walk func(path []string) error
	walk = func(path []string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				name := k.(string)
				if seen[name] || !allowed(path, name) {
					t.Fatalf("accepted %q, whose member %q (below %v) is given twice or is no field", body, name, path)
				}
				seen[name] = true
				if err := walk(append(path, name)); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for dec.More() {
				if err := walk(path); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	if err := walk(nil); err != nil {
		t.Fatalf("accepted %q: %v", body, err)
	}
}

// probabilitiesOf lists an answer's probabilities by patient and target,
// as the bits of each float64.
func probabilitiesOf(body map[string]any) string {
	var b strings.Builder
	preds, _ := body["predictions"].([]any)
	for _, p := range preds {
		for _, target := range []string{"abscopal_response", "objective_response"} {
			pr := p.(map[string]any)["predictions"].(map[string]any)[target].(map[string]any)["probability"]
			if x, ok := pr.(float64); ok {
				fmt.Fprintf(&b, "%x,", math.Float64bits(x))
			} else {
				b.WriteString("null,")
			}
		}
	}
	return b.String()
}

// FuzzInfer: the Open Inference Protocol endpoint answers any body with a
// result or a 4xx {"error": "..."}; a 200 is given only to a request whose
// members are the protocol's, each once, whose integer tensors hold whole
// numbers, and whose answer has a probability in [0, 1] (or null, for a
// row listed in null_rows) for each row.
func FuzzInfer(f *testing.F) {
	for _, s := range []string{
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`,
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [2, 1], "data": [["pd1"], [null]]}]}`,
		`{"inputs": [{"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [1e30]}, {"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`,
		`{"id": 3, "inputs": []}`, `{"inputs": [{"name": "ici_class", "shape": [-1], "data": [[[]]]}]}`,
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}], "outputs": [{"name": 1}]}`,
		`{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "ecog", "datatype": "INT64", "shape": [1], "data": [2.99]}]}`,
		`{"Inputs": [{"Name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`,
	} {
		f.Add(s)
	}
	srv := newServer(f, Config{MaxBatch: 5})
	protocol := map[string]bool{"id": true, "inputs": true, "outputs": true, "parameters": true, "name": true, "datatype": true, "shape": true, "data": true}
	f.Fuzz(func(t *testing.T, body string) {
		if fuzzBody(t, srv, "/v2/models/abscopal/infer", body, v2Envelope) != http.StatusOK {
			return
		}
		checkMembers(t, body, func(path []string, name string) bool {
			return slices.Contains(path, "parameters") || protocol[name]
		})
		var req struct {
			Inputs []struct {
				Datatype string
				Data     []any
			}
		}
		json.Unmarshal([]byte(body), &req)
		for _, in := range req.Inputs {
			for _, v := range in.Data {
				if row, ok := v.([]any); ok && len(row) == 1 {
					v = row[0]
				}
				if x, ok := v.(float64); ok && strings.HasPrefix(in.Datatype, "INT") && x != math.Trunc(x) {
					t.Fatalf("accepted %v in an %s tensor: %q", x, in.Datatype, body)
				}
			}
		}
		_, out := post(t, srv, "/v2/models/abscopal/infer", "application/json", body)
		o := out["outputs"].([]any)[0].(map[string]any)
		nulls := map[float64]bool{}
		if params, ok := o["parameters"].(map[string]any); ok {
			rows, _ := params["null_rows"].([]any)
			for _, r := range rows {
				nulls[r.(float64)] = true
			}
		}
		for i, p := range o["data"].([]any) {
			x, ok := p.(float64)
			if (!ok && !nulls[float64(i+1)]) || (ok && !(x >= 0 && x <= 1)) {
				t.Fatalf("%q: row %d's probability %v", body, i+1, p)
			}
		}
	})
}
