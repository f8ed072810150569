package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/fhir"
)

// fhirInputs is a patient without its outcomes and synthetic ground truth.
func fhirInputs(p data.Patient) data.Patient {
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			f.Set(&p, data.Null)
		}
	}
	return p
}

func postRaw(t *testing.T, url, ct string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// riskBundle is the part of a Bundle of RiskAssessments a test reads.
type riskBundle struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Entry        []struct {
		Resource struct {
			ResourceType string `json:"resourceType"`
			Status       string `json:"status"`
			Subject      struct {
				Reference string `json:"reference"`
			} `json:"subject"`
			Method struct {
				Text string `json:"text"`
			} `json:"method"`
			Basis      []struct{ Reference string } `json:"basis"`
			Prediction []struct {
				Outcome struct {
					Coding []struct{ System, Code string } `json:"coding"`
				} `json:"outcome"`
				ProbabilityDecimal json.Number `json:"probabilityDecimal"`
				WhenRange          *struct {
					High struct {
						Value json.Number `json:"value"`
					} `json:"high"`
				} `json:"whenRange"`
			} `json:"prediction"`
			Note []struct{ Text string } `json:"note"`
		} `json:"resource"`
	} `json:"entry"`
}

// TestFHIRPredictMatchesJSON: synthetic patients sent as FHIR Bundles to
// /fhir/r4/$predict get, as RiskAssessments, the probabilities /v1/predict
// gives the same patients sent as JSON, to the last bit (16 patients): each response
// target's probability, and each time-to-event model's event probability
// by 6, 12 and 24 months (one less the survival /v1 gives).
func TestFHIRPredictMatchesJSON(t *testing.T) {
	dir, _ := survivalRegistry(t)
	hs := httptest.NewServer(newServer(t, Config{Registry: dir}).Handler())
	defer hs.Close()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, sp := range synth.Generate(16, 17) {
		p := fhirInputs(sp)
		js, _ := json.Marshal(p)
		status, _, body := postRaw(t, hs.URL+"/v1/predict", "application/json", js)
		if status != 200 {
			t.Fatalf("%s: /v1/predict %d %s", p.PatientID, status, body)
		}
		var v1 struct {
			Predictions []patientPrediction `json:"predictions"`
		}
		if err := json.Unmarshal(body, &v1); err != nil {
			t.Fatal(err)
		}
		want := v1.Predictions[0].Predictions
		bundle, err := fhir.BundleOf(&p, start)
		if err != nil {
			t.Fatal(err)
		}
		status, h, body := postRaw(t, hs.URL+"/fhir/r4/$predict", "application/fhir+json", bundle)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/fhir+json") {
			t.Fatalf("%s: $predict %d %s: %s", p.PatientID, status, h.Get("Content-Type"), body)
		}
		var rb riskBundle
		if err := json.Unmarshal(body, &rb); err != nil {
			t.Fatal(err)
		}
		got := map[string][]float64{}
		for _, e := range rb.Entry {
			ra := e.Resource
			if ra.ResourceType != "RiskAssessment" || ra.Status != "final" || ra.Subject.Reference != "Patient/"+p.PatientID || len(ra.Basis) < 3 ||
				!strings.Contains(ra.Method.Text, "abscopal model") {
				t.Fatalf("%s: %+v", p.PatientID, ra)
			}
			for _, pr := range ra.Prediction {
				x, err := pr.ProbabilityDecimal.Float64()
				if err != nil {
					t.Fatal(err)
				}
				code := pr.Outcome.Coding[0].Code
				got[code] = append(got[code], x)
			}
			if !strings.Contains(ra.Note[0].Text, "synthetic") {
				t.Errorf("%s: notes %v do not say the models were trained on synthetic data", p.PatientID, ra.Note)
			}
		}
		for code, tp := range map[string]targetPrediction{"abscopal-response": want.AbscopalResponse, "objective-response": want.ObjectiveResponse} {
			switch {
			case tp.Probability == nil && len(got[code]) != 0:
				t.Errorf("%s: %s %v where /v1 gives none (%s)", p.PatientID, code, got[code], tp.Reason)
			case tp.Probability != nil && (len(got[code]) != 1 || got[code][0] != *tp.Probability):
				t.Errorf("%s: %s %v, /v1 %v", p.PatientID, code, got[code], *tp.Probability)
			}
		}
		// The Parameters form of $predict, and /v1/predict given the chart
		// as FHIR: the same probability.
		params := []byte(`{"resourceType": "Parameters", "parameter": [{"name": "chart", "resource": ` + string(bundle) + `}]}`)
		_, _, pb := postRaw(t, hs.URL+"/fhir/r4/$predict", "application/fhir+json", params)
		if !bytes.Equal(stripTimes(pb), stripTimes(body)) {
			t.Errorf("%s: the Parameters form answered otherwise:\n%s\n%s", p.PatientID, pb, body)
		}
		status, _, vb := postRaw(t, hs.URL+"/v1/predict", "application/fhir+json", bundle)
		var asV1 struct {
			Predictions []patientPrediction `json:"predictions"`
		}
		json.Unmarshal(vb, &asV1)
		if status != 200 || len(asV1.Predictions) != 1 || !samePtr(asV1.Predictions[0].Predictions.ObjectiveResponse.Probability, want.ObjectiveResponse.Probability) {
			t.Errorf("%s: /v1/predict of the chart: %d %s", p.PatientID, status, vb)
		}
		deaths := got["419620001"]
		if len(deaths) != 3 {
			t.Fatalf("%s: %d probabilities of death, want 3", p.PatientID, len(deaths))
		}
		for k, at := range want.OverallSurvival.Survival {
			if deaths[k] != 1-at.Probability {
				t.Errorf("%s: death by %g months %v, /v1's survival %v", p.PatientID, at.Months, deaths[k], at.Probability)
			}
		}
	}
}

