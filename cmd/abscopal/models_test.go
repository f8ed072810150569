package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestModelsVerify(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 300, 2)
	reg := filepath.Join(dir, "registry")
	for i := 0; i < 2; i++ {
		mustCLI(t, "train", "--data", cohort, "--registry", reg, "--name", "m", "--algo", "logistic",
			"--bootstrap", "10", "--folds", "3")
	}
	mustCLI(t, "models", "alias", "--registry", reg, "m", "production", "v1")
	code, out, _ := runCLI(t, "models", "verify", "--registry", reg)
	if code != 0 || !strings.Contains(out, "ok     m:v1") || !strings.Contains(out, "ok     m:v2") || !strings.Contains(out, "ok     m@production -> v1") {
		t.Fatalf("a sound registry: exit %d\n%s", code, out)
	}
	// The move is in the alias history, with who made it; and the next.
	mustCLI(t, "models", "alias", "--registry", reg, "m", "production", "v2")
	code, out, _ = runCLI(t, "models", "history", "--registry", reg, "m")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME (UTC)") ||
		!strings.Contains(lines[1], "  production  v1       -       "+actor()) || !strings.Contains(lines[2], "  production  v2       v1      "+actor()) {
		t.Errorf("history: exit %d\n%s", code, out)
	}
	mustCLI(t, "models", "alias", "--registry", reg, "m", "production", "v1")
	// A bad name is a usage error (exit 2), as in train.
	for _, args := range [][]string{{"My Model", "production", "v1"}, {"m", "Prod!", "v1"}, {"m", "v3", "v1"}} {
		if code, _, stderr := runCLI(t, append([]string{"models", "alias", "--registry", reg}, args...)...); code != 2 || !strings.Contains(stderr, "use 1-64 of a-z") {
			t.Errorf("models alias %v: exit %d, %q", args, code, stderr)
		}
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

	// What a killed publish and a killed alias move left: removed when over
	// a minute old, kept (and said so) when younger, another process's
	// perhaps. One fault, after mending the others, says "1 fault".
	os.WriteFile(card, b, 0o644)
	os.Remove(filepath.Join(reg, "m", "aliases", "staging"))
	old, young := filepath.Join(reg, "m", ".publish-123"), filepath.Join(reg, "m", ".publish-456")
	os.MkdirAll(old, 0o755)
	os.WriteFile(filepath.Join(old, "bundle.json"), []byte("{"), 0o644)
	os.MkdirAll(young, 0o755)
	stale := time.Now().Add(-time.Hour)
	os.Chtimes(old, stale, stale)
	tmpAlias := filepath.Join(reg, "m", "aliases", ".production-9.tmp")
	os.WriteFile(tmpAlias, []byte("v"), 0o644)
	os.Chtimes(tmpAlias, stale, stale)
	code, out, _ = runCLI(t, "models", "verify", "--registry", reg)
	for _, want := range []string{"removed " + old + " (left by a publish or an alias move that was killed)", "removed " + tmpAlias, "kept   " + young + " (under a minute old"} {
		if !strings.Contains(out, want) {
			t.Errorf("leftovers: output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(old); code != 0 || !os.IsNotExist(err) {
		t.Errorf("leftovers: exit %d, %s still there (%v)", code, old, err)
	}
	os.WriteFile(filepath.Join(reg, "m", "aliases", "staging"), []byte("v7\n"), 0o644)
	if code, _, stderr := runCLI(t, "models", "verify", "--registry", reg); code != 1 || !strings.Contains(stderr, "abscopal: 1 fault in registry") {
		t.Errorf("one fault: exit %d, %q", code, stderr)
	}
}

// TestModelsShowHTML: the card as one HTML file, each plot it shows
// inlined, nothing left to fetch; --html takes an .html file and not --json.
func TestModelsShowHTML(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 600, 4)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr",
		"--bootstrap", "10", "--instability", "10", "--survival", "os", "--threshold", "0.35")
	page := filepath.Join(dir, "card.html")
	mustCLI(t, "models", "show", "--registry", reg, "orr", "--html", page)
	card, _ := os.ReadFile(filepath.Join(reg, "orr", "v1", "card.md"))
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	plots := len(regexp.MustCompile(`\]\([a-z_0-9]+\.svg\)`).FindAll(card, -1))
	if inlined := strings.Count(string(html), `<img src="data:image/svg+xml;base64,`); plots < 4 || inlined != plots || strings.Contains(string(html), `src="survival_os.svg"`) {
		t.Errorf("%d plots in the card, %d inlined", plots, inlined)
	}
	if !strings.HasPrefix(string(html), "<!DOCTYPE html>") || !strings.Contains(string(html), "<title>Model card: orr:v1</title>") {
		t.Errorf("page: %.200s", html)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--html", filepath.Join(dir, "card.md")}, "--html " + filepath.Join(dir, "card.md") + ": the extension must be .html"},
		{[]string{"--html", page, "--json"}, "--json and --html: give one"},
	} {
		if code, _, stderr := runCLI(t, append([]string{"models", "show", "--registry", reg, "orr"}, tt.args...)...); code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q", tt.args, code, stderr)
		}
	}
}
