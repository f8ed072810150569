package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/s3test"
)

// answer is one request of the load on a replica.
type answer struct {
	replica    int
	start, end time.Time
	ok         bool
	version    string
}

// TestReplicasOverOneBucket: three "abscopal serve" replicas over one
// bucket, under load, while a fourth process publishes a version and moves
// the production alias to it. Every replica serves the new version within
// a few watch intervals, no request fails, and once all have moved none
// answers with the old one; a replica killed under load leaves the others
// answering. The figures are logged (go test -v -run TestReplicas) and
// reported in docs/deployment.md.
func TestReplicasOverOneBucket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four processes")
	}
	store := s3test.Need(t, s3server, s3err)
	for _, kv := range store.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // inherited by the processes started below
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	run := func(args ...string) string {
		t.Helper()
		return runBinary(t, bin, args...)
	}
	reg := store.URL(t)
	cohort := filepath.Join(dir, "cohort.parquet")
	run("synth", "--n", "600", "--seed", "5", "--out", cohort)
	train := []string{"train", "--data", cohort, "--target", "abscopal_response", "--algo", "logistic", "--registry", reg, "--name", "abscopal", "--bootstrap", "20"}
	run(train...)
	run("models", "alias", "--registry", reg, "abscopal", "production", "v1")

	const replicas = 3
	const watch = 250 * time.Millisecond
	var procs []*exec.Cmd
	var addrs []string
	for range replicas {
		p, addr, _ := startServe(t, bin, "--registry", reg, "--watch-interval", watch.String())
		procs, addrs = append(procs, p), append(addrs, addr)
	}
	for _, a := range addrs {
		if err := s3test.Ready("http://"+a+"/readyz", 30*time.Second); err != nil {
			t.Fatal(err)
		}
	}

	// Two clients on each replica, each with its own connection, until
	// stop closes.
	patient := []byte(`{"patient_id": "replica", "ici_class": "pd1", "pdl1_tps": 60, "alc": 1.4, "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`)
	var mu sync.Mutex
	var answers []answer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r, a := range addrs {
		for range 2 {
			wg.Go(func() {
				client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}}
				for {
					select {
					case <-stop:
						return
					default:
					}
					an := answer{replica: r, start: time.Now()}
					resp, err := client.Post("http://"+a+"/v1/predict", "application/json", bytes.NewReader(patient))
					if err == nil {
						var body struct {
							Predictions []struct {
								Predictions map[string]struct {
									Version string `json:"version"`
								} `json:"predictions"`
							} `json:"predictions"`
						}
						err = json.NewDecoder(resp.Body).Decode(&body)
						resp.Body.Close()
						if err == nil && resp.StatusCode == 200 && len(body.Predictions) == 1 {
							an.ok, an.version = true, body.Predictions[0].Predictions["abscopal_response"].Version
						}
					}
					an.end = time.Now()
					mu.Lock()
					answers = append(answers, an)
					mu.Unlock()
				}
			})
		}
	}
	snapshot := func() []answer {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(answers)
	}
	time.Sleep(time.Second)

	// The fourth process publishes v2, then moves production to it.
	run(train...)
	moved := time.Now()
	run("models", "alias", "--registry", reg, "abscopal", "production", "v2")
	firstV2 := make([]time.Time, replicas)
	deadline := time.Now().Add(30 * time.Second)
	for slices.ContainsFunc(firstV2, time.Time.IsZero) {
		if time.Now().After(deadline) {
			t.Fatalf("not every replica serves v2 30 s after the move: first v2 answers %v", firstV2)
		}
		time.Sleep(50 * time.Millisecond)
		for _, an := range snapshot() {
			if an.version == "v2" && (firstV2[an.replica].IsZero() || an.end.Before(firstV2[an.replica])) {
				firstV2[an.replica] = an.end
			}
		}
	}
	converged := slices.MaxFunc(firstV2, time.Time.Compare)
	time.Sleep(time.Second)

	// One replica killed under load: the others answer on.
	killed := time.Now()
	procs[replicas-1].Process.Kill()
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()

	var total, failed, mixed, afterKill int
	for _, an := range answers {
		if an.replica == replicas-1 && !an.end.Before(killed) {
			continue // the killed replica's own requests fail, as they must
		}
		total++
		if !an.ok {
			failed++
		}
		if an.start.After(converged) && an.version != "v2" {
			mixed++
		}
		if an.start.After(killed) && an.ok {
			afterKill++
		}
	}
	elapsed := answers[len(answers)-1].end.Sub(answers[0].start)
	t.Logf("%d replicas, watch interval %s: %d requests in %.1f s (%.0f/s), %d failed; every replica served v2 %d ms after the alias moved (per replica: %v); %d answers from v1 after that; %d answered by the others in the second after one was killed",
		replicas, watch, total, elapsed.Seconds(), float64(total)/elapsed.Seconds(), failed, converged.Sub(moved).Milliseconds(), sinceEach(firstV2, moved), mixed, afterKill)
	if failed != 0 {
		t.Errorf("%d of %d requests failed", failed, total)
	}
	if mixed != 0 {
		t.Errorf("%d answers from the old version after every replica had moved", mixed)
	}
	if afterKill == 0 {
		t.Error("no answer from the live replicas after one was killed")
	}
	if d := converged.Sub(moved); d > 10*watch+5*time.Second {
		t.Errorf("the replicas took %s to serve v2, with a watch interval of %s", d, watch)
	}
}

// sinceEach gives each time's distance from t0, in milliseconds.
func sinceEach(ts []time.Time, t0 time.Time) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = t.Sub(t0).Milliseconds()
	}
	return out
}
