package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/web"
)

// cohortFile writes patients to a file of the given extension and returns
// its bytes.
func cohortFile(t *testing.T, ps []data.Patient, ext string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cohort"+ext)
	if err := data.WriteCohort(path, ps, data.CohortWriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestScoreFile: a file sent to /v1/score gets one row of scores per row,
// each probability exactly /v1/predict's for the same patient, in CSV and
// in Parquet.
func TestScoreFile(t *testing.T) {
	c := newClient(t, newServer(t, Config{}))
	ps := synth.Generate(25, 41)
	for _, tc := range []struct{ ext, ct string }{{".csv", "text/csv"}, {".parquet", "application/vnd.apache.parquet"}} {
		t.Run(tc.ext, func(t *testing.T) {
			status, body := c.send("POST", "/v1/score?target=abscopal_response", tc.ct, cohortFile(t, ps, tc.ext), true)
			if status != 200 {
				t.Fatalf("status %d: %v", status, body)
			}
			if body["rows"].(float64) != float64(len(ps)) || body["model"] != "abscopal" || body["target"] != "abscopal_response" {
				t.Fatalf("summary %v", body)
			}
			rows, err := csv.NewReader(strings.NewReader(body["scores_csv"].(string))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(ps)+1 || rows[0][0] != "patient_id" || rows[0][1] != "probability" {
				t.Fatalf("scores: %d rows, header %v", len(rows), rows[0])
			}
			undefined := 0
			for i, row := range rows[1:] {
				pj, _ := json.Marshal(canonicalPatient(&ps[i]))
				_, pred := c.do("POST", "/v1/predict", string(pj), true)
				want := prediction(t, pred, 0, "abscopal_response")["probability"]
				if row[0] != ps[i].PatientID {
					t.Fatalf("row %d is patient %s, want %s", i+1, row[0], ps[i].PatientID)
				}
				if want == nil {
					if row[1] != "" {
						t.Errorf("%s: probability %s where /v1/predict gives none", row[0], row[1])
					}
					undefined++
					continue
				}
				got, err := strconv.ParseFloat(row[1], 64)
				if err != nil || got != want.(float64) {
					t.Errorf("%s: the file's probability %s, /v1/predict's %v", row[0], row[1], want)
				}
			}
			if body["undefined_rows"].(float64) != float64(undefined) {
				t.Errorf("undefined_rows %v, counted %d", body["undefined_rows"], undefined)
			}
		})
	}
}

// TestScoreFileRefusals: what /v1/score refuses, and that a refusal names
// the row and column but not the server's temporary files.
func TestScoreFileRefusals(t *testing.T) {
	c := newClient(t, newServer(t, Config{MaxUploadBytes: 4096}))
	ps := synth.Generate(3, 5)
	good := cohortFile(t, ps, ".csv")
	// The second patient's alc out of range.
	lines := strings.Split(strings.TrimRight(string(good), "\n"), "\n")
	header := strings.Split(lines[0], ",")
	col := -1
	for j, h := range header {
		if h == "alc" {
			col = j
		}
	}
	cells := strings.Split(lines[2], ",")
	cells[col] = "99"
	lines[2] = strings.Join(cells, ",")
	bad := strings.Join(lines, "\n") + "\n"

	for _, tc := range []struct {
		name, path, ct string
		body           []byte
		status         int
		says           string
	}{
		{"no target", "/v1/score", "text/csv", good, 422, "target is one of"},
		{"unknown target", "/v1/score?target=os", "text/csv", good, 422, "target is one of"},
		{"no model of the target", "/v1/score?target=pneumonitis_grade", "text/csv", good, 422, "no model answers pneumonitis_grade"},
		{"a JSON body", "/v1/score?target=objective_response", "application/json", []byte(`{}`), 415, "text/csv"},
		{"no Content-Type", "/v1/score?target=objective_response", "", good, 415, "text/csv"},
		{"empty", "/v1/score?target=objective_response", "text/csv", nil, 400, "empty"},
		{"too large", "/v1/score?target=objective_response", "text/csv", []byte(strings.Repeat("x", 5000)), 413, "4096"},
		{"a value out of range", "/v1/score?target=objective_response", "text/csv", []byte(bad), 422, "alc"},
		{"not Parquet", "/v1/score?target=objective_response", "application/vnd.apache.parquet", good, 422, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.send("POST", tc.path, tc.ct, tc.body, false)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, body)
			}
			msg := fmt.Sprint(body["error"].(map[string]any)["message"])
			if !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not say %q", msg, tc.says)
			}
			if strings.Contains(msg, os.TempDir()) || strings.Contains(msg, "abscopal-score-") {
				t.Errorf("message %q shows the server's temporary files", msg)
			}
		})
	}
	// The row and the column of the bad value, and its allowed range.
	_, body := c.send("POST", "/v1/score?target=objective_response", "text/csv", []byte(bad), false)
	msg := fmt.Sprint(body["error"].(map[string]any)["message"])
	for _, want := range []string{"row 2", "alc", "[0, 50]"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not name %q", msg, want)
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(os.TempDir(), "abscopal-score-*")); len(entries) > 0 {
		t.Errorf("temporary directories left: %v", entries)
	}
}

// TestCalculatorPage: with Config.UI the page is served at /, built from
// the cohort schema (a labelled control for every input field, with its
// range), under a strict Content-Security-Policy; without it, / is 404.
func TestCalculatorPage(t *testing.T) {
	on := httptestServer(t, Config{UI: true})
	resp, err := http.Get(on + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := resp.Header.Get("Content-Security-Policy"); got != web.ContentSecurityPolicy || strings.Contains(got, "unsafe") {
		t.Errorf("Content-Security-Policy %q", got)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	for _, f := range data.CohortFields() {
		label := fmt.Sprintf(`<label for="f-%s">`, f.Name)
		if f.Outcome || f.Synthetic {
			if strings.Contains(string(page), label) {
				t.Errorf("the form asks for %s, an outcome", f.Name)
			}
			continue
		}
		if !strings.Contains(string(page), label) || !strings.Contains(string(page), `id="f-`+f.Name+`"`) {
			t.Errorf("no labelled control for %s", f.Name)
		}
		if f.HasRange && !strings.Contains(string(page), fmt.Sprintf(`max="%s"`, strconv.FormatFloat(f.Max, 'g', -1, 64))) {
			t.Errorf("%s: no max %g", f.Name, f.Max)
		}
	}
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=|javascript:`).Match(page) {
		t.Error("inline script in the page")
	}
	for path, ct := range map[string]string{"/ui/app.js": "text/javascript", "/ui/style.css": "text/css", "/ui/nothing.js": "text/plain", "/ui/..%2fweb.go": "text/plain"} {
		resp, err := http.Get(on + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := 200
		if strings.HasPrefix(ct, "text/plain") {
			want = 404
		}
		if resp.StatusCode != want || (want == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), ct)) {
			t.Errorf("GET %s: %d %s, want %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want, ct)
		}
	}
	off := httptestServer(t, Config{})
	resp, err = http.Get(off + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET / without UI: %d", resp.StatusCode)
	}
}

// httptestServer serves a Server for cfg on loopback and returns its URL.
func httptestServer(t *testing.T, cfg Config) string {
	t.Helper()
	hs := httptest.NewServer(newServer(t, cfg).Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}
