package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/models"
)

// TestReproduce retrains published versions from their records: the same
// files come out of the real thing, and a version that differs from what
// its record makes is named, part by part.
func TestReproduce(t *testing.T) {
	dir := t.TempDir()
	// As few patients as reproducing needs: the logistic model's penalty is
	// tuned again in each of its bootstrap models.
	const n = 250
	cohort := synthCohort(t, dir, n, 12)
	regDir := filepath.Join(dir, "registry")
	for _, args := range [][]string{
		{"--algo", "gbm", "--trees", "30", "--by", "ecog", "--calibration", "isotonic", "--threshold", "0.35", "--survival", "pfs,os"},
		{"--algo", "forest", "--trees", "11", "--min-leaf", "5", "--seed", "4", "--folds", "3"},
		{"--algo", "logistic", "--tune", "--folds", "3", "--instability", "3", "--intervals"}, // the penalty tuned again, in every bootstrap model too
	} {
		name := args[1]
		train := append([]string{"train", "--data", cohort, "--target", "objective_response", "--registry", regDir, "--name", name, "--bootstrap", "20"}, args...)
		mustCLI(t, train...)
		code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", regDir, name, "--data", cohort)
		if code != 0 || !strings.Contains(stdout, "reproduced "+name+":v1 from cohort.parquet, byte for byte") || strings.Contains(stdout, "DIFFERENT") {
			t.Errorf("%s: exit %d\n%s%s", name, code, stdout, stderr)
		}
		if name == "logistic" && (!strings.Contains(stdout, "same       instability.svg\n") || !strings.Contains(stdout, "same       bootstrap.json\n")) {
			t.Errorf("%s: the stability analysis was not reproduced:\n%s", name, stdout)
		}
		if name == "gbm" && (!strings.Contains(stdout, "same       survival_os.svg\n") || !strings.Contains(stdout, "same       survival_pfs.svg\n")) {
			t.Errorf("%s: the survival comparison was not reproduced:\n%s", name, stdout)
		}
	}

	// models list gives the stability analysis's MAPE where there is one.
	code, stdout, _ := runCLI(t, "models", "list", "--registry", regDir)
	if !regexp.MustCompile(`(?m)^logistic +v1 .* 0\.\d{3} +SYNTHETIC$`).MatchString(stdout) || !regexp.MustCompile(`(?m)^gbm +v1 .* - +SYNTHETIC$`).MatchString(stdout) || code != 0 {
		t.Errorf("models list: exit %d, no MAPE for logistic:v1 or one for gbm:v1:\n%s", code, stdout)
	}

	// The same version's files, altered and published as v2 with a MANIFEST
	// of their own: the card, then the bundle's training record.
	reg := &models.Registry{Dir: regDir}
	files, err := reg.ReadVerified("forest", "v1")
	if err != nil {
		t.Fatal(err)
	}
	delete(files, "MANIFEST")
	card := files["card.md"]
	files["card.md"] = append(bytes.Clone(card), "\nEdited by hand.\n"...)
	if v, err := reg.Publish("forest", files); err != nil || v != "v2" {
		t.Fatalf("publish: %v %v", v, err)
	}
	files["card.md"] = card
	files["bundle.json"] = bytes.Replace(files["bundle.json"], []byte(fmt.Sprintf(`"rows": %d,`, n)), []byte(fmt.Sprintf(`"rows": %d,`, n+1)), 1)
	if v, err := reg.Publish("forest", files); err != nil || v != "v3" {
		t.Fatalf("publish: %v %v", v, err)
	}
	for _, tt := range []struct{ version, want, same string }{
		{"v2", "DIFFERENT  card.md\n", "same       bundle.json\n"},
		{"v3", "DIFFERENT  bundle.json (training)\n", "same       calibration.svg\n"},
	} {
		code, stdout, stderr := runCLI(t, "models", "reproduce", "--registry", regDir, "forest:"+tt.version, "--data", cohort)
		if code != 1 || !strings.Contains(stdout, tt.want) || !strings.Contains(stdout, tt.same) || !strings.Contains(stderr, "forest:"+tt.version+" not reproduced from cohort.parquet (made by abscopal") {
			t.Errorf("%s: exit %d\n%s%s", tt.version, code, stdout, stderr)
		}
	}

	// Other data, and a bundle from before the bootstrap count was recorded.
	other := filepath.Join(dir, "other.parquet")
	mustCLI(t, "synth", "--n", "300", "--seed", "13", "--out", other)
	if code, _, stderr := runCLI(t, "models", "reproduce", "--registry", regDir, "gbm:v1", "--data", other); code != 1 || !strings.Contains(stderr, "other.parquet is not the training data of gbm:v1: SHA-256 ") {
		t.Errorf("other data: exit %d, %s", code, stderr)
	}
	files["bundle.json"] = bytes.Replace(files["bundle.json"], []byte(`"bootstrap": 20,`), nil, 1)
	if _, err := reg.Publish("old", files); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "models", "reproduce", "--registry", regDir, "old", "--data", cohort); code != 1 || !strings.Contains(stderr, "cannot reproduce: forest was made before bundles recorded the bootstrap count") {
		t.Errorf("old bundle: exit %d, %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "models", "reproduce", "--registry", regDir, "gbm"); code != 2 || !strings.Contains(stderr, "--data is required") {
		t.Errorf("no data: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(regDir, "forest", "v4")); !os.IsNotExist(err) {
		t.Errorf("reproduce published a version (%v)", err)
	}
}
