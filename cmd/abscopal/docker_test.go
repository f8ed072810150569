package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
)

// TestDockerImage runs the image the Dockerfile builds, named by
// ABSCOPAL_DOCKER_IMAGE (deploy/docker/check.sh builds it and sets it; the
// test is skipped without): the README's docker run serving a registry
// written here, mounted read-only, healthy by the image's own HEALTHCHECK,
// as user 65532, serving a version published on the host without a
// restart, and stopping with status 0 on docker stop's SIGTERM; the
// same with the root file system read-only and every capability dropped;
// and the demo run in the image.
func TestDockerImage(t *testing.T) {
	image := os.Getenv("ABSCOPAL_DOCKER_IMAGE")
	if image == "" {
		t.Skip("set ABSCOPAL_DOCKER_IMAGE to an image built from the Dockerfile (bash deploy/docker/check.sh does)")
	}
	if want := os.Getenv("ABSCOPAL_DOCKER_VERSION"); want != "" {
		if out := docker(t, "run", "--rm", "--entrypoint", "/usr/local/bin/abscopal", image, "version"); !strings.Contains(out, "abscopal "+want) {
			t.Errorf("the image's binary says %q; want version %s", out, want)
		}
		if label := docker(t, "image", "inspect", "-f", `{{index .Config.Labels "org.opencontainers.image.version"}}`, image); label != want {
			t.Errorf("the image's version label: %q; want %s", label, want)
		}
	}
	if user := docker(t, "image", "inspect", "-f", "{{.Config.User}}", image); user != "65532:65532" {
		t.Errorf("the image runs as %q; want 65532:65532", user)
	}

	// A registry as abscopal train writes it, owned by this (root) user:
	// the container's user reads it through the files' own modes.
	reg := &models.Registry{Dir: filepath.Join(t.TempDir(), "models")}
	for _, m := range [][2]string{{"abscopal", "abscopal_response"}, {"response", "objective_response"}} {
		if _, err := reg.Publish(m[0], modeltest.Files(t, m[0], features.BuiltinSpec(m[1]), 800, 5)); err != nil {
			t.Fatal(err)
		}
	}
	mount := reg.Dir + ":/registry:ro"

	t.Run("serve", func(t *testing.T) {
		// The README's command, on a port of Docker's choosing and with the
		// HEALTHCHECK's interval shortened (its command is the image's).
		id := startContainer(t, "-p", "127.0.0.1::8080", "-v", mount, "--health-interval", "1s", image)
		base := "http://" + strings.TrimSpace(docker(t, "port", id, "8080/tcp"))
		waitHealthy(t, id)
		if uids := docker(t, "top", id, "-o", "pid,uid"); !strings.Contains(uids, "65532") {
			t.Errorf("the server's user: %q; want uid 65532", uids)
		}

		patient := `{"patient_id": "docker-patient-7", "ici_class": "pd1", "pdl1_tps": 60, "alc": 1.4, "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`
		code, body, raw := httpJSON(t, "POST", base+"/v1/predict", patient, "")
		if code != 200 {
			t.Fatalf("predict: %d %s", code, raw)
		}
		p := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)
		for _, target := range []string{"abscopal_response", "objective_response"} {
			pt, _ := p[target].(map[string]any)
			if prob, _ := pt["probability"].(float64); !(prob > 0 && prob < 1) || pt["version"] != "v1" {
				t.Errorf("predict %s: %s", target, raw)
			}
		}
		if code, body, raw := httpJSON(t, "GET", base+"/v1/models", "", ""); code != 200 || len(body["models"].([]any)) != 2 {
			t.Errorf("models: %d %s", code, raw)
		}
		if code, _, raw := httpJSON(t, "GET", base+"/metrics", "", ""); code != 200 || !strings.Contains(raw, `abscopal_predictions_total{model="response",target="objective_response",version="v1"}`) {
			t.Errorf("metrics: %d", code)
		}

		// A version published on the host is served without a restart: the
		// server watches the mounted registry.
		if _, err := reg.Publish("response", modeltest.Files(t, "response", features.BuiltinSpec("objective_response"), 800, 6)); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, body, raw := httpJSON(t, "POST", base+"/v1/predict", patient, "")
			v := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["objective_response"].(map[string]any)["version"]
			if v == "v2" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still serving %v 15 s after v2 was published: %s", v, raw)
			}
			time.Sleep(200 * time.Millisecond)
		}

		docker(t, "stop", id) // SIGTERM, then SIGKILL after 10 s
		if status := docker(t, "inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", id); status != "0 false" {
			t.Errorf("exit after docker stop: %q; want 0", status)
		}
		logs := docker(t, "logs", id)
		if !strings.Contains(logs, `"msg":"stopped"`) {
			t.Errorf("no clean stop in the logs:\n%s", logs)
		}
		if strings.Contains(logs, "docker-patient-7") || strings.Contains(logs, "pdl1_tps") {
			t.Errorf("the logs hold patient data:\n%s", logs)
		}
	})

	t.Run("hardened", func(t *testing.T) {
		// As a hospital might run it: nothing writable, no capabilities, no
		// privilege gained by exec. The server writes nothing.
		id := startContainer(t, "--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
			"-p", "127.0.0.1::8080", "-v", mount, "--health-interval", "1s", image)
		base := "http://" + strings.TrimSpace(docker(t, "port", id, "8080/tcp"))
		waitHealthy(t, id)
		if code, _, raw := httpJSON(t, "POST", base+"/v1/predict", `{"ici_class": "ctla4"}`, ""); code != 200 {
			t.Errorf("predict: %d %s", code, raw)
		}
	})

	t.Run("demo", func(t *testing.T) {
		// The README's first command, in the image: it synthesizes a cohort
		// and trains into /tmp, the image's only writable directory.
		id := startContainer(t, "-p", "127.0.0.1::8080", "--health-interval", "2s",
			"--entrypoint", "/usr/local/bin/abscopal", image, "demo", "--n", "1500", "--addr", ":8080")
		base := "http://" + strings.TrimSpace(docker(t, "port", id, "8080/tcp"))
		waitHealthy(t, id)
		code, body, raw := httpJSON(t, "GET", base+"/v1/models", "", "")
		if code != 200 || len(body["models"].([]any)) != 3 {
			t.Errorf("the demo's models: %d %s", code, raw)
		}
		if logs := docker(t, "logs", id); !strings.Contains(logs, "SYNTHETIC") {
			t.Errorf("the demo does not say its data are synthetic:\n%s", logs)
		}
	})
}

// docker runs the docker command line and returns its output, trimmed.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// startContainer runs a detached container with the docker run arguments
// given, removed when the test ends (its logs printed if the test failed).
func startContainer(t *testing.T, args ...string) string {
	t.Helper()
	id := docker(t, append([]string{"run", "-d"}, args...)...)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker", "logs", id).CombinedOutput()
			t.Logf("container logs:\n%s", out)
		}
		exec.Command("docker", "rm", "-f", id).Run()
	})
	return id
}

// waitHealthy waits for the container's HEALTHCHECK to pass: up to 3
// minutes, which the demo's training needs on a slow machine.
func waitHealthy(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		state := docker(t, "inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", id)
		switch state {
		case "running healthy":
			return
		case "running starting":
		default:
			t.Fatalf("container %s: %s", id[:12], state)
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s not healthy after 3 minutes", id[:12])
		}
		time.Sleep(500 * time.Millisecond)
	}
}
