package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/internal/testkit/gobuild"
	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
	"github.com/abscopal/abscopal/internal/testkit/testcert"
)

// TestEndToEnd builds the binary, serves a registry trained here over real
// HTTP, calls every endpoint, reloads on SIGHUP and stops on SIGTERM.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	cohort, reg := filepath.Join(dir, "cohort.parquet"), filepath.Join(dir, "registry")
	run := func(args ...string) string {
		t.Helper()
		return runBinary(t, bin, args...)
	}
	run("synth", "--n", "1500", "--seed", "3", "--out", cohort)
	for _, m := range [][2]string{{"abscopal", "abscopal_response"}, {"response", "objective_response"}} {
		run("train", "--data", cohort, "--target", m[1], "--algo", "logistic", "--registry", reg, "--name", m[0], "--bootstrap", "20")
	}
	// One client by its token, one by the digest abscopal token gives.
	var made madeToken
	if err := json.Unmarshal([]byte(run("token", "--client", "hashed-client", "--json")), &made); err != nil {
		t.Fatal(err)
	}
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("# clients\ne2e-token\n"+made.Line+"\n"), 0o600)

	srv, addr, logs := startServe(t, bin, "--registry", reg, "--tokens-file", tokens, "--metrics-public")
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()

	base := "http://" + addr
	call := func(method, path, body string, auth bool) (int, map[string]any, string) {
		t.Helper()
		token := ""
		if auth {
			token = "e2e-token"
		}
		return httpJSON(t, method, base+path, body, token)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after 20 s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The Docker image's HEALTHCHECK.
	if out := run("healthcheck", "--url", base+"/readyz"); !strings.Contains(out, "200 OK") {
		t.Errorf("healthcheck: %q", out)
	}

	if code, _, _ := call("POST", "/v1/predict", `{"ici_class": "pd1"}`, false); code != 401 {
		t.Errorf("predict without a token: %d", code)
	}
	patient := `{"patient_id": "e2e", "ici_class": "pd1", "pdl1_tps": 60, "alc": 1.4, "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung"}`
	code, body, raw := call("POST", "/v1/predict", patient, true)
	p := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)
	pa := p["abscopal_response"].(map[string]any)
	if prob, _ := pa["probability"].(float64); code != 200 || !(prob > 0 && prob < 1) || pa["version"] != "v1" {
		t.Errorf("predict: %d %s", code, raw)
	}
	if code, _, raw := httpJSON(t, "POST", base+"/v1/predict", patient, made.Token); code != 200 {
		t.Errorf("predict with the token whose digest the file holds: %d %s", code, raw)
	}
	if code, _, _ := httpJSON(t, "POST", base+"/v1/predict", patient, strings.TrimPrefix(strings.Fields(made.Line)[1], "sha256:")); code != 401 {
		t.Errorf("predict with the digest itself: %d, want 401", code)
	}
	code, body, raw = call("POST", "/v1/regimens/compare", `{"patient": `+patient+`}`, true)
	if code != 200 || len(body["regimens"].([]any)) != 7 {
		t.Errorf("regimens: %d %s", code, raw)
	}
	code, body, _ = call("GET", "/v1/models", "", true)
	if code != 200 || len(body["models"].([]any)) != 2 {
		t.Errorf("models: %d %v", code, body)
	}
	code, body, _ = call("GET", "/v1/models/response", "", true)
	if code != 200 || !strings.Contains(body["card"].(string), "objective_response") {
		t.Errorf("model: %d", code)
	}
	if code, body, _ = call("GET", "/v1/schema", "", true); code != 200 || len(body["fields"].([]any)) != 26 {
		t.Errorf("schema: %d", code)
	}
	for _, path := range []string{"/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/abscopal", "/v2/models/abscopal/ready", "/v2/models/abscopal/versions/v1", "/v2/models/abscopal/versions/v1/ready"} {
		if code, _, raw := call("GET", path, "", true); code != 200 {
			t.Errorf("%s: %d %s", path, code, raw)
		}
	}
	code, body, raw = call("POST", "/v2/models/response/infer", `{"id": "x1", "inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [2], "data": ["pd1", "ctla4"]}]}`, true)
	if code != 200 || body["id"] != "x1" || len(body["outputs"].([]any)[0].(map[string]any)["data"].([]any)) != 2 {
		t.Errorf("infer: %d %s", code, raw)
	}
	if code, _, raw = call("GET", "/metrics", "", false); code != 200 || !strings.Contains(raw, `abscopal_predictions_total{model="abscopal",target="abscopal_response",version="v1"}`) {
		t.Errorf("metrics: %d", code)
	}
	if code, body, _ = call("GET", "/openapi.json", "", false); code != 200 || body["openapi"] != "3.0.3" {
		t.Errorf("openapi: %d", code)
	}

	// FHIR and CDS Hooks through the binary: the first synthetic patients
	// of the cohort's seed, written as FHIR charts by synth --format fhir,
	// get from $predict and from the CDS service the probabilities
	// /v1/predict gives the same patients read from the Parquet cohort.
	charts := filepath.Join(dir, "charts.ndjson")
	run("synth", "--n", "4", "--seed", "3", "--format", "fhir", "--out", charts)
	cohortPatients, err := data.ReadCohort(context.Background(), cohort)
	if err != nil {
		t.Fatal(err)
	}
	chartLines, _ := os.ReadFile(charts)
	for i, line := range strings.Split(strings.TrimSpace(string(chartLines)), "\n") {
		p := cohortPatients[i]
		for _, f := range data.CohortFields() {
			if f.Outcome || f.Synthetic {
				f.Set(&p, data.Null)
			}
		}
		js, _ := json.Marshal(p)
		_, body, _ := call("POST", "/v1/predict", string(js), true)
		want := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["objective_response"].(map[string]any)["probability"].(float64)
		code, body, raw := call("POST", "/fhir/r4/$predict", line, true)
		got := -1.0
		for _, e := range body["entry"].([]any) {
			ra := e.(map[string]any)["resource"].(map[string]any)
			for _, pr := range ra["prediction"].([]any) {
				prm := pr.(map[string]any)
				if prm["outcome"].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] == "objective-response" {
					got = prm["probabilityDecimal"].(float64)
				}
			}
		}
		if code != 200 || got != want {
			t.Errorf("%s: $predict %d, objective response %v; /v1/predict %v\n%.300s", p.PatientID, code, got, want, raw)
		}
		req, _ := json.Marshal(map[string]any{"hook": "patient-view", "hookInstance": "e2e-" + p.PatientID,
			"context": map[string]any{"userId": "Practitioner/e2e", "patientId": p.PatientID}, "prefetch": prefetchFromChart(t, []byte(line))})
		code, body, raw = call("POST", "/cds-services/abscopal-radioimmunotherapy", string(req), true)
		if code != 200 || !strings.Contains(raw, fmt.Sprintf("Objective response %.0f%%", 100*want)) {
			t.Errorf("%s: the CDS service %d, /v1/predict's objective response %.0f%%:\n%s", p.PatientID, code, 100*want, raw)
		}
	}
	if code, _, _ := call("POST", "/cds-services/abscopal-radioimmunotherapy", `{"hook": "patient-view"}`, false); code != 401 {
		t.Errorf("the CDS service without a token: %d", code)
	}

	// SIGHUP reload: a new version made production is served.
	run("train", "--data", cohort, "--target", "abscopal_response", "--algo", "gbm", "--trees", "30", "--registry", reg, "--name", "abscopal", "--bootstrap", "20")
	run("models", "alias", "--registry", reg, "abscopal", "production", "v2")
	srv.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for {
		_, body, _ := call("POST", "/v1/predict", patient, true)
		v := body["predictions"].([]any)[0].(map[string]any)["predictions"].(map[string]any)["abscopal_response"].(map[string]any)["version"]
		if v == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving %v 10 s after SIGHUP", v)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// SIGTERM: a clean exit.
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatal("no exit 25 s after SIGTERM")
	}
	out, err := exec.Command(bin, "healthcheck", "--url", base+"/readyz", "--timeout", "1s").CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), base+"/readyz") {
		t.Errorf("healthcheck of a stopped server: exit %d, %q", code, out)
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Errorf("no clean stop in the logs:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "e2e") && strings.Contains(logs.String(), "pdl1_tps") {
		t.Error("the logs hold patient data")
	}
	if !strings.Contains(logs.String(), `"client":"hashed-client"`) || strings.Contains(logs.String(), made.Token) {
		t.Error("the log should name the client of the hashed token, and never hold the token")
	}

	t.Run("tls", func(t *testing.T) { serveTLS(t, bin, reg, tokens, patient) })
}

