package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/api"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/fhir"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// validation is FHIR.js's verdict on one resource.
type validation struct {
	Valid    bool     `json:"valid"`
	Messages []string `json:"messages"`
}

// validateFHIR validates resources (JSON, one each) with FHIR.js.
func validateFHIR(t *testing.T, resources [][]byte) []validation {
	t.Helper()
	if _, err := os.Stat("node_modules/fhir"); err != nil {
		if os.Getenv("ABSCOPAL_REQUIRE_INTEROP") == "1" {
			t.Fatalf("FHIR.js is not installed (npm ci --prefix interop): %v", err)
		}
		t.Skip("FHIR.js not installed; run: npm ci --prefix interop")
	}
	path := filepath.Join(t.TempDir(), "resources.ndjson")
	var b bytes.Buffer
	for _, r := range resources {
		b.Write(r)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", "fhir_validate.mjs", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("fhir_validate.mjs: %v\n%s", err, stderr.String())
	}
	var vs []validation
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var v validation
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("validator output %q: %v", sc.Text(), err)
		}
		vs = append(vs, v)
	}
	if len(vs) != len(resources) {
		t.Fatalf("%d verdicts for %d resources", len(vs), len(resources))
	}
	return vs
}

// TestFHIRResourcesValidate: every resource abscopal writes is valid FHIR
// R4 by FHIR.js, strict about unknown properties: synthetic patients'
// Bundles (synth --format fhir), $predict's Bundles of RiskAssessments
// (with intervals, and with survival models), and its OperationOutcomes.
// A resource spoiled on purpose is refused, so that the validator is seen
// to judge.
func TestFHIRResourcesValidate(t *testing.T) {
	reg := &models.Registry{Dir: filepath.Join(t.TempDir(), "registry")}
	opts := train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10, Instability: 10, Intervals: true}
	for name, files := range map[string]map[string][]byte{
		"abscopal": modeltest.FilesWith(t, "abscopal", features.BuiltinSpec(data.AbscopalResponse), 400, 1, opts),
		"response": modeltest.Files(t, "response", features.BuiltinSpec(data.ObjectiveResponse), 400, 2),
		"os":       modeltest.SurvivalFiles(t, "os", "os", 400, 3),
	} {
		if _, err := reg.Publish(name, files); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := api.New(api.Config{Registry: reg.Dir, WatchInterval: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	post := func(body []byte) []byte { return postTo(t, hs.URL+"/fhir/r4/$predict?intervals=true", body) }
	var resources [][]byte
	var what []string
	intervals := 0 // answers with an interval (the abscopal model keeps bootstrap models)
	for _, p := range synth.Generate(12, 5) {
		for _, f := range data.CohortFields() {
			if f.Outcome || f.Synthetic {
				f.Set(&p, data.Null)
			}
		}
		b, err := fhir.BundleOf(&p, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		answer := post(b)
		if !strings.Contains(string(answer), `"RiskAssessment"`) {
			t.Fatalf("%s: $predict answered %s", p.PatientID, answer)
		}
		if strings.Contains(string(answer), "probability-interval-95") {
			intervals++
		}
		resources = append(resources, b, answer)
		what = append(what, p.PatientID+"'s chart", p.PatientID+"'s RiskAssessments")
		if len(resources) == 2 {
			resources = append(resources, postTo(t, hs.URL+"/fhir/r4/$compare-regimens", b))
			what = append(what, p.PatientID+"'s regimens compared")
		}
	}
	if intervals == 0 {
		t.Error("no answer held an interval: the abscopal model keeps bootstrap models")
	}
	resources = append(resources, post([]byte(`{"resourceType": "Patient", "id": "x"}`)))
	what = append(what, "an OperationOutcome")
	spoiled := bytes.Replace(resources[1], []byte(`"status":"final"`), []byte(`"status":"done"`), 1)
	resources = append(resources, spoiled)
	vs := validateFHIR(t, resources)
	for i, v := range vs[:len(vs)-1] {
		if !v.Valid {
			t.Errorf("%s is not valid FHIR R4: %v", what[i], v.Messages)
		}
	}
	if last := vs[len(vs)-1]; last.Valid || !strings.Contains(strings.Join(last.Messages, " "), "RiskAssessment.status") {
		t.Errorf("a RiskAssessment with status done passed: %+v", last)
	}
}

// postTo posts a FHIR body and returns the answer's.
func postTo(t *testing.T, url string, body []byte) []byte {
	t.Helper()
	resp, err := http.Post(url, "application/fhir+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
