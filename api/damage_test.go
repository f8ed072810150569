package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
	"github.com/abscopal/abscopal/models"
)

// copyRegistry copies the shared registry (abscopal and response, v1 each)
// to a directory of the test's own, to damage.
func copyRegistry(t *testing.T) string {
	t.Helper()
	src, dst := sharedRegistry(t), filepath.Join(t.TempDir(), "registry")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// get answers a GET (or HEAD) of path on srv's handler, with token as the
// bearer token if set.
func get(t *testing.T, srv *Server, method, path, token string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var out map[string]any
	if method != http.MethodHead && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return rec.Code, out
}

// problems returns /readyz's problems by model (or target).
func problems(body map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	ps, _ := body["problems"].([]any)
	for _, p := range ps {
		pm := p.(map[string]any)
		key, _ := pm["model"].(string)
		if tg, ok := pm["target"].(string); ok {
			key = tg
		}
		out[key] = pm
	}
	return out
}

// waitFor polls cond every 20 ms until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// flipByte flips a byte of path, keeping its size; mtime, if not zero, is
// then set as its modification time.
func flipByte(t *testing.T, path string, mtime time.Time) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		os.Chtimes(path, mtime, mtime)
	}
}

// TestPerModelLoading (issue 17, item 6): one version without its MANIFEST
// no longer keeps every model from being served. The intact model serves;
// /readyz is 200 "degraded" and names the broken one; a required broken
// model makes the server not ready, as --require-models says.
func TestPerModelLoading(t *testing.T) {
	dir := copyRegistry(t)
	if err := os.Remove(filepath.Join(dir, "response", "v1", "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	srv := newServer(t, Config{Registry: dir})
	status, body := post(t, srv, "/v1/predict", "application/json", sbrtPatient)
	if a := prediction(t, body, 0, "abscopal_response"); status != 200 || a["model"] != "abscopal" || a["probability"] == nil {
		t.Errorf("the intact model: %d %v", status, a)
	}
	if o := prediction(t, body, 0, "objective_response"); o["probability"] != nil {
		t.Errorf("the broken model answered: %v", o)
	}
	c := newClient(t, srv)
	status, ready := c.do("GET", "/readyz", "", true)
	p := problems(ready)["response"]
	if status != 200 || ready["status"] != "degraded" || ready["models"] != 1.0 || p == nil || p["failed_version"] != "v1" ||
		p["serving_version"] != nil || !strings.Contains(fmt.Sprint(p["reason"]), "do not match its MANIFEST") || p["since"] == nil {
		t.Errorf("/readyz: %d %v", status, ready)
	}
	if strings.Contains(fmt.Sprint(ready), dir) {
		t.Errorf("/readyz, which answers without a token, names the registry's path: %v", ready)
	}
	_, list := c.do("GET", "/v1/models", "", true)
	if ms := list["models"].([]any); len(ms) != 1 || problems(list)["response"] == nil {
		t.Errorf("/v1/models: %v", list)
	}
	required := newServer(t, Config{Registry: dir, Require: []string{"response"}})
	if status, ready := get(t, required, "GET", "/readyz", ""); status != 503 || ready["status"] != "not ready" || !strings.Contains(fmt.Sprint(ready["reason"]), "response") {
		t.Errorf("/readyz with response required: %d %v", status, ready)
	}
	if status, ready := get(t, required, "GET", "/v2/health/ready", ""); status != 503 || ready["ready"] != false {
		t.Errorf("/v2/health/ready with response required: %d %v", status, ready)
	}
}

// TestRecoveryWithoutASignal (issue 17, items 7 and 8): a registry repaired
// in place is served again without SIGHUP; a version that fails to load
// after a good one leaves the good one serving, and /readyz, /v1/models
// and the metric say so until it is mended, even when the mending leaves
// the files' times as the damage left them (the retry, not the watch,
// then finds it).
func TestRecoveryWithoutASignal(t *testing.T) {
	dir := copyRegistry(t)
	manifest := filepath.Join(dir, "response", "v1", "MANIFEST")
	saved, _ := os.ReadFile(manifest)
	os.Remove(manifest)
	var logs syncbuf.Buffer
	srv, err := New(Config{Registry: dir, WatchInterval: 50 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, srv)
	if _, ready := get(t, srv, "GET", "/readyz", ""); problems(ready)["response"] == nil {
		t.Fatalf("/readyz before the repair: %v", ready)
	}
	// Repaired in place: the MANIFEST put back.
	if err := os.WriteFile(manifest, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "response served after its MANIFEST was put back", func() bool {
		_, ready := get(t, srv, "GET", "/readyz", "")
		return ready["status"] == "ready" && ready["models"] == 2.0
	})

	// A new version of abscopal, damaged: v1 keeps serving, degraded.
	v1 := filepath.Join(dir, "abscopal", "v1")
	v2 := filepath.Join(dir, "abscopal", "v2")
	os.MkdirAll(v2, 0o755)
	entries, _ := os.ReadDir(v1)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(v1, e.Name()))
		os.WriteFile(filepath.Join(v2, e.Name()), b, 0o644)
	}
	flipByte(t, filepath.Join(v2, "bundle.json"), time.Time{})
	var damaged map[string]any
	waitFor(t, "the damaged v2 reported", func() bool {
		_, damaged = get(t, srv, "GET", "/readyz", "")
		return problems(damaged)["abscopal"] != nil
	})
	p := problems(damaged)["abscopal"]
	if damaged["status"] != "degraded" || p["serving_version"] != "v1" || p["failed_version"] != "v2" || !strings.Contains(fmt.Sprint(p["reason"]), "MANIFEST") {
		t.Errorf("/readyz with a damaged v2: %v", damaged)
	}
	status, body := post(t, srv, "/v1/predict", "application/json", sbrtPatient)
	if a := prediction(t, body, 0, "abscopal_response"); status != 200 || a["version"] != "v1" {
		t.Errorf("predict with a damaged v2: %d %v", status, a)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if want := `abscopal_model_problem{model="abscopal",state="degraded"} 1`; !strings.Contains(rec.Body.String(), want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(rec.Body.String(), "abscopal_model_problem"))
	}
	// Mended with the damaged file's time kept: the fingerprint does not
	// change, and the retry finds the version whole.
	fi, _ := os.Stat(filepath.Join(v2, "bundle.json"))
	flipByte(t, filepath.Join(v2, "bundle.json"), fi.ModTime())
	waitFor(t, "v2 served once mended", func() bool {
		_, ready := get(t, srv, "GET", "/readyz", "")
		v1, _ := ready["v1"].(map[string]any)
		a, _ := v1["abscopal_response"].(map[string]any)
		return ready["status"] == "ready" && a["version"] == "v2"
	})
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if strings.Contains(rec.Body.String(), `abscopal_model_problem{`) {
		t.Errorf("/metrics still reports a problem:\n%s", grepLines(rec.Body.String(), "abscopal_model_problem"))
	}
	// A truncated bundle.json, its MANIFEST made to match: it cannot be
	// decoded.
	v3 := filepath.Join(dir, "abscopal", "v3")
	os.MkdirAll(v3, 0o755)
	b, _ := os.ReadFile(filepath.Join(v1, "bundle.json"))
	b = b[:len(b)/2]
	os.WriteFile(filepath.Join(v3, "bundle.json"), b, 0o644)
	sum := sha256.Sum256(b)
	os.WriteFile(filepath.Join(v3, "MANIFEST"), []byte(hex.EncodeToString(sum[:])+"  bundle.json\n"), 0o644)
	waitFor(t, "the truncated v3 reported", func() bool {
		_, ready := get(t, srv, "GET", "/readyz", "")
		p := problems(ready)["abscopal"]
		return p != nil && p["failed_version"] == "v3" && p["serving_version"] == "v2" && strings.Contains(fmt.Sprint(p["reason"]), "cannot be decoded")
	})
	if !strings.Contains(logs.String(), `"failed_version":"v3"`) {
		t.Errorf("the log does not name the failure:\n%s", logs.String())
	}
}

// TestAliasFiles (issue 17, item 9): an alias file is read as at most a
// line naming a version; a symbolic link out of the registry is refused,
// and nothing of what it points at reaches an answer or the log.
func TestAliasFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(outside, []byte("v1\nSECRET-CONTENT root:x:0:0\n"), 0o644)
	for _, tt := range []struct {
		name  string
		setup func(aliases string)
		ok    bool
	}{
		{"a link out of the registry", func(a string) { os.Symlink(outside, filepath.Join(a, "production")) }, false},
		{"a link to a version outside", func(a string) {
			os.WriteFile(outside, []byte("v1\n"), 0o644)
			os.Symlink(outside, filepath.Join(a, "production"))
		}, false},
		{"a large file", func(a string) {
			os.WriteFile(filepath.Join(a, "production"), bytes.Repeat([]byte("v1\n"), 10000), 0o644)
		}, false},
		{"not a version", func(a string) { os.WriteFile(filepath.Join(a, "production"), []byte("SECRET-CONTENT\n"), 0o644) }, false},
		{"a dangling link", func(a string) { os.Symlink(filepath.Join(a, "nowhere"), filepath.Join(a, "production")) }, false},
		{"a link inside the registry", func(a string) {
			os.WriteFile(filepath.Join(a, "staging"), []byte("v1\n"), 0o644)
			os.Symlink("staging", filepath.Join(a, "production"))
		}, true},
		{"a version with CRLF", func(a string) { os.WriteFile(filepath.Join(a, "production"), []byte("v1\r\n"), 0o644) }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyRegistry(t)
			aliases := filepath.Join(dir, "response", "aliases")
			os.MkdirAll(aliases, 0o755)
			tt.setup(aliases)
			var logs syncbuf.Buffer
			srv, err := New(Config{Registry: dir, WatchInterval: -1, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			_, ready := get(t, srv, "GET", "/readyz", "")
			_, reply := post(t, srv, "/v1/predict", "application/json", sbrtPatient)
			served := prediction(t, reply, 0, "objective_response")["model"] == "response"
			if served != tt.ok || (!tt.ok && !strings.Contains(fmt.Sprint(problems(ready)["response"]["reason"]), "alias file")) {
				t.Errorf("served %v, want %v; /readyz %v", served, tt.ok, ready)
			}
			if all := logs.String() + fmt.Sprint(ready, reply); strings.Contains(all, "SECRET-CONTENT") {
				t.Errorf("the alias file's content leaked:\n%s", all)
			}
		})
	}
	// The CLI's registry reads them the same way.
	dir := copyRegistry(t)
	os.MkdirAll(filepath.Join(dir, "response", "aliases"), 0o755)
	os.Symlink(outside, filepath.Join(dir, "response", "aliases", "production"))
	if _, err := (&models.Registry{Dir: dir}).Load("response"); err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Load through a link out of the registry: %v", err)
	}
}

