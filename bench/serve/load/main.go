// Command load sends POST requests at a fixed rate (open loop: a request
// starts on schedule whether or not earlier ones finished, so slow answers
// cannot hide behind a slower pace, as they do in closed-loop tools like
// wrk) and prints the latency percentiles.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "URL")
	bodyFile := flag.String("body", "", "request body file")
	rate := flag.Int("rate", 1000, "requests per second")
	dur := flag.Duration("duration", 10*time.Second, "duration")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 5 * time.Second}
	n := int(float64(*rate) * dur.Seconds())
	lat := make([]time.Duration, n)
	failed := make([]bool, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n; i++ {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(*rate))); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			t := time.Now()
			resp, err := client.Post(*url, "application/json", bytes.NewReader(body))
			if err != nil {
				failed[i] = true
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			lat[i] = time.Since(t)
			failed[i] = resp.StatusCode != 200
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var ok []time.Duration
	nf := 0
	for i, l := range lat {
		if failed[i] {
			nf++
		} else {
			ok = append(ok, l)
		}
	}
	sort.Slice(ok, func(a, b int) bool { return ok[a] < ok[b] })
	q := func(p float64) time.Duration { return ok[min(len(ok)-1, int(p*float64(len(ok))))] }
	fmt.Printf("%d requests at %d/s over %.1f s (achieved %.0f/s), %d failed: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		n, *rate, elapsed.Seconds(), float64(n)/elapsed.Seconds(), nf,
		ms(q(0.50)), ms(q(0.90)), ms(q(0.99)), ms(ok[len(ok)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
