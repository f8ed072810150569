package api

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
)

// post sends body to path with the Content-Type given ("" for none) and
// returns the status and the decoded answer.
func post(t testing.TB, srv *Server, path, contentType, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %q: %d, not JSON: %q", path, body, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

// errorOf returns the message and field of an answer of /v1 or /v2.
func errorOf(body map[string]any) (msg, field string) {
	switch e := body["error"].(type) {
	case string:
		return e, ""
	case map[string]any:
		f, _ := e["field"].(string)
		return fmt.Sprint(e["message"]), f
	}
	return "", ""
}

// TestInputsNeverScoredAsSomethingElse: each input of the reliability
// report that was scored as something other than what was sent (issue 17,
// items 1 to 4) is refused, naming the field; each was a 200 before.
func TestInputsNeverScoredAsSomethingElse(t *testing.T) {
	srv := newServer(t, Config{})
	const json = "application/json"
	v2 := func(cols ...string) string { return `{"inputs": [` + strings.Join(cols, ", ") + `]}` }
	ici := `{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}`
	sbrt := `{"name": "rt_dose_gy", "datatype": "FP64", "shape": [1], "data": [24]}, {"name": "rt_site", "datatype": "BYTES", "shape": [1], "data": ["lung"]}`
	for _, tt := range []struct {
		name, path, contentType, body string
		status                        int
		field, msg                    string
	}{
		{"v2 ecog 2.99", "/v2/models/response/infer", json, v2(ici, `{"name": "ecog", "datatype": "INT64", "shape": [1], "data": [2.99]}`), 400, "ecog", "2.99 is not a whole number, as datatype INT64 holds"},
		{"v2 fractions 3.9", "/v2/models/abscopal/infer", json, v2(ici, sbrt, `{"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [3.9]}`), 400, "rt_fractions", "3.9 is not a whole number"},
		{"v2 fractions 60.9 nested", "/v2/models/abscopal/infer", json, v2(ici, sbrt, `{"name": "rt_fractions", "datatype": "INT32", "shape": [1, 1], "data": [[60.9]]}`), 400, "rt_fractions", "60.9 is not a whole number"},
		{"v2 a whole number past 2^53", "/v2/models/abscopal/infer", json, v2(ici, sbrt, `{"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [1e300]}`), 400, "rt_fractions", "is not a whole number"},
		{"v1 fractions 3.9", "/v1/predict", json, `{"ici_class": "pd1", "rt_dose_gy": 24, "rt_fractions": 3.9, "rt_site": "lung"}`, 422, "rt_fractions", "must be a whole number"},
		{"key given twice, case apart", "/v1/predict", json, `{"ici_class": "pd1", "alc": 1.6, "ALC": 30}`, 422, "ALC", "unknown field ALC; field names are case-sensitive: alc"},
		{"key given twice", "/v1/predict", json, `{"ici_class": "pd1", "alc": 1.6, "alc": 30}`, 400, "alc", "alc is given twice"},
		{"key given twice in a batch", "/v1/predict", json, `{"patients": [{"ici_class": "pd1"}, {"ici_class": "pd1", "ici_class": "ctla4"}]}`, 400, "patients[1].ici_class", "ici_class is given twice"},
		{"patients given twice", "/v1/predict", json, `{"patients": [{"ici_class": "pd1"}], "patients": [{"ici_class": "ctla4"}]}`, 400, "patients", "patients is given twice"},
		{"upper-case key", "/v1/predict", json, `{"ICI_CLASS": "pd1"}`, 422, "ICI_CLASS", "case-sensitive: ici_class"},
		{"upper-case regimen keys", "/v1/regimens/compare", json, `{"patient": {"ici_class": "pd1"}, "regimens": [{"DOSE_GY": 24, "Fractions": 3}]}`, 422, "regimens[0].DOSE_GY", "case-sensitive: dose_gy"},
		{"regimen key twice", "/v1/regimens/compare", json, `{"patient": {"ici_class": "pd1"}, "regimens": [{"dose_gy": 24, "fractions": 3, "dose_gy": 60}]}`, 400, "regimens[0].dose_gy", "dose_gy is given twice"},
		{"comparison key twice", "/v1/regimens/compare", json, `{"patient": {"ici_class": "pd1"}, "rank_by": "abscopal_response", "rank_by": "objective_response"}`, 400, "rank_by", "rank_by is given twice"},
		{"upper-case comparison key", "/v1/regimens/compare", json, `{"Patient": {"ici_class": "pd1"}}`, 422, "Patient", "case-sensitive: patient"},
		{"v2 Inputs and Name", "/v2/models/abscopal/infer", json, `{"Inputs": [{"Name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`, 400, "Inputs", "case-sensitive: inputs"},
		{"v2 Name", "/v2/models/abscopal/infer", json, `{"inputs": [{"Name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}]}`, 400, "inputs[0].Name", "case-sensitive: name"},
		{"v2 datatype twice", "/v2/models/abscopal/infer", json, `{"inputs": [{"name": "ici_class", "datatype": "BYTES", "datatype": "FP64", "shape": [1], "data": ["pd1"]}]}`, 400, "inputs[0].datatype", "datatype is given twice"},
		{"text/plain", "/v1/predict", "text/plain", `{"ici_class": "pd1"}`, 415, "", `Content-Type "text/plain": the body must be sent as application/json`},
		{"no Content-Type", "/v1/predict", "", `{"ici_class": "pd1"}`, 415, "", "no Content-Type"},
		{"a form", "/v1/regimens/compare", "application/x-www-form-urlencoded", `{"patient": {"ici_class": "pd1"}}`, 415, "", "must be sent as application/json"},
		{"v2 text/plain", "/v2/models/abscopal/infer", "text/plain", v2(ici), 415, "", "must be sent as application/json"},
		{"another charset", "/v1/predict", "application/json; charset=latin1", `{"ici_class": "pd1"}`, 415, "", "charset utf-8"},
		{"empty patient_id", "/v1/predict", json, `{"patient_id": "", "ici_class": "pd1"}`, 422, "patient_id", "patient_id must be a non-empty string"},
		{"empty patient_id in a comparison", "/v1/regimens/compare", json, `{"patient": {"patient_id": "", "ici_class": "pd1"}}`, 422, "patient.patient_id", "patient_id must be a non-empty string"},
		{"null body, predict", "/v1/predict", json, `null`, 400, "", "the body must be one JSON object, got null"},
		{"null body, regimens", "/v1/regimens/compare", json, `null`, 400, "", "the body must be one JSON object, got null"},
		{"null body, infer", "/v2/models/abscopal/infer", json, `null`, 400, "", "the body must be one JSON object, got null"},
		{"two objects", "/v1/predict", json, `{"ici_class": "pd1"} {"ici_class": "ctla4"}`, 400, "", "found more than one value"},
		{"a patient's id in a batch's key", "/v1/predict", json, `{"patient_id": "patients", "ici_class": "pd1", "patients": []}`, 422, "patient_id", "a batch has only the key patients"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, srv, tt.path, tt.contentType, tt.body)
			msg, field := errorOf(body)
			if status != tt.status || !strings.Contains(msg, tt.msg) || (tt.field != "" && !strings.HasPrefix(tt.path, "/v2") && field != tt.field) ||
				(tt.field != "" && strings.HasPrefix(tt.path, "/v2") && !strings.Contains(msg, tt.field)) {
				t.Errorf("%d %v; want %d, field %q, message with %q", status, body, tt.status, tt.field, tt.msg)
			}
		})
	}
	// What is accepted: a charset of UTF-8 in any case, and a patient_id
	// left out (one is assigned) or given.
	for _, ct := range []string{"application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"} {
		if status, body := post(t, srv, "/v1/predict", ct, `{"ici_class": "pd1"}`); status != 200 {
			t.Errorf("Content-Type %q: %d %v", ct, status, body)
		}
	}
	if status, body := post(t, srv, "/v1/predict", json, `{"patients": [{"ici_class": "pd1"}, {"patient_id": "b", "ici_class": "pd1"}]}`); status != 200 ||
		body["predictions"].([]any)[0].(map[string]any)["patient_id"] != "patient-1" || body["predictions"].([]any)[1].(map[string]any)["patient_id"] != "b" {
		t.Errorf("ids assigned and given: %d %v", status, body)
	}
}

