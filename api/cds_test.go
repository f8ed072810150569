package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/abscopal/abscopal/cdshooks"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/fhir"
)

// chartResources splits a chart Bundle into its resources by type.
func chartResources(t *testing.T, bundle []byte) map[string][]json.RawMessage {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]json.RawMessage{}
	for _, e := range b.Entry {
		var h struct{ ResourceType string }
		json.Unmarshal(e.Resource, &h)
		out[h.ResourceType] = append(out[h.ResourceType], e.Resource)
	}
	return out
}

// searchset is a search's answer Bundle.
func searchset(rs []json.RawMessage, next string) json.RawMessage {
	entries := make([]map[string]json.RawMessage, len(rs))
	for i, r := range rs {
		entries[i] = map[string]json.RawMessage{"resource": r}
	}
	b := map[string]any{"resourceType": "Bundle", "type": "searchset", "entry": entries}
	if next != "" {
		b["link"] = []map[string]string{{"relation": "next", "url": next}}
	}
	raw, _ := json.Marshal(b)
	return raw
}

// prefetchOf is the prefetch an EHR sends for a chart, key by key.
func prefetchOf(t *testing.T, bundle []byte) map[string]json.RawMessage {
	rs := chartResources(t, bundle)
	return map[string]json.RawMessage{
		"patient":                   rs["Patient"][0],
		"observations":              searchset(rs["Observation"], ""),
		"conditions":                searchset(rs["Condition"], ""),
		"medicationAdministrations": searchset(rs["MedicationAdministration"], ""),
		"medicationRequests":        searchset(nil, ""),
		"radiotherapy":              searchset(rs["Procedure"], ""),
	}
}

func cdsRequest(hook, patientID string, prefetch map[string]json.RawMessage, extra map[string]any) string {
	req := map[string]any{"hook": hook, "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
		"context": map[string]any{"userId": "Practitioner/example", "patientId": patientID}}
	if prefetch != nil {
		req["prefetch"] = prefetch
	}
	for k, v := range extra {
		req[k] = v
	}
	b, _ := json.Marshal(req)
	return string(b)
}

// patientsFor draws synthetic patients, without outcomes, and picks one
// with every key input and one without an MHC-I status.
func patientsFor(t *testing.T) (complete, noMHC data.Patient) {
	t.Helper()
	var haveC, haveN bool
	for _, p := range synth.Generate(200, 23) {
		p = fhirInputs(p)
		key := p.PDL1TPS != nil && p.ALC != nil && p.HadRT()
		switch {
		case key && p.MHC1Status != nil && !haveC:
			complete, haveC = p, true
		case key && p.MHC1Status == nil && !haveN:
			noMHC, haveN = p, true
		}
	}
	if !haveC || !haveN {
		t.Fatal("no synthetic patients of both kinds")
	}
	return complete, noMHC
}

var cardRow = func(label string) string { return "| " + label + " | " }

