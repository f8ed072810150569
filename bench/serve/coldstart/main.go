// Command coldstart times a server's cold start: from starting the process
// to the first 200 of its readiness probe, polled every millisecond from
// this process (a curl per poll would add its own start, ~15 ms, to each
// figure). With several binaries it alternates them, run by run, and prints
// each one's min and median.
//
//	go run ./bench/serve/coldstart -runs 15 -registry DIR -- BINARY...
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

func main() {
	runs := flag.Int("runs", 15, "starts per binary")
	registry := flag.String("registry", "", "the registry to serve")
	v1 := flag.String("v1-model", "", "serve's --v1-model, when the registry has several models for a target")
	flag.Parse()
	if *registry == "" || flag.NArg() == 0 {
		log.Fatal("usage: coldstart -registry DIR [-runs N] [-v1-model T=NAME] BINARY...")
	}
	times := make([][]time.Duration, flag.NArg())
	for range *runs {
		for i, bin := range flag.Args() {
			d, err := coldStart(bin, *registry, *v1)
			if err != nil {
				log.Fatalf("%s: %v", bin, err)
			}
			times[i] = append(times[i], d)
		}
	}
	fmt.Println("| binary | starts | min ms | median ms |")
	fmt.Println("|---|---|---|---|")
	for i, bin := range flag.Args() {
		t := slices.Sorted(slices.Values(times[i]))
		fmt.Printf("| %s | %d | %.1f | %.1f |\n", bin, len(t), ms(t[0]), ms(t[len(t)/2]))
	}
}

// coldStart starts bin serving registry on a free port and returns the time
// to its first /readyz 200.
func coldStart(bin, registry, v1 string) (time.Duration, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"serve", "--registry", registry, "--addr", "127.0.0.1:" + strconv.Itoa(port)}
	if v1 != "" {
		args = append(args, "--v1-model", v1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr, cmd.Stdout = nil, nil
	client := &http.Client{Timeout: time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for ctx.Err() == nil {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("not ready within 30 s")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