// serveTLS runs the binary with its own certificate: HTTPS is answered,
// the HEALTHCHECK probes it, and one SIGHUP revokes a token for another and
// serves a renewed certificate, without a restart.
func serveTLS(t *testing.T, bin, reg, tokens, patient string) {
	certs := t.TempDir()
	certFile, keyFile, cert := testcert.Write(t, certs, 1)
	os.WriteFile(tokens, []byte("e2e-token\n"), 0o600)
	srv, addr, logs := startServe(t, bin, "--registry", reg, "--tokens-file", tokens, "--tls-cert", certFile, "--tls-key", keyFile)
	base := "https://" + addr

	// predict calls /v1/predict with token over a new connection that
	// trusts cert; it returns the status and the serial the server showed.
	predict := func(token string, cert *x509.Certificate) (int, int64, error) {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		req, _ := http.NewRequest("POST", base+"/v1/predict", strings.NewReader(patient))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _, err := predict("e2e-token", cert); err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HTTPS answer after 20 s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The probe of a self-signed server needs --insecure, and says why
	// without it.
	if out, err := exec.Command(bin, "healthcheck", "--url", base+"/readyz", "--insecure").CombinedOutput(); err != nil || !strings.Contains(string(out), "200 OK") {
		t.Errorf("healthcheck --insecure: %v %q", err, out)
	}
	if out, err := exec.Command(bin, "healthcheck", "--url", base+"/readyz").CombinedOutput(); exitCode(err) != 1 || !strings.Contains(string(out), "certificate") {
		t.Errorf("healthcheck of a self-signed server: %v %q", err, out)
	}

	os.WriteFile(tokens, []byte("rotated-token\n"), 0o600)
	_, _, renewed := testcert.Write(t, certs, 2)
	srv.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for {
		code, serial, err := predict("e2e-token", renewed)
		if err == nil && code == 401 && serial == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after SIGHUP: the old token gives %d with certificate %d (%v); want 401 with 2:\n%s", code, serial, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, err := predict("rotated-token", renewed); err != nil || code != 200 {
		t.Errorf("the new token after SIGHUP: %d %v", code, err)
	}
	// Emptied by mistake, the tokens file does not open the API.
	os.WriteFile(tokens, nil, 0o600)
	srv.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if code, _, err := predict("rotated-token", renewed); err != nil || code != 200 {
		t.Errorf("after an emptied tokens file: %d %v", code, err)
	}
	if code, _, _ := predict("", renewed); code != 401 {
		t.Errorf("no token after an emptied tokens file: %d, want 401", code)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "tokens not reloaded") || strings.Contains(logs.String(), "rotated-token") {
		t.Errorf("logs: the emptied file's refusal should be there, no token:\n%s", logs.String())
	}
}

// httpJSON makes a request, with a bearer token if one is given, and
// decodes a JSON object answer; it returns the status, the object and the
// body as text.
func httpJSON(t *testing.T, method, url, body, token string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m, string(b)
}

// buildBinary builds abscopal into dir and returns its path.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "abscopal")
	if err := gobuild.Build(".", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// runBinary runs the built binary and returns its output; it stops the
// test, with the output, unless the command exits 0.
func runBinary(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("abscopal %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// startServe starts "abscopal serve" with args on a free loopback port,
// its log going to the buffer returned; the process is killed when the test
// ends, if it has not stopped by then.
func startServe(t *testing.T, bin string, args ...string) (*exec.Cmd, string, *syncbuf.Buffer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logs := &syncbuf.Buffer{}
	srv := exec.Command(bin, append([]string{"serve", "--addr", addr}, args...)...)
	srv.Stderr = logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill() })
	return srv, addr, logs
}

// exitCode is the exit status of a finished command, 0 when err is nil.
func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// prefetchFromChart splits a chart Bundle into the prefetch an EHR sends:
// the Patient, and a search Bundle of each other kind of resource.
func prefetchFromChart(t *testing.T, chart []byte) map[string]any {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(chart, &b); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{"Observation": "observations", "Condition": "conditions", "MedicationAdministration": "medicationAdministrations",
		"MedicationRequest": "medicationRequests", "Procedure": "radiotherapy"}
	pre := map[string]any{}
	searches := map[string][]any{}
	for _, e := range b.Entry {
		typ := e.Resource["resourceType"].(string)
		if typ == "Patient" {
			pre["patient"] = e.Resource
			continue
		}
		searches[keys[typ]] = append(searches[keys[typ]], map[string]any{"resource": e.Resource})
	}
	for _, k := range keys {
		pre[k] = map[string]any{"resourceType": "Bundle", "type": "searchset", "entry": searches[k]}
	}
	return pre
}