// canonicalPatient writes p's input fields as /v1 reads them, in the
// schema's order, with the shortest spelling of each number.
func canonicalPatient(p *data.Patient) map[string]any {
	out := map[string]any{"patient_id": p.PatientID}
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic || f.Name == "patient_id" {
			continue
		}
		v := f.Get(p)
		if !v.Valid {
			continue
		}
		switch f.Kind {
		case data.KindFloat, data.KindInt:
			out[f.Name] = v.Num
		case data.KindBool:
			out[f.Name] = v.Bool
		default:
			out[f.Name] = v.Str
		}
	}
	return out
}

// member is one member of a JSON object as a test writes it: the name and
// the value's text, so that a test controls the spelling of both.
type member struct{ name, value string }

// writeObject writes members as a JSON object, in their order.
func writeObject(ms []member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = strconv.Quote(m.name) + ": " + m.value
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// membersOf writes fields (canonicalPatient's) as members in sorted order.
func membersOf(fields map[string]any) []member {
	var ms []member
	for _, k := range sortedKeys(fields) {
		b, _ := json.Marshal(fields[k])
		ms = append(ms, member{k, string(b)})
	}
	return ms
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// probabilities returns the answer's probability of each target, as the
// bits of the float64 (or "null"), for comparison to the last bit.
func probabilities(t *testing.T, body map[string]any) string {
	t.Helper()
	preds := body["predictions"].([]any)
	var out []string
	for _, p := range preds {
		for _, target := range []string{"abscopal_response", "objective_response"} {
			pr := p.(map[string]any)["predictions"].(map[string]any)[target].(map[string]any)["probability"]
			if pr == nil {
				out = append(out, "null")
				continue
			}
			out = append(out, strconv.FormatUint(math.Float64bits(pr.(float64)), 16))
		}
	}
	return strings.Join(out, ",")
}

// TestSpellingsAndMutations is the property behind issue 17's items 1 and
// 2: for random valid patients, every spelling the API accepts (members in
// another order, whitespace, a number's other forms, an escaped string,
// null for a field left out, the patient in a batch) gets exactly the
// probability of the canonical spelling; every mutation that changes what
// was meant (a key's case, a key given twice, a fraction in an integer
// field, a value of another JSON type) is refused with a 4xx naming the
// field.
func TestSpellingsAndMutations(t *testing.T) {
	srv := newServer(t, Config{})
	patients := synth.Generate(60, 11)
	rng := rand.New(rand.NewPCG(11, 17))
	ints := map[string]bool{}
	for _, f := range data.CohortFields() {
		if f.Kind == data.KindInt {
			ints[f.Name] = true
		}
	}
	for i := range patients {
		p := &patients[i]
		p.PatientID = fmt.Sprintf("prop-%d", i)
		fields := canonicalPatient(p)
		canon := membersOf(fields)
		status, body := post(t, srv, "/v1/predict", "application/json", writeObject(canon))
		if status != 200 {
			t.Fatalf("patient %d: canonical spelling refused: %d %v", i, status, body)
		}
		want := probabilities(t, body)

		// Spellings of the same patient.
		shuffled := slices.Clone(canon)
		rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		respelled := slices.Clone(shuffled)
		for j, m := range respelled {
			switch v := fields[m.name].(type) {
			case float64:
				if ints[m.name] {
					// 3.0: JSON's same number, as pandas writes an
					// integer column with a gap.
					respelled[j].value = strconv.FormatFloat(v, 'f', 1, 64)
				} else {
					respelled[j].value = strconv.FormatFloat(v, 'e', -1, 64) // 2.4e+01
				}
			case string:
				// The first letter as a \u escape.
				respelled[j].value = fmt.Sprintf(`"\u%04x%s`, v[0], strconv.Quote(v[1:])[1:])
			}
		}
		withNulls := slices.Clone(canon)
		for _, f := range data.CohortFields() {
			if _, given := fields[f.Name]; !given && !f.Outcome && !f.Synthetic {
				withNulls = append(withNulls, member{f.Name, "null"})
			}
		}
		for what, body := range map[string]string{
			"shuffled":          writeObject(shuffled),
			"respelled":         writeObject(respelled),
			"with nulls":        writeObject(withNulls),
			"without spaces":    strings.ReplaceAll(writeObject(canon), ": ", ":"),
			"with new lines":    strings.ReplaceAll(writeObject(canon), ", ", ",\n\t"),
			"in a batch":        `{"patients": [` + writeObject(canon) + `]}`,
			"in a batch, twice": `{"patients": [` + writeObject(canon) + `, ` + writeObject(shuffled) + `]}`,
		} {
			status, got := post(t, srv, "/v1/predict", "application/json; charset=utf-8", body)
			wantHere := want
			if what == "in a batch, twice" {
				wantHere = want + "," + want
			}
			if status != 200 {
				t.Errorf("patient %d %s: %d %v\n%s", i, what, status, got, body)
			} else if probabilities(t, got) != wantHere {
				t.Errorf("patient %d %s: %s, want %s\n%s", i, what, probabilities(t, got), wantHere, body)
			}
		}

		// Mutations: each refused, naming the field.
		k := rng.IntN(len(canon))
		m := canon[k]
		mutated := func(ms ...member) string { return writeObject(ms) }
		with := func(idx int, nm member) []member { c := slices.Clone(canon); c[idx] = nm; return c }
		mutations := map[string]struct {
			body  string
			field string
		}{
			"upper case": {mutated(with(k, member{strings.ToUpper(m.name), m.value})...), strings.ToUpper(m.name)},
			"title case": {mutated(with(k, member{strings.ToUpper(m.name[:1]) + m.name[1:], m.value})...), strings.ToUpper(m.name[:1]) + m.name[1:]},
			"twice":      {mutated(append(slices.Clone(canon), m)...), m.name},
			"twice, another value": {mutated(append(slices.Clone(canon), member{m.name, func() string {
				if m.value == "true" {
					return "false"
				}
				return m.value
			}()})...), m.name},
		}
		switch v := fields[m.name].(type) {
		case float64:
			mutations["a string"] = struct{ body, field string }{mutated(with(k, member{m.name, strconv.Quote(m.value)})...), m.name}
			if ints[m.name] {
				mutations["a fraction"] = struct{ body, field string }{mutated(with(k, member{m.name, strconv.FormatFloat(v+0.5, 'f', -1, 64)})...), m.name}
			}
		case bool:
			mutations["a string"] = struct{ body, field string }{mutated(with(k, member{m.name, strconv.Quote(m.value)})...), m.name}
		case string:
			mutations["a number"] = struct{ body, field string }{mutated(with(k, member{m.name, "1"})...), m.name}
		}
		for what, mu := range mutations {
			status, got := post(t, srv, "/v1/predict", "application/json", mu.body)
			msg, field := errorOf(got)
			if status < 400 || status >= 500 || field != mu.field {
				t.Errorf("patient %d, %s %s: %d %q (field %q), want a 4xx naming %s\n%s", i, m.name, what, status, msg, field, mu.field, mu.body)
			}
		}
	}
}
