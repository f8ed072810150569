package api

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRateLimiterBuckets drives the buckets on a clock of the test's own:
// a burst, then one request per 1/rate seconds; each key on its own; the
// refilled buckets forgotten when too many are kept.
func TestRateLimiterBuckets(t *testing.T) {
	l := newRateLimiter(2, 0) // burst: the rate rounded up, 2
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		key  string
		at   time.Duration
		ok   bool
		wait time.Duration
	}{
		{"a", 0, true, 0},
		{"a", 0, true, 0},
		{"a", 0, false, 500 * time.Millisecond}, // a token every 0.5 s
		{"b", 0, true, 0},                       // b has its own bucket
		{"a", 200 * time.Millisecond, false, 300 * time.Millisecond},
		{"a", 500 * time.Millisecond, true, 0},
		{"a", 500 * time.Millisecond, false, 500 * time.Millisecond}, // a refusal took no token
	} {
		ok, wait := l.allow(tt.key, t0.Add(tt.at))
		if ok != tt.ok || wait != tt.wait {
			t.Errorf("%d: %s at %v: %v, wait %v; want %v, wait %v", i, tt.key, tt.at, ok, wait, tt.ok, tt.wait)
		}
	}
	for i := range maxLimited - 2 {
		l.allow("address "+strconv.Itoa(i), t0)
	}
	if n := len(l.buckets); n != maxLimited {
		t.Fatalf("%d buckets, want %d", n, maxLimited)
	}
	// Ten seconds on, every bucket has refilled: a new client makes room
	// by forgetting them, and then its bucket is kept.
	t1 := t0.Add(10 * time.Second)
	l.allow("busy", t1)
	l.allow("busy", t1)
	if n := len(l.buckets); n != 1 {
		t.Errorf("%d buckets after the idle ones were forgotten, want 1", n)
	}
	if ok, _ := l.allow("busy", t1); ok {
		t.Error("the busy client's bucket was reset")
	}
	// A flood of addresses, each bucket in use: all are forgotten.
	for i := range maxLimited - 1 {
		l.allow("flood "+strconv.Itoa(i), t1)
	}
	l.allow("one more", t1)
	if ok, _ := l.allow("busy", t1); len(l.buckets) != 2 || !ok {
		t.Errorf("after a flood: %d buckets, busy allowed %v; want 2 and a fresh bucket", len(l.buckets), ok)
	}
}

// TestRateLimit: over its rate a client gets 429 with Retry-After (in the
// OpenAPI document's error envelope), other clients and the probes do not;
// without tokens clients are told apart by address, as are requests with a
// bad token; /metrics counts the refusals by client.
func TestRateLimit(t *testing.T) {
	s := newServer(t, Config{RateLimit: 0.01, RateBurst: 2, MetricsPublic: true, Tokens: []Token{{Client: "ehr", Secret: "tok-ehr"}, {Client: "lab", Secret: "tok-lab"}}})
	c := newClient(t, s)
	c.token = "tok-ehr"
	for i := range 2 {
		if status, _ := c.do("GET", "/v1/schema", "", true); status != 200 {
			t.Fatalf("request %d within the burst: %d", i+1, status)
		}
	}
	status, body := c.do("POST", "/v1/predict", sbrtPatient, true)
	e, _ := body["error"].(map[string]any)
	if status != 429 || e["code"] != "rate_limited" || !strings.Contains(e["message"].(string), "over 0.01 requests per second (burst 2) from this client; retry after 100 s") {
		t.Errorf("over the rate: %d %v", status, body)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v2/models/response", nil)
	req.Header.Set("Authorization", "Bearer tok-ehr")
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "100" {
		t.Errorf("/v2 over the rate: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	c.token = "tok-lab"
	if status, _ := c.do("GET", "/v1/models", "", true); status != 200 {
		t.Errorf("another client: %d", status)
	}
	c.token = ""
	for range 5 {
		if status, _ := c.do("GET", "/readyz", "", true); status != 200 {
			t.Errorf("a probe was limited: %d", status)
		}
	}
	// Bad tokens spend their address's bucket: guessing goes no faster
	// than the limit, and the named clients at that address are not held up.
	c.token = "guess"
	for i, want := range []int{401, 401, 429, 429} {
		if status, body := c.do("GET", "/v1/models", "", true); status != want {
			t.Errorf("bad token %d: %d %v, want %d", i+1, status, body, want)
		}
	}
	c.token = "tok-lab"
	if status, _ := c.do("GET", "/v1/models", "", true); status != 200 {
		t.Errorf("a named client at the guessing address: %d", status)
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `abscopal_rate_limited_total{client=""} 2`) {
		t.Errorf("/metrics lacks the refusals of the bad tokens:\n%s", grepLines(rec.Body.String(), "rate_limited"))
	}
	if !strings.Contains(rec.Body.String(), `abscopal_rate_limited_total{client="ehr"} 2`) {
		t.Errorf("/metrics lacks the refusals of ehr:\n%s", grepLines(rec.Body.String(), "rate_limited"))
	}

	open := newServer(t, Config{RateLimit: 0.01, RateBurst: 1})
	oc := newClient(t, open)
	if status, _ := oc.do("GET", "/v1/schema", "", true); status != 200 {
		t.Errorf("first request without tokens: %d", status)
	}
	if status, _ := oc.do("GET", "/v1/schema", "", true); status != 429 {
		t.Errorf("second request from the same address: %d", status)
	}

	for _, cfg := range []Config{{RateLimit: -1}, {RateLimit: 1, RateBurst: -2}} {
		cfg.Registry = sharedRegistry(t)
		if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "rate limit") {
			t.Errorf("%+v: err = %v", cfg, err)
		}
	}
}

// grepLines returns the lines of s that hold sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
