package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestSystemdUnit checks deploy/abscopal.service as far as can be without
// systemd running (it is not the init of the machines this is tested on):
// its ExecStart is a command line the binary accepts, its reload sends
// SIGHUP, systemd's own checker finds nothing wrong with it, and systemd's
// offline security analysis rates its exposure 2 or less ("OK"; 10 is an
// unhardened service).
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../deploy/abscopal.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	key := func(k string) string {
		m := regexp.MustCompile(`(?m)^` + k + `=(.*)$`).FindStringSubmatch(unit)
		if m == nil {
			t.Fatalf("the unit has no %s", k)
		}
		return m[1]
	}
	start := strings.Fields(key("ExecStart"))
	checkCommandLine(t, start)
	if start[1] != "serve" || key("ExecReload") != "/bin/kill -HUP $MAINPID" || key("KillSignal") != "SIGTERM" {
		t.Errorf("ExecStart %v, ExecReload %q, KillSignal %q: want serve, SIGHUP to reload, SIGTERM to stop",
			start, key("ExecReload"), key("KillSignal"))
	}
	if stop, _ := strconv.Atoi(strings.TrimSuffix(key("TimeoutStopSec"), "s")); stop <= 20 {
		t.Errorf("TimeoutStopSec %d: systemd would kill the server before its 20 s to finish requests", stop)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit's syntax and hardening are unchecked")
	}
	// systemd checks that ExecStart's program exists: any executable does.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "abscopal.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/abscopal", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command(analyze, "security", "--offline=yes", "--no-pager", path).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for abscopal.service: ([0-9.]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2 {
		t.Errorf("exposure level %v, want 2 or less:\n%s", level, out)
	}
}