// TestFHIRPredictRefuses: what is not a chart, or says what the schema
// refuses, is answered with an OperationOutcome naming the resource and
// element, with the right status.
func TestFHIRPredictRefuses(t *testing.T) {
	dir, _ := survivalRegistry(t)
	hs := httptest.NewServer(newServer(t, Config{Registry: dir, Tokens: []Token{{Client: "ehr", Secret: "secret-token-0123456789"}}}).Handler())
	defer hs.Close()
	p := fhirInputs(synth.Generate(1, 3)[0])
	good, _ := fhir.BundleOf(&p, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	// A PD-L1 score of 140%: out of the schema's range, named with the
	// Observation it came from.
	pdl1 := strings.Replace(string(good), `"code":"83053-9"`, `"code":"83053-9"`, 1)
	var bad string
	if i := strings.Index(pdl1, `83053-9`); i >= 0 {
		j := strings.Index(pdl1[i:], `"value":`) + i + len(`"value":`)
		k := strings.IndexAny(pdl1[j:], ",}") + j
		bad = pdl1[:j] + "140" + pdl1[k:]
	}
	for _, tc := range []struct {
		name, ct, body string
		token          bool
		status         int
		code, expr     string
		says           string
	}{
		{"no token", "application/fhir+json", string(good), false, 401, "processing", "", "token"},
		{"not FHIR JSON", "application/fhir+json", `{"resourceType": "Bundle",`, true, 400, "structure", "Bundle", "not FHIR R4 JSON"},
		{"a Patient, not a Bundle", "application/fhir+json", `{"resourceType": "Patient", "id": "x"}`, true, 400, "structure", "Patient.resourceType", "want a Bundle"},
		{"text", "text/plain", string(good), true, 415, "processing", "", "application/fhir+json"},
		{"out of range", "application/fhir+json", bad, true, 422, "invalid", "Observation", "pdl1_tps"},
	} {
		if tc.name == "out of range" && bad == "" {
			t.Fatal("the synthetic patient has no PD-L1 observation to spoil")
		}
		req, _ := http.NewRequest("POST", hs.URL+"/fhir/r4/$predict", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.ct)
		if tc.token {
			req.Header.Set("Authorization", "Bearer secret-token-0123456789")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var oo struct {
			ResourceType string `json:"resourceType"`
			Issue        []struct {
				Severity, Code, Diagnostics string
				Expression                  []string
			} `json:"issue"`
		}
		json.NewDecoder(resp.Body).Decode(&oo)
		resp.Body.Close()
		if resp.StatusCode != tc.status || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 || oo.Issue[0].Code != tc.code ||
			!strings.Contains(oo.Issue[0].Diagnostics, tc.says) || (tc.expr != "" && (len(oo.Issue[0].Expression) != 1 || oo.Issue[0].Expression[0] != tc.expr)) {
			t.Errorf("%s: %d %+v, want %d %s at %q saying %q", tc.name, resp.StatusCode, oo, tc.status, tc.code, tc.expr, tc.says)
		}
	}
}

// TestFHIRCompareRegimens: $compare-regimens answers one RiskAssessment
// per default regimen, in /v1/regimens/compare's order for the same
// patient sent as JSON, with its probabilities to the last bit.
func TestFHIRCompareRegimens(t *testing.T) {
	hs := httptest.NewServer(newServer(t, Config{}).Handler())
	defer hs.Close()
	p := fhirInputs(synth.Generate(5, 41)[4])
	js, _ := json.Marshal(map[string]any{"patient": p})
	_, _, body := postRaw(t, hs.URL+"/v1/regimens/compare", "application/json", js)
	var cmp struct {
		Regimens []struct {
			Rank        int
			Regimen     struct{ Label string }
			Predictions struct {
				ObjectiveResponse targetPrediction `json:"objective_response"`
			}
		}
	}
	if err := json.Unmarshal(body, &cmp); err != nil {
		t.Fatal(err)
	}
	bundle, _ := fhir.BundleOf(&p, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	status, _, body := postRaw(t, hs.URL+"/fhir/r4/$compare-regimens", "application/fhir+json", bundle)
	var rb struct {
		Entry []struct {
			Resource struct {
				Code       struct{ Text string }
				Prediction []struct {
					Outcome struct {
						Coding []struct{ Code string }
					}
					ProbabilityDecimal json.Number `json:"probabilityDecimal"`
				}
			}
		}
	}
	if err := json.Unmarshal(body, &rb); status != 200 || err != nil || len(rb.Entry) != len(cmp.Regimens) || len(cmp.Regimens) != len(DefaultRegimens) {
		t.Fatalf("%d %v: %d RiskAssessments for %d regimens\n%s", status, err, len(rb.Entry), len(cmp.Regimens), body)
	}
	for i, r := range cmp.Regimens {
		ra := rb.Entry[i].Resource
		want := fmt.Sprintf("%s (rank %d)", r.Regimen.Label, r.Rank)
		got, _ := ra.Prediction[0].ProbabilityDecimal.Float64()
		if !strings.HasSuffix(ra.Code.Text, want) || ra.Prediction[0].Outcome.Coding[0].Code != "objective-response" || got != *r.Predictions.ObjectiveResponse.Probability {
			t.Errorf("RiskAssessment %d: %q, objective response %v; /v1: %s, %v", i+1, ra.Code.Text, got, want, *r.Predictions.ObjectiveResponse.Probability)
		}
	}
}

// stripTimes blanks a Bundle's occurrence times, the one part of two
// answers that differs between calls.
func stripTimes(b []byte) []byte {
	return regexp.MustCompile(`"occurrenceDateTime":"[^"]*"`).ReplaceAll(b, nil)
}

func samePtr(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
