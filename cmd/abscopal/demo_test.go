package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/race"
	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
)

// TestDemoStaysLocal (issue 17, item 14): the demo serves synthetic models
// on this machine only unless --addr says otherwise, and removes its
// temporary directory when it stops, unless --keep.
func TestDemoStaysLocal(t *testing.T) {
	if def := newDemoCmd().Flags().Lookup("addr").DefValue; def != "127.0.0.1:8080" {
		t.Errorf("demo's default --addr is %q, want 127.0.0.1:8080", def)
	}
	if def := newServeCmd().Flags().Lookup("addr").DefValue; def != ":8080" {
		t.Errorf("serve's default --addr is %q: a server's operator chooses where it listens", def)
	}
	for _, keep := range []bool{false, true} {
		if keep && race.Enabled {
			// What --keep changes is a directory left behind, not what
			// runs concurrently: the first demo gave the detector all of
			// that, and a second made this the package's second slowest
			// test under it (23.8 s).
			continue
		}
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		args := []string{"demo", "--n", "300", "--addr", "127.0.0.1:0"}
		if keep {
			args = append(args, "--keep")
		}
		ctx, cancel := context.WithCancel(context.Background())
		var out, errOut syncbuf.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, args, &out, &errOut) }()
		serving := regexp.MustCompile(`Serving on http://127\.0\.0\.1:\d+ `)
		deadline := time.Now().Add(2 * time.Minute)
		for !serving.MatchString(errOut.String()) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("the demo did not serve on 127.0.0.1:\n%s", errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		dirs, _ := filepath.Glob(filepath.Join(tmp, "abscopal-demo-*", "registry"))
		if len(dirs) != 1 {
			t.Fatalf("the demo's registry in %s: %v", tmp, dirs)
		}
		// Every model the calculator shows: the responses, pneumonitis, and
		// overall and progression-free survival.
		for _, want := range []string{"6/6 training pfs (cox)", "os:v1 cross-validated Harrell's C", "pfs:v1 cross-validated Harrell's C", "Open the what-if calculator in a browser: http://127.0.0.1:"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("the demo does not say %q:\n%s", want, errOut.String())
			}
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("keep %v: exit %d\n%s", keep, code, errOut.String())
		}
		_, err := os.Stat(dirs[0])
		if kept := err == nil; kept != keep {
			t.Errorf("--keep %v: the registry kept %v (%v)\n%s", keep, kept, err, errOut.String())
		}
		if !keep && !strings.Contains(errOut.String(), "removed "+filepath.Dir(dirs[0])) {
			t.Errorf("the demo does not say it removed its directory:\n%s", errOut.String())
		}
	}
}