// TestCDSPatientView: the patient-view service, called with the chart
// prefetched, answers one card that conforms to CDS Hooks (the OpenAPI
// document's shapes, from the specification's logical model): its table
// holds /v1/predict's probabilities for the same patient sent as JSON, the
// regimens ranked as /v1/regimens/compare ranks them, what was imputed;
// a warning when a key input is missing, info otherwise; a summary under
// 140 characters that says the models were trained on synthetic data.
func TestCDSPatientView(t *testing.T) {
	c := newClient(t, newServer(t, Config{UI: true}))
	complete, noMHC := patientsFor(t)
	for _, tc := range []struct {
		p         data.Patient
		indicator string
	}{{complete, "info"}, {noMHC, "warning"}} {
		bundle, _ := fhir.BundleOf(&tc.p, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		status, body := c.do("POST", "/cds-services/"+cdsPatientView, cdsRequest("patient-view", tc.p.PatientID, prefetchOf(t, bundle), nil), true)
		if status != 200 {
			t.Fatalf("%s: %d %v", tc.p.PatientID, status, body)
		}
		cards := body["cards"].([]any)
		if len(cards) != 1 {
			t.Fatalf("%d cards", len(cards))
		}
		card := cards[0].(map[string]any)
		summary, detail := card["summary"].(string), card["detail"].(string)
		js, _ := json.Marshal(tc.p)
		_, v1 := c.do("POST", "/v1/predict", string(js), true)
		orr := prediction(t, v1, 0, "objective_response")["probability"].(float64)
		if card["indicator"] != tc.indicator || !strings.HasPrefix(summary, "SYNTHETIC model") || len([]rune(summary)) >= 140 ||
			!strings.Contains(summary, fmt.Sprintf("Objective response %.0f%%", 100*orr)) ||
			!strings.Contains(detail, cardRow("Objective response")+fmt.Sprintf("%.0f%%", 100*orr)) {
			t.Errorf("%s: %s card %q; /v1 objective response %v\n%s", tc.p.PatientID, card["indicator"], summary, orr, detail)
		}
		if tc.indicator == "warning" && (!strings.Contains(summary, "Missing mhc1_status") || !strings.Contains(detail, "imputed:** ") || !strings.Contains(detail, "mhc1_status")) {
			t.Errorf("%s: the missing MHC-I status is not said: %q\n%s", tc.p.PatientID, summary, detail)
		}
		// The regimens in /v1/regimens/compare's order.
		_, cmp := c.do("POST", "/v1/regimens/compare", `{"patient": `+string(js)+`}`, true)
		at := 0
		for _, r := range cmp["regimens"].([]any) {
			label := r.(map[string]any)["regimen"].(map[string]any)["label"].(string)
			rank := int(r.(map[string]any)["rank"].(float64))
			i := strings.Index(detail, "| "+strconv.Itoa(rank)+" | "+label+" |")
			if i < at {
				t.Errorf("%s: regimen %d %q not in the card's ranking in order\n%s", tc.p.PatientID, rank, label, detail)
			}
			at = i
		}
		links := card["links"].([]any)
		src := card["source"].(map[string]any)
		if len(links) != 1 || !strings.HasSuffix(links[0].(map[string]any)["url"].(string), "/") || !strings.Contains(src["url"].(string), "/v1/models/response/files/card.html") {
			t.Errorf("links %v, source %v", links, src)
		}
	}
}

// fhirTestServer is a FHIR server holding one chart: it reads the Patient
// by id and answers searches by resource type (Observations in pages of
// four, with next links), and counts the calls that bore the token.
type fhirTestServer struct {
	*httptest.Server
	authorized, calls atomic.Int64
}

func newFHIRTestServer(t *testing.T, bundle []byte, token string, tls bool) *fhirTestServer {
	rs := chartResources(t, bundle)
	fs := &fhirTestServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fs.calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fs.authorized.Add(1)
		w.Header().Set("Content-Type", "application/fhir+json")
		typ := strings.TrimPrefix(r.URL.Path, "/fhir/")
		if id, ok := strings.CutPrefix(typ, "Patient/"); ok {
			var p struct{ ID string }
			json.Unmarshal(rs["Patient"][0], &p)
			if id != p.ID {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.Write(rs["Patient"][0])
			return
		}
		if r.URL.Query().Get("patient") == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		all := rs[typ]
		page, _ := strconv.Atoi(r.URL.Query().Get("_page"))
		if typ != "Observation" {
			w.Write(searchset(all, ""))
			return
		}
		from, to := page*4, min(len(all), page*4+4)
		next := ""
		if to < len(all) {
			q := r.URL.Query()
			q.Set("_page", strconv.Itoa(page+1))
			next = "http://" + r.Host + r.URL.Path + "?" + q.Encode()
			if r.TLS != nil {
				next = "https://" + r.Host + r.URL.Path + "?" + q.Encode()
			}
		}
		w.Write(searchset(all[from:to], next))
	})
	if tls {
		fs.Server = httptest.NewTLSServer(h)
	} else {
		fs.Server = httptest.NewServer(h)
	}
	t.Cleanup(fs.Close)
	return fs
}

