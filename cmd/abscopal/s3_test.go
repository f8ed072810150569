package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/internal/testkit/s3test"
)

// The S3-compatible server of the object-store tests, started by TestMain
// when its binary is found (s3test).
var (
	s3server *s3test.Server
	s3err    error
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m, &s3server, &s3err)) }

// TestRegistryCommandsOnS3: every command that takes a registry works on
// one in an S3-compatible store as on a directory: train publishes, models
// list/show/alias/history/verify/reproduce/recalibrate, predict and
// evaluate read and write it.
func TestRegistryCommandsOnS3(t *testing.T) {
	store := s3test.Need(t, s3server, s3err)
	for _, kv := range store.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 400, 31)
	other := filepath.Join(dir, "centre_b.parquet")
	mustCLI(t, "synth", "--n", "400", "--seed", "32", "--out", other)
	reg := store.URL(t)
	train := []string{"train", "--data", cohort, "--target", "objective_response", "--algo", "logistic", "--registry", reg, "--name", "orr", "--bootstrap", "20"}
	for _, want := range []string{"orr:v1", "orr:v2"} {
		if out := mustCLI(t, train...); !strings.Contains(out, want) || !strings.Contains(out, reg) {
			t.Fatalf("train: no %s in %s:\n%s", want, reg, out)
		}
	}
	mustCLI(t, "models", "alias", "--registry", reg, "orr", "production", "v1")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"models", "list", "--registry", reg}, []string{"orr", "v1", "v2", "production"}},
		{[]string{"models", "show", "--registry", reg, "orr:v2"}, []string{"orr"}},
		{[]string{"models", "history", "--registry", reg, "orr"}, []string{"production", "v1"}},
		{[]string{"models", "verify", "--registry", reg}, []string{"ok     orr:v1", "ok     orr:v2", "orr@production -> v1"}},
		{[]string{"models", "reproduce", "--registry", reg, "orr:v2", "--data", cohort}, []string{"reproduced orr:v2", "byte for byte"}},
		{[]string{"evaluate", "--registry", reg, "--model", "orr", "--data", cohort, "--bootstrap", "20"}, []string{"orr"}},
		{[]string{"models", "recalibrate", "--registry", reg, "orr:v2", "--data", other, "--bootstrap", "20"}, []string{"published orr:v3"}},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		for _, w := range c.want {
			if code != 0 || !strings.Contains(stdout, w) {
				t.Errorf("abscopal %s: exit %d, no %q:\n%s%s", strings.Join(c.args, " "), code, w, stdout, stderr)
				break
			}
		}
	}
	out := filepath.Join(dir, "scores.csv")
	mustCLI(t, "predict", "--registry", reg, "--model", "orr@production", "--data", cohort, "--out", out)
	if b, err := os.ReadFile(out); err != nil || strings.Count(string(b), "\n") != 401 {
		t.Errorf("predict from S3: %d lines, %v", strings.Count(string(b), "\n"), err)
	}

	// A bucket that does not exist, and a wrong secret: a clear error and
	// exit 1, before any training.
	code, _, stderr := runCLI(t, "models", "list", "--registry", "s3://no-such-bucket-abscopal")
	if code == 0 || !strings.Contains(stderr, `no bucket "no-such-bucket-abscopal"`) {
		t.Errorf("a missing bucket: exit %d, %s", code, stderr)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-5678")
	code, _, stderr = runCLI(t, train...)
	if code == 0 || !strings.Contains(stderr, "AWS_SECRET_ACCESS_KEY") || strings.Contains(stderr, "wrong-secret-5678") {
		t.Errorf("a wrong secret: exit %d, %s", code, stderr)
	}
}
