package api

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsApart: with MetricsApart, the API's listener does not serve
// /metrics (a client of the API would read the clients' names in it);
// ServeMetrics serves it, and only it, on a listener of its own, and stops
// cleanly with its context.
func TestMetricsApart(t *testing.T) {
	s := newServer(t, Config{MetricsApart: true})
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("/metrics on the API: %d, want 404", rec.Code)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeMetrics(ctx, ln) }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "abscopal_build_info") || !strings.Contains(body, "abscopal_model_info") {
		t.Errorf("/metrics apart: %d\n%.300s", code, body)
	}
	for _, path := range []string{"/v1/models", "/healthz"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("%s on the metrics listener: %d, want 404", path, code)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeMetrics after its context ended: %v", err)
	}

	// Without MetricsApart, /metrics is the API's, as before.
	rec = httptest.NewRecorder()
	newServer(t, Config{}).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "abscopal_build_info") {
		t.Errorf("/metrics on the API by default: %d", rec.Code)
	}
}