// TestCDSFetchesFromFHIRServer: without prefetch, the service fetches the
// chart from the EHR's FHIR server (a local test server over TLS) with the
// access token it was given, following a search's pages, and answers the
// card the prefetched chart gives. An http:// server is refused unless
// allowed; no prefetch and no server, or a server that refuses the token,
// is 412.
func TestCDSFetchesFromFHIRServer(t *testing.T) {
	complete, _ := patientsFor(t)
	bundle, _ := fhir.BundleOf(&complete, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	fs := newFHIRTestServer(t, bundle, "ehr-access-token", true)
	c := newClient(t, newServer(t, Config{FHIRClient: fs.Client()}))
	auth := map[string]any{"access_token": "ehr-access-token", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "abscopal"}
	fetched := cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": fs.URL + "/fhir", "fhirAuthorization": auth})
	status, body := c.do("POST", "/cds-services/"+cdsPatientView, fetched, true)
	if status != 200 {
		t.Fatalf("fetched: %d %v", status, body)
	}
	_, pre := c.do("POST", "/cds-services/"+cdsPatientView, cdsRequest("patient-view", complete.PatientID, prefetchOf(t, bundle), nil), true)
	detail := func(b map[string]any) string { return b["cards"].([]any)[0].(map[string]any)["detail"].(string) }
	if detail(body) != detail(pre) {
		t.Errorf("the card from the FHIR server differs from the prefetched one's:\n%s\n---\n%s", detail(body), detail(pre))
	}
	obs := len(chartResources(t, bundle)["Observation"])
	if want := int64(6 + (obs-1)/4); fs.authorized.Load() != want || obs <= 4 {
		t.Errorf("%d authorized calls for %d observations, want %d (six queries, the observations' pages)", fs.authorized.Load(), obs, want)
	}

	plain := newFHIRTestServer(t, bundle, "ehr-access-token", false)
	for _, tc := range []struct {
		name   string
		body   string
		cfg    Config
		status int
		says   string
	}{
		{"http refused", cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": plain.URL + "/fhir", "fhirAuthorization": auth}), Config{}, 400, "is not https"},
		{"http allowed", cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": plain.URL + "/fhir", "fhirAuthorization": auth}), Config{CDSAllowHTTP: true}, 200, ""},
		{"a server not listed", cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": fs.URL + "/fhir", "fhirAuthorization": auth}),
			Config{FHIRClient: fs.Client(), CDSFHIRServers: []string{fs.URL + "/fhi", "https://ehr.example.org/fhir"}}, 400, "is not one this service fetches from"},
		{"a server listed", cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": fs.URL + "/fhir/", "fhirAuthorization": auth}),
			Config{FHIRClient: fs.Client(), CDSFHIRServers: []string{fs.URL + "/fhir"}}, 200, ""},
		{"no prefetch, no server", cdsRequest("patient-view", complete.PatientID, nil, nil), Config{}, 412, "names no fhirServer"},
		{"a token the server refuses", cdsRequest("patient-view", complete.PatientID, nil, map[string]any{"fhirServer": fs.URL + "/fhir",
			"fhirAuthorization": map[string]any{"access_token": "stale", "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "abscopal"}}),
			Config{FHIRClient: fs.Client()}, 412, "401 Unauthorized"},
		{"another hook", cdsRequest("order-sign", complete.PatientID, prefetchOf(t, bundle), nil), Config{}, 400, "answers patient-view"},
		{"another patient", cdsRequest("patient-view", "someone-else", prefetchOf(t, bundle), nil), Config{}, 400, "is not context.patientId"},
	} {
		c := newClient(t, newServer(t, tc.cfg))
		status, body := c.do("POST", "/cds-services/"+cdsPatientView, tc.body, true)
		if status != tc.status || !strings.Contains(fmt.Sprint(body), tc.says) {
			t.Errorf("%s: %d %v, want %d saying %q", tc.name, status, body, tc.status, tc.says)
		}
	}
}

// TestCDSOrderSelect: on order-select, a draft order of a checkpoint
// inhibitor is the treatment asked about, and the card ranks the
// regimens to choose from.
func TestCDSOrderSelect(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	complete, _ := patientsFor(t)
	bundle, _ := fhir.BundleOf(&complete, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	pre := prefetchOf(t, bundle)
	pre["medicationAdministrations"] = searchset(nil, "") // nothing given yet
	draft := json.RawMessage(`{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "MedicationRequest", "id": "draft-1",
		"status": "draft", "intent": "order", "subject": {"reference": "Patient/` + complete.PatientID + `"},
		"medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1597876"}]}}}]}`)
	req := cdsRequest("order-select", complete.PatientID, pre, nil)
	var m map[string]any
	json.Unmarshal([]byte(req), &m)
	m["context"].(map[string]any)["draftOrders"] = draft
	m["context"].(map[string]any)["selections"] = []string{"MedicationRequest/draft-1"}
	b, _ := json.Marshal(m)
	status, body := c.do("POST", "/cds-services/"+cdsOrderSelect, string(b), true)
	if status != 200 || !strings.Contains(fmt.Sprint(body), "The regimens to choose from") {
		t.Fatalf("order-select: %d %v", status, body)
	}
	// Without the draft, no checkpoint inhibitor: the chart is refused.
	status, body = c.do("POST", "/cds-services/"+cdsOrderSelect, cdsRequest("order-select", complete.PatientID, pre, nil), true)
	if status != 422 || !strings.Contains(fmt.Sprint(body), "no checkpoint inhibitor") {
		t.Errorf("order-select without a draft: %d %v", status, body)
	}
}

// TestCDSFeedback: accepted and overridden cards counted by service and
// outcome; feedback that is not CDS Hooks' refused.
func TestCDSFeedback(t *testing.T) {
	srv := newServer(t, Config{})
	c := newClient(t, srv)
	fb := `{"feedback": [{"card": "9368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "accepted", "outcomeTimestamp": "2026-12-07T10:00:00Z"},
		{"card": "1368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden", "outcomeTimestamp": "2026-12-07T10:01:00Z"},
		{"card": "2368d37b-283f-44a0-93ea-547cebab93ed", "outcome": "overridden", "outcomeTimestamp": "2026-12-07T10:02:00Z"}]}`
	if status, body := c.do("POST", "/cds-services/"+cdsPatientView+"/feedback", fb, true); status != 200 {
		t.Fatalf("feedback: %d %v", status, body)
	}
	metrics := scrape(t, srv)
	for _, want := range []string{
		`abscopal_cds_feedback_total{outcome="accepted",service="abscopal-radioimmunotherapy"} 1`,
		`abscopal_cds_feedback_total{outcome="overridden",service="abscopal-radioimmunotherapy"} 2`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if status, body := c.do("POST", "/cds-services/"+cdsPatientView+"/feedback", `{"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-12-07T10:00:00Z"}]}`, false); status != 400 ||
		!strings.Contains(fmt.Sprint(body), "feedback[0].outcome") {
		t.Errorf("an outcome not CDS Hooks': %d %v", status, body)
	}
	if status, _ := c.do("POST", "/cds-services/nope/feedback", fb, false); status != 404 {
		t.Errorf("feedback to no service: %d", status)
	}
}

// scrape reads the server's metrics.
func scrape(t *testing.T, srv *Server) string {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestCDSJWT: with a trusted issuer, a call needs the EHR's JSON Web Token
// as CDS Hooks 2.0 says (ES384 or RS384 by a key of the issuer's JWKS,
// aud the URL called, exp within five minutes, a jti used once); each
// failure is 401 saying which check failed, and the bearer tokens of /v1
// do not stand in for it.
func TestCDSJWT(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "ehr-2026", Algorithm: string(jose.ES384), Use: "sig"}}})
	path := filepath.Join(t.TempDir(), "jwks.json")
	os.WriteFile(path, jwks, 0o600)
	srv := newServer(t, Config{CDSIssuers: []cdshooks.Issuer{{Issuer: "https://ehr.example.org", JWKS: path}}, Tokens: []Token{{Client: "app", Secret: "v1-token"}}})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	complete, _ := patientsFor(t)
	bundle, _ := fhir.BundleOf(&complete, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	body := cdsRequest("patient-view", complete.PatientID, prefetchOf(t, bundle), nil)
	url := hs.URL + "/cds-services/" + cdsPatientView
	sign := func(alg jose.SignatureAlgorithm, k any, kid string, claims jwt.Claims) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(signer).Claims(claims).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now()
	claims := func(jti string, mod func(*jwt.Claims)) jwt.Claims {
		c := jwt.Claims{Issuer: "https://ehr.example.org", Subject: "ehr-client", Audience: jwt.Audience{url}, ID: jti,
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(4 * time.Minute))}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	good := sign(jose.ES384, key, "ehr-2026", claims("jti-1", nil))
	for _, tc := range []struct {
		name, auth string
		status     int
		says       string
	}{
		{"a good token", "Bearer " + good, 200, ""},
		{"the same token again", "Bearer " + good, 401, "replayed"},
		{"no token", "", 401, "no bearer token"},
		{"the /v1 bearer token", "Bearer v1-token", 401, "not a JSON Web Token"},
		{"another audience", "Bearer " + sign(jose.ES384, key, "ehr-2026", claims("jti-2", func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://elsewhere/cds-services/x"} })), 401, "aud is not"},
		{"expired", "Bearer " + sign(jose.ES384, key, "ehr-2026", claims("jti-3", func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Minute)) })), 401, "expired"},
		{"an hour to live", "Bearer " + sign(jose.ES384, key, "ehr-2026", claims("jti-4", func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(time.Hour)) })), 401, "more than 5m0s ahead"},
		{"no jti", "Bearer " + sign(jose.ES384, key, "ehr-2026", claims("", nil)), 401, "no jti"},
		{"an untrusted issuer", "Bearer " + sign(jose.ES384, key, "ehr-2026", claims("jti-5", func(c *jwt.Claims) { c.Issuer = "https://evil.example" })), 401, "is not trusted"},
		{"another key", "Bearer " + sign(jose.ES384, other, "ehr-2026", claims("jti-6", nil)), 401, "does not verify"},
		{"RS256", "Bearer " + sign(jose.RS256, rsaKey, "ehr-2026", claims("jti-7", nil)), 401, "ES384 or RS384"},
	} {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(fmt.Sprint(out), tc.says) {
			t.Errorf("%s: %d %v, want %d saying %q", tc.name, resp.StatusCode, out, tc.status, tc.says)
		}
	}
	// Discovery needs no token.
	resp, err := http.Get(hs.URL + "/cds-services")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("discovery: %v %v", resp.StatusCode, err)
	}
}

// TestCDSDiscovery: two services, on patient-view and order-select, whose
// prefetch templates ask for what the FHIR mapping reads, conforming to
// the OpenAPI document's CDS Hooks shape.
func TestCDSDiscovery(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	status, body := c.do("GET", "/cds-services", "", true)
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	hooks := map[string]string{}
	for _, s := range body["services"].([]any) {
		sv := s.(map[string]any)
		hooks[sv["hook"].(string)] = sv["id"].(string)
		pf := sv["prefetch"].(map[string]any)
		if pf["patient"] != "Patient/{{context.patientId}}" || !strings.Contains(pf["observations"].(string), "http://loinc.org|83053-9") {
			t.Errorf("%s: prefetch %v", sv["id"], pf)
		}
	}
	if hooks["patient-view"] != cdsPatientView || hooks["order-select"] != cdsOrderSelect {
		t.Errorf("services %v", hooks)
	}
}
