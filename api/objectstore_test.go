package api

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/s3test"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/s3store"
)

// TestServeFromObjectStore: a server over a registry in a real
// S3-compatible store serves its models, reloads when another process
// publishes and moves an alias, and, while the store is down, keeps serving
// what it loaded and says so in /readyz and /metrics.
func TestServeFromObjectStore(t *testing.T) {
	store := s3test.Need(t, s3server, s3err)
	proxy := store.Proxy(t)
	getenv := func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return proxy.Endpoint
		}
		return store.Getenv(k)
	}
	url := store.URL(t)
	st, err := s3store.Open(t.Context(), url, s3store.Config{Getenv: getenv})
	if err != nil {
		t.Fatal(err)
	}
	// The shared registry's models, published to the store.
	local := &models.Registry{Dir: sharedRegistry(t)}
	remote := &models.Registry{Store: st, Actor: "test"}
	for _, name := range []string{"abscopal", "response"} {
		files, err := local.ReadVerified(name, "v1")
		if err != nil {
			t.Fatal(err)
		}
		delete(files, "MANIFEST")
		if _, err := remote.Publish(name, files); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(Config{Registry: url, Store: st, WatchInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, srv)
	if _, ready := get(t, srv, "GET", "/readyz", ""); ready["status"] != "ready" || ready["models"] != 2.0 {
		t.Fatalf("/readyz over S3: %v", ready)
	}
	status, body := post(t, srv, "/v1/predict", "application/json", sbrtPatient)
	if a := prediction(t, body, 0, "abscopal_response"); status != 200 || a["version"] != "v1" {
		t.Fatalf("predict over S3: %d %v", status, a)
	}

	// Another process (another handle on the bucket) publishes v2 and
	// makes it production.
	other, err := s3store.Open(t.Context(), url, s3store.Config{Getenv: store.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	publisher := &models.Registry{Store: other, Actor: "ci"}
	files, _ := local.ReadVerified("abscopal", "v1")
	delete(files, "MANIFEST")
	v2, err := publisher.Publish("abscopal", files)
	if err != nil || v2 != "v2" {
		t.Fatalf("publish v2: %s %v", v2, err)
	}
	if err := publisher.SetAlias("abscopal", "production", v2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "v2 served after its publish to the bucket", func() bool {
		_, body := post(t, srv, "/v1/predict", "application/json", sbrtPatient)
		return prediction(t, body, 0, "abscopal_response")["version"] == "v2"
	})

	// The store goes down: the models loaded serve on, /readyz and
	// /metrics say the registry cannot be read.
	proxy.Cut()
	var down map[string]any
	waitFor(t, "/readyz reports the store down", func() bool {
		_, down = get(t, srv, "GET", "/readyz", "")
		return down["registry"] != nil
	})
	if r, _ := down["registry"].(map[string]any); down["status"] != "degraded" || r["status"] != "unreachable" {
		t.Errorf("/readyz with the store down: %v", down)
	}
	if b, _ := json.Marshal(down); strings.Contains(string(b), "127.0.0.1") {
		t.Errorf("/readyz leaks the store's address: %v", down)
	}
	status, body = post(t, srv, "/v1/predict", "application/json", sbrtPatient)
	if a := prediction(t, body, 0, "abscopal_response"); status != 200 || a["version"] != "v2" {
		t.Errorf("predict with the store down: %d %v", status, a)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(rec.Body.String(), "abscopal_registry_reachable 0") {
		t.Errorf("/metrics with the store down: %s", grepLines(rec.Body.String(), "abscopal_registry_reachable"))
	}

	proxy.Restore(t)
	waitFor(t, "/readyz ready once the store is back", func() bool {
		_, ready := get(t, srv, "GET", "/readyz", "")
		return ready["status"] == "ready" && ready["registry"] == nil
	})
}