// TestProbesWithAuth (issue 17, item 10): with tokens on, the health
// endpoints answer without one, to GET and HEAD; the rest of /v2 does
// not; /metrics, which names the clients, is served apart unless the
// operator says otherwise.
func TestProbesWithAuth(t *testing.T) {
	srv := newServer(t, Config{Tokens: []Token{{Client: "ehr", Secret: "tok"}}})
	for _, path := range []string{"/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			if status, _ := get(t, srv, method, path, ""); status != 200 {
				t.Errorf("%s %s without a token: %d", method, path, status)
			}
		}
	}
	for _, path := range []string{"/v2", "/v2/models/abscopal/ready", "/v1/models"} {
		if status, _ := get(t, srv, "GET", path, ""); status != 401 {
			t.Errorf("GET %s without a token: %d, want 401", path, status)
		}
	}
	status, body := get(t, srv, "GET", "/metrics", "tok")
	if msg, _ := errorOf(body); status != 404 || !strings.Contains(msg, "--metrics-addr") {
		t.Errorf("/metrics with tokens on: %d %v", status, body)
	}
	public := newServer(t, Config{Tokens: []Token{{Client: "ehr", Secret: "tok"}}, MetricsPublic: true})
	if status, _ := get(t, public, "GET", "/metrics", ""); status != 200 {
		t.Errorf("/metrics with --metrics-public: %d", status)
	}
	open := newServer(t, Config{})
	if status, _ := get(t, open, "GET", "/metrics", ""); status != 200 {
		t.Errorf("/metrics without tokens: %d", status)
	}
}
