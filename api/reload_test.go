package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abscopal/abscopal/models"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	url := "http://" + ln.Addr().String() + "/v1/predict"

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

	// A tampered registry must not replace good models.
	os.WriteFile(filepath.Join(dir, "abscopal", v2, "card.md"), []byte("edited"), 0o644)
	if err := srv.Reload(); err == nil {
		t.Error("reload accepted a tampered version")
	}
	if m := srv.models().byTarget["abscopal_response"]; m == nil || m.Version != v2 {
		t.Error("a failed reload dropped the served model")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_, sawOld := versions.Load("v1")
	_, sawNew := versions.Load(v2)
	t.Logf("%d requests, %d failed, versions seen: v1=%v %s=%v", requests.Load(), failures.Load(), sawOld, v2, sawNew)
	if failures.Load() != 0 || !sawOld || !sawNew {
		t.Errorf("%d of %d requests failed; saw v1 %v, %s %v", failures.Load(), requests.Load(), sawOld, v2, sawNew)
	}
}
