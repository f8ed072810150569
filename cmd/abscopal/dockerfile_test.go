package main

import (
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerfile reads the repository's Dockerfile as instructions: line
// continuations joined, comments dropped, keyed by instruction (the last one
// wins, as Docker's ENTRYPOINT, CMD and HEALTHCHECK do).
func dockerfile(t *testing.T) (map[string]string, []string) {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	var runs []string
	joined := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), "")
	for _, line := range strings.Split(joined, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		op, rest, _ := strings.Cut(line, " ")
		last[op] = rest
		if op == "RUN" {
			runs = append(runs, rest)
		}
	}
	return last, runs
}

// execForm decodes an exec-form (JSON array) instruction argument.
func execForm(t *testing.T, what, s string) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		t.Fatalf("%s %s is not in exec form (the image has no shell): %v", what, s, err)
	}
	return args
}

// TestDockerfileCommands checks what can be checked of the image without a
// Docker engine, which the default test run does not have (TestDockerImage
// runs the image itself, where deploy/docker/check.sh provides one): the
// build stage's go build command, run here, gives a static binary that
// carries the version passed in; ENTRYPOINT + CMD and the HEALTHCHECK are
// commands and flags that binary accepts.
func TestDockerfileCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary as the Dockerfile does")
	}
	ins, runs := dockerfile(t)
	var build string
	for _, r := range runs {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	if !strings.HasPrefix(build, "CGO_ENABLED=0 go build") {
		t.Fatalf("the build stage's command %q does not build with CGO_ENABLED=0", build)
	}
	if ins["USER"] != "65532:65532" || ins["FROM"] != "scratch" {
		t.Errorf("final stage: FROM %s, USER %s; want scratch as 65532:65532", ins["FROM"], ins["USER"])
	}

	bin := filepath.Join(t.TempDir(), "abscopal")
	// Without -trimpath, which changes how every package is compiled: so
	// the build reuses what the tests compiled (with CI's -tags nomsgpack,
	// the Dockerfile's too) instead of compiling every dependency again,
	// minutes on a fresh machine. Paths in the binary do not bear on what
	// is checked here.
	if !strings.Contains(build, " -tags nomsgpack") {
		t.Errorf("the build stage's command %q leaves gin's MessagePack codec in (-tags nomsgpack): abscopal does not use it", build)
	}
	cmd := exec.Command("sh", "-c", strings.NewReplacer("${VERSION}", "v9.8.7-docker", "/out/usr/local/bin/abscopal", bin, " -trimpath", "").Replace(build))
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd.Args[2], err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary asks for a dynamic loader: the image has none")
		}
	}
	f.Close()
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "abscopal v9.8.7-docker") {
		t.Errorf("version of the image's binary: %v %q", err, out)
	}

	// The entrypoint and the health check, as the image would run them, with
	// the program replaced by the root command.
	entry := append(execForm(t, "ENTRYPOINT", ins["ENTRYPOINT"]), execForm(t, "CMD", ins["CMD"])...)
	health := strings.TrimSpace(ins["HEALTHCHECK"][strings.Index(ins["HEALTHCHECK"], "CMD ")+4:])
	for _, args := range [][]string{entry, execForm(t, "HEALTHCHECK CMD", health)} {
		checkCommandLine(t, args)
	}
	if entry[1] != "serve" || !strings.Contains(strings.Join(entry, " "), "--registry /registry") || ins["VOLUME"] != `["/registry"]` {
		t.Errorf("entrypoint %v, volume %s: want serve on the /registry volume", entry, ins["VOLUME"])
	}
}

// checkCommandLine checks that args, a command line of a deployment (the
// image's entrypoint, a systemd unit's ExecStart), runs the installed
// binary with a command and flags it accepts.
func checkCommandLine(t *testing.T, args []string) {
	t.Helper()
	if len(args) < 2 || args[0] != "/usr/local/bin/abscopal" {
		t.Errorf("%v does not run the installed binary", args)
		return
	}
	root := newRootCmd(io.Discard, io.Discard)
	sub, rest, err := root.Find(args[1:])
	if err != nil || sub == root {
		t.Errorf("%v: no such command: %v", args, err)
		return
	}
	if err := sub.ParseFlags(rest); err != nil || len(sub.Flags().Args()) != 0 {
		t.Errorf("%v: the flags are refused: %v", args, err)
	}
}
