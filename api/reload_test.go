package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abscopal/abscopal/models"
	"github.com/gin-gonic/gin"
)

// TestHotReload publishes a new version and moves the production alias under
// concurrent requests: no request may fail, and answers must switch to the
// new version. The server notices the change by itself (the file watch).
func TestHotReload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "registry")
	reg := &models.Registry{Dir: dir}
	publish(t, reg, "abscopal", "abscopal_response", 1)
	publish(t, reg, "response", "objective_response", 2)
	if err := reg.SetAlias("abscopal", "production", "v1"); err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Registry: dir, WatchInterval: 50 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + serveOn(t, srv) + "/v1/predict"

	var failures, requests atomic.Int64
	versions := sync.Map{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(url, "application/json", strings.NewReader(sbrtPatient))
				requests.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				var body struct {
					Predictions []struct {
						Predictions map[string]struct {
							Version string `json:"version"`
						} `json:"predictions"`
					} `json:"predictions"`
				}
				err = json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
					continue
				}
				versions.Store(body.Predictions[0].Predictions["abscopal_response"].Version, true)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	v2 := publish(t, reg, "abscopal", "abscopal_response", 7)          // a new version...
	if err := reg.SetAlias("abscopal", "production", v2); err != nil { // ...made production
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := srv.models().byTarget["abscopal_response"]; m != nil && m.Version == v2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not pick up the new version within 5 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	// /metrics names the versions served now, and only those.
	rec := httptest.NewRecorder()
	srv.Engine().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`abscopal_model_info{algo="logistic",model="abscopal",synthetic="true",target="abscopal_response",v1="true",version="` + v2 + `"} 1`,
		`abscopal_model_info{algo="logistic",model="response",synthetic="true",target="objective_response",v1="true",version="v1"} 1`,
		`abscopal_build_info{commit="`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(rec.Body.String(), "_info{"))
		}
	}
	if strings.Contains(rec.Body.String(), `model="abscopal",synthetic="true",target="abscopal_response",v1="true",version="v1"`) {
		t.Error("/metrics still reports the version no longer served")
	}
	// The list of models says since when v2 is production.
	list := httptest.NewRecorder()
	srv.Engine().ServeHTTP(list, httptest.NewRequest("GET", "/v1/models", nil))
	var listed struct {
		Models []struct {
			Name, Version string
			Aliases       []struct {
				Alias string
				Since *time.Time
			}
		}
	}
	if err := json.Unmarshal(list.Body.Bytes(), &listed); err != nil {
		t.Fatal(err)
	}
	for _, m := range listed.Models {
		if m.Name != "abscopal" {
			continue
		}
		if m.Version != v2 || len(m.Aliases) != 1 || m.Aliases[0].Alias != "production" || m.Aliases[0].Since == nil ||
			time.Since(*m.Aliases[0].Since) > time.Minute {
			t.Errorf("abscopal listed as %+v", m)
		}
	}
	// Its prediction series are gone too; the new version's count.
	if body := rec.Body.String(); strings.Contains(body, `abscopal_predictions_total{model="abscopal",target="abscopal_response",version="v1"}`) ||
		strings.Contains(body, `abscopal_predicted_probability_count{model="abscopal",version="v1"}`) ||
		!strings.Contains(body, `abscopal_predictions_total{model="abscopal",target="abscopal_response",version="`+v2+`"}`) ||
		!strings.Contains(body, `abscopal_predictions_total{model="response",target="objective_response",version="v1"}`) {
		t.Errorf("prediction series after the reload:\n%s", grepLines(body, "abscopal_predict"))
	}

	// A tampered registry must not replace good models.
	os.WriteFile(filepath.Join(dir, "abscopal", v2, "card.md"), []byte("edited"), 0o644)
	if err := srv.Reload(); err == nil {
		t.Error("reload accepted a tampered version")
	}
	if m := srv.models().byTarget["abscopal_response"]; m == nil || m.Version != v2 {
		t.Error("a failed reload dropped the served model")
	}
	// The card served is the one verified with the served model, not the
	// edited file (which was read per request, and came out empty once the
	// manifest no longer matched).
	rec = httptest.NewRecorder()
	srv.Engine().ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models/abscopal", nil))
	var shown struct {
		Card string `json:"card"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &shown); err != nil || rec.Code != 200 || !strings.HasPrefix(shown.Card, "# ") {
		t.Errorf("card after a tampered edit: %d %q %v", rec.Code, shown.Card, err)
	}
	_, sawOld := versions.Load("v1")
	_, sawNew := versions.Load(v2)
	t.Logf("%d requests, %d failed, versions seen: v1=%v %s=%v", requests.Load(), failures.Load(), sawOld, v2, sawNew)
	if failures.Load() != 0 || !sawOld || !sawNew {
		t.Errorf("%d of %d requests failed; saw v1 %v, %s %v", failures.Load(), requests.Load(), sawOld, v2, sawNew)
	}
}

// TestShutdownFinishesInFlight cancels the server's context while a request
// is being handled: the request must complete, new connections must be
// refused, and Serve must return without error.
func TestShutdownFinishesInFlight(t *testing.T) {
	srv := newServer(t, Config{})
	started := make(chan struct{})
	srv.Engine().GET("/v1/slow", func(c *gin.Context) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		c.JSON(http.StatusOK, gin.H{"done": true})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(base + "/v1/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel() // as SIGTERM does in "abscopal serve"
	r := <-got
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, `"done":true`) {
		t.Errorf("the request in flight did not finish: %+v", r)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}
