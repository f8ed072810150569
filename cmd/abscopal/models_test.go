package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelsVerify(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 300, 2)
	reg := filepath.Join(dir, "registry")
	for i := 0; i < 2; i++ {
		if code, _, stderr := runCLI(t, "train", "--data", cohort, "--registry", reg, "--name", "m", "--algo", "logistic",
			"--bootstrap", "10", "--folds", "3"); code != 0 {
			t.Fatal(stderr)
		}
	}
	if code, _, stderr := runCLI(t, "models", "alias", "--registry", reg, "m", "production", "v1"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, _ := runCLI(t, "models", "verify", "--registry", reg)
	if code != 0 || !strings.Contains(out, "ok     m:v1") || !strings.Contains(out, "ok     m:v2") || !strings.Contains(out, "ok     m@production -> v1") {
		t.Fatalf("a sound registry: exit %d\n%s", code, out)
	}
	// The move is in the alias history, with who made it; and the next.
	if code, _, stderr := runCLI(t, "models", "alias", "--registry", reg, "m", "production", "v2"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, _ = runCLI(t, "models", "history", "--registry", reg, "m")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME (UTC)") ||
		!strings.Contains(lines[1], "  production  v1       -       "+actor()) || !strings.Contains(lines[2], "  production  v2       v1      "+actor()) {
		t.Errorf("history: exit %d\n%s", code, out)
	}
	if code, _, stderr := runCLI(t, "models", "alias", "--registry", reg, "m", "production", "v1"); code != 0 {
		t.Fatal(stderr)
	}

	// An altered card and an alias left pointing at a version that is gone.
	card := filepath.Join(reg, "m", "v2", "card.md")
	b, _ := os.ReadFile(card)
	os.WriteFile(card, append(b, "edited\n"...), 0o644)
	os.WriteFile(filepath.Join(reg, "m", "aliases", "staging"), []byte("v7\n"), 0o644)
	code, out, stderr := runCLI(t, "models", "verify", "--registry", reg)
	for _, want := range []string{"ok     m:v1", "FAULT  m:v2:", "card.md has SHA-256", `FAULT  m@staging: points at "v7"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(stderr, "2 faults") {
		t.Errorf("exit %d, %q", code, stderr)
	}
}
