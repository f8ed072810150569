package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abscopal/abscopal/api"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive Debian's Chromium (headless) through the
// calculator served by a real api.Server on loopback. They skip under
// -short, and when Chromium is not installed unless
// ABSCOPAL_REQUIRE_BROWSER is set (CI sets it and installs Chromium).
// ABSCOPAL_SCREENSHOTS=DIR writes screenshots of the main views there
// (docs/images holds the README's).

// browserTest is one page in a fresh headless Chromium, against a server
// whose /v1/predict and /v1/regimens/compare requests are counted.
type browserTest struct {
	t        *testing.T
	ctx      context.Context
	base     string
	scored   atomic.Int64 // requests to /v1/predict and /v1/regimens/compare
	shotsDir string
}

var (
	registryOnce sync.Once
	registryDir  string
	registryErr  error
)

// registry trains the three /v1 targets' models (logistic, on small
// synthetic cohorts) once per test binary.
func registry(t *testing.T) string {
	t.Helper()
	registryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "abscopal-web-test-")
		if err != nil {
			registryErr = err
			return
		}
		registryDir = filepath.Join(dir, "registry")
		reg := &models.Registry{Dir: registryDir}
		pneumonitis := features.BuiltinSpec(data.PneumonitisGrade)
		grade2 := 2.0
		pneumonitis.Target.Positive, pneumonitis.Target.AtLeast = nil, &grade2
		for _, m := range []struct {
			name      string
			spec      *features.Spec
			seed      uint64
			intervals bool
		}{
			{"abscopal", features.BuiltinSpec(data.AbscopalResponse), 1, false},
			{"response", features.BuiltinSpec(data.ObjectiveResponse), 2, true}, // keeps 20 bootstrap models
			{"pneumonitis", pneumonitis, 3, false},
		} {
			opts := train.Options{Algo: "logistic", Folds: 3, Seed: m.seed, Bootstrap: 10}
			if m.intervals {
				opts.Instability, opts.Intervals = 20, true
			}
			if _, err := reg.Publish(m.name, modeltest.FilesWith(t, m.name, m.spec, 800, m.seed, opts)); err != nil {
				registryErr = err
				return
			}
		}
		if _, err := reg.Publish("os", modeltest.SurvivalFilesWith(t, "os", "os", 800, train.SurvivalOptions{Folds: 3, Seed: 4, Bootstrap: 20, Instability: 10, Intervals: true})); err != nil {
			registryErr = err
		}
	})
	if registryErr != nil {
		t.Fatal(registryErr)
	}
	return registryDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if registryDir != "" {
		os.RemoveAll(filepath.Dir(registryDir))
	}
	os.Exit(code)
}

func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests: not with -short")
	}
	for _, name := range []string{os.Getenv("ABSCOPAL_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ABSCOPAL_REQUIRE_BROWSER") != "" {
		t.Fatal("Chromium is required (ABSCOPAL_REQUIRE_BROWSER) and not installed: apt-get install chromium")
	}
	t.Skip("Chromium not installed (apt-get install chromium)")
	return ""
}

// newBrowserTest serves the calculator with cfg (its registry and UI set
// here) and opens it in Chromium.
func newBrowserTest(t *testing.T, cfg api.Config) *browserTest {
	t.Helper()
	exe := chromium(t)
	cfg.Registry, cfg.UI, cfg.WatchInterval = registry(t), true, -1
	cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bt := &browserTest{t: t, shotsDir: os.Getenv("ABSCOPAL_SCREENSHOTS")}
	h := srv.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && (r.URL.Path == "/v1/predict" || r.URL.Path == "/v1/regimens/compare") {
			bt.scored.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	bt.base = hs.URL

	// The flags the machine's closed network needs (no background
	// connections to Google's hosts) and a root user needs (no sandbox).
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	bt.ctx = ctx
	return bt
}

func (bt *browserTest) run(actions ...chromedp.Action[chromedp.Void]) {
	bt.t.Helper()
	if err := chromedp.Do(bt.ctx, actions...); err != nil {
		bt.t.Fatal(err)
	}
}

// eval runs a JavaScript expression in the page (awaiting a promise) and
// returns its value.
func eval[T any](bt *browserTest, expr string) T {
	bt.t.Helper()
	v, err := chromedp.Run(bt.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		bt.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// text is the visible text of the element sel selects.
func (bt *browserTest) text(sel string) string {
	bt.t.Helper()
	v, err := chromedp.Run(bt.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		bt.t.Fatalf("%s: %v", sel, err)
	}
	return v
}

// attr is the attribute of the element sel selects.
func (bt *browserTest) attr(sel, name string) string {
	bt.t.Helper()
	v, err := chromedp.Run(bt.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		bt.t.Fatalf("%s: %v", sel, err)
	}
	return v.Value
}

// open loads the page and waits for its first answer.
func (bt *browserTest) open() {
	bt.t.Helper()
	bt.run(chromedp.Navigate(bt.base+"/"), chromedp.WaitVisible(chromedp.CSS(`#t-objective_response .prob`)))
	bt.waitScored()
}

// waitScored waits until the page says it has scored the current form.
func (bt *browserTest) waitScored() {
	bt.t.Helper()
	if _, err := chromedp.Run(bt.ctx, chromedp.Poll[bool](`document.getElementById('status').textContent.startsWith('Scored')`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		bt.t.Fatalf("waiting for the page to score: %v (status %q)", err, bt.text("#status"))
	}
}

// resetStatus clears the status line so that waitScored waits for the
// answer to what happens next.
func (bt *browserTest) resetStatus() {
	bt.t.Helper()
	eval[any](bt, `document.getElementById('status').textContent = ''`)
}

// screenshot writes a PNG of the element sel selects ("" for the window)
// to the screenshots directory, when there is one.
func (bt *browserTest) screenshot(name, sel string) {
	bt.t.Helper()
	if bt.shotsDir == "" {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if sel != "" {
		shot = chromedp.Screenshot(chromedp.CSS(sel))
	}
	png, err := chromedp.Run(bt.ctx, shot)
	if err != nil {
		bt.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bt.shotsDir, name), png, 0o644); err != nil {
		bt.t.Fatal(err)
	}
}

// inputs is a patient's input fields as the form holds them: the value's
// text by field name, unknown fields empty.
func inputs(p *data.Patient) map[string]string {
	out := map[string]string{}
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			continue
		}
		v := f.Get(p)
		switch {
		case !v.Valid:
			out[f.Name] = ""
		case f.Kind == data.KindFloat || f.Kind == data.KindInt:
			out[f.Name] = strconv.FormatFloat(v.Num, 'g', -1, 64)
		case f.Kind == data.KindBool:
			out[f.Name] = strconv.FormatBool(v.Bool)
		default:
			out[f.Name] = v.Str
		}
	}
	return out
}

// fill sets the form to the patient's values, typing one of them as a
// user would, and waits for the page's answer.
func (bt *browserTest) fill(in map[string]string) {
	bt.t.Helper()
	bt.resetStatus()
	var actions []chromedp.Action[chromedp.Void]
	for name, v := range in {
		if name == "pdl1_tps" && v != "" {
			continue // typed below
		}
		actions = append(actions, chromedp.SetValue(chromedp.CSS("#f-"+name), v))
	}
	actions = append(actions, chromedp.SetValue(chromedp.CSS("#f-pdl1_tps"), ""))
	if v := in["pdl1_tps"]; v != "" {
		actions = append(actions, chromedp.SendKeys(chromedp.CSS("#f-pdl1_tps"), v))
	}
	bt.run(actions...)
	eval[bool](bt, `document.getElementById('patient').dispatchEvent(new Event('change'))`)
	bt.waitScored()
}

// apiPredict asks /v1/predict for the patient, as any client would.
func (bt *browserTest) apiPredict(in map[string]string, header http.Header) map[string]any {
	bt.t.Helper()
	body := map[string]any{}
	for _, f := range data.CohortFields() {
		v, ok := in[f.Name]
		if !ok || v == "" {
			continue
		}
		switch f.Kind {
		case data.KindFloat, data.KindInt:
			x, _ := strconv.ParseFloat(v, 64)
			body[f.Name] = x
		case data.KindBool:
			body[f.Name] = v == "true"
		default:
			body[f.Name] = v
		}
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", bt.base+"/v1/predict?intervals=true", bytes.NewReader(b))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		bt.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Predictions []struct {
			Predictions map[string]map[string]any `json:"predictions"`
		} `json:"predictions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
		bt.t.Fatalf("/v1/predict: %d %v", resp.StatusCode, err)
	}
	probs := map[string]any{}
	for k, v := range out.Predictions[0].Predictions {
		probs[k] = v["probability"]
		if iv, ok := v["interval_95"].([]any); ok {
			probs[k+"_interval"] = fmt.Sprint(iv[0], " ", iv[1])
		}
	}
	return probs
}

// shownProbabilities reads each target's probability as the page holds it.
func (bt *browserTest) shownProbabilities() map[string]any {
	bt.t.Helper()
	return eval[map[string]any](bt, `Object.fromEntries(['objective_response', 'abscopal_response', 'pneumonitis'].map((k) => {
		const e = document.querySelector('#t-' + k + ' .prob');
		return [k, e ? Number(e.dataset.probability) : null];
	}).concat(Array.from(document.querySelectorAll('#targets .interval')).map((e) =>
		[e.closest('.target').id.slice(2) + '_interval', e.dataset.interval.split(' ').map(Number).join(' ')])))`)
}

// TestFormMatchesAPI: patients filled into the form get exactly
// /v1/predict's probabilities, for every target.
func TestFormMatchesAPI(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	bt.screenshot("calculator.png", "")
	ps := synth.Generate(6, 77)
	for i := range ps {
		in := inputs(&ps[i])
		bt.fill(in)
		want, got := bt.apiPredict(in, nil), bt.shownProbabilities()
		if _, ok := want["objective_response_interval"]; !ok && want["objective_response"] != nil {
			t.Fatalf("/v1/predict gave no interval for the model that kept bootstrap models")
		}
		for _, k := range []string{"objective_response", "abscopal_response", "pneumonitis", "objective_response_interval", "abscopal_response_interval"} {
			if fmt.Sprint(got[k]) != fmt.Sprint(want[k]) {
				t.Errorf("patient %s, %s: the page shows %v, /v1/predict gives %v", ps[i].PatientID, k, got[k], want[k])
			}
		}
	}
}

// TestOutOfRange: a value outside the schema's range shows the field's
// message, marks the field invalid and sends nothing.
func TestOutOfRange(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	before := bt.scored.Load()
	bt.run(chromedp.SetValue(chromedp.CSS("#f-alc"), ""), chromedp.SendKeys(chromedp.CSS("#f-alc"), "99"),
		chromedp.WaitVisible(chromedp.CSS("#e-alc")), chromedp.Sleep(600*time.Millisecond))
	msg, invalid, status := bt.text("#e-alc"), bt.attr("#f-alc", "aria-invalid"), bt.text("#status")
	if !strings.Contains(msg, "alc") || !strings.Contains(msg, "[0, 50] 10^9/L") {
		t.Errorf("the field's message %q does not name alc and its range", msg)
	}
	if invalid != "true" || !strings.Contains(status, "Nothing sent") {
		t.Errorf("aria-invalid %q, status %q", invalid, status)
	}
	if n := bt.scored.Load() - before; n != 0 {
		t.Errorf("%d requests sent for an out-of-range value", n)
	}
	bt.screenshot("out-of-range.png", ".field:has(#f-alc)")
	// Back in range, it scores again.
	bt.resetStatus()
	bt.run(chromedp.SetValue(chromedp.CSS("#f-alc"), ""), chromedp.SendKeys(chromedp.CSS("#f-alc"), "1.2"))
	bt.waitScored()
	if bt.scored.Load() == before {
		t.Error("nothing sent once the value was in range")
	}
}

// regimenView is what the regimen chart and table show.
type regimenView struct {
	Points []string  `json:"points"` // the chart's points' labels, in document order
	Ranks  []int     `json:"ranks"`  // their ranks
	Rows   []string  `json:"rows"`   // the table's regimens, top to bottom
	Probs  []float64 `json:"probs"`  // the ranked target's probability in each row, %
}

// TestRegimenChart: the chart has one point per regimen, in the ranked
// order of the table, and a regimen the user adds joins both.
func TestRegimenChart(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	check := func(n int) {
		t.Helper()
		got := eval[regimenView](bt, `({
			points: Array.from(document.querySelectorAll('#regimen-svg .regimen-point')).map((g) => g.dataset.label),
			ranks: Array.from(document.querySelectorAll('#regimen-svg .regimen-point')).map((g) => Number(g.dataset.rank)),
			rows: Array.from(document.querySelectorAll('#regimen-table tbody th')).map((th) => th.textContent),
			probs: Array.from(document.querySelectorAll('#regimen-table tbody td.ranked')).map((td) => parseFloat(td.textContent)),
		})`)
		if len(got.Points) != n || strings.Join(got.Points, "|") != strings.Join(got.Rows, "|") {
			t.Fatalf("want %d points in the table's order:\npoints %q\nrows   %q", n, got.Points, got.Rows)
		}
		for i, r := range got.Ranks {
			if r != i+1 {
				t.Errorf("point %d has rank %d", i, r)
			}
		}
		for i := 1; i < len(got.Probs); i++ {
			if got.Probs[i] > got.Probs[i-1] {
				t.Errorf("rank %d (%.1f%%) above rank %d (%.1f%%)", i+1, got.Probs[i], i, got.Probs[i-1])
			}
		}
	}
	check(len(api.DefaultRegimens))
	bt.resetStatus()
	bt.run(chromedp.SendKeys(chromedp.CSS("#r-dose"), "30"), chromedp.SendKeys(chromedp.CSS("#r-fractions"), "5"),
		chromedp.Click(chromedp.CSS(`#regimen-form button[type=submit]`)))
	bt.waitScored()
	check(len(api.DefaultRegimens) + 1)
	// Ranked by abscopal response, ICI alone has no probability: no point.
	bt.resetStatus()
	bt.run(chromedp.SetValue(chromedp.CSS("#rank-by"), "abscopal_response"))
	eval[bool](bt, `document.getElementById('rank-by').dispatchEvent(new Event('change'))`)
	bt.waitScored()
	if points := eval[int](bt, `document.querySelectorAll('#regimen-svg .regimen-point').length`); points != len(api.DefaultRegimens) {
		t.Errorf("ranked by abscopal response: %d points, want %d (all but ICI alone)", points, len(api.DefaultRegimens))
	}
	bt.screenshot("regimens.png", "#regimens")
}

// TestBatchUpload: a CSV file of patients uploaded in the page comes back
// scored, one row per patient, with the summary shown.
func TestBatchUpload(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	ps := synth.Generate(12, 9)
	path := filepath.Join(t.TempDir(), "patients.csv")
	err := data.WriteCohort(path, ps, data.CohortWriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bt.run(chromedp.SetUploadFiles(chromedp.CSS("#batch-file"), []string{path}),
		chromedp.Click(chromedp.CSS(`#batch-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#batch-summary")))
	if rows := bt.attr("#batch-summary", "data-rows"); rows != "12" {
		t.Errorf("the summary says %s rows, want 12", rows)
	}
	// Download the scores as a user would: click the link.
	downloads := t.TempDir()
	if _, err := chromedp.CallBrowser(bt.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads}); err != nil {
		t.Fatal(err)
	}
	bt.run(chromedp.Click(chromedp.CSS("#batch-download")))
	saved := filepath.Join(downloads, "scores-"+eval[string](bt, `document.getElementById('batch-target').value`)+".csv")
	var csvText []byte
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if csvText, err = os.ReadFile(saved); err == nil && len(csvText) > 0 {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(downloads)
			t.Fatalf("no download at %s: %v (the directory holds %v)", saved, err, entries)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(csvText)), "\n")
	if len(lines) != 13 || !strings.HasPrefix(lines[0], "patient_id,probability") {
		t.Fatalf("the download has %d lines, header %q", len(lines), lines[0])
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, ps[i].PatientID+",") {
			t.Errorf("line %d is %q, want patient %s", i+2, l, ps[i].PatientID)
		}
	}
	bt.screenshot("batch.png", "#batch")
}

// survivalView is what the page shows of a time-to-event model.
type survivalView struct {
	Median   string   `json:"median"`   // the card's data-median
	Interval string   `json:"interval"` // its interval's data-interval
	Survival string   `json:"survival"` // its data-survival
	Curves   []string `json:"curves"`   // the regimens' curves' labels, in document order
	Ranks    []int    `json:"ranks"`
	Rows     []string `json:"rows"` // the table's regimens, top to bottom
}

// TestSurvivalInThePage: with a model of overall survival served, the page
// shows the patient's median and survival at 6, 12 and 24 months exactly as
// /v1/predict gives them, with the curve; each regimen's curve, in the
// ranked order; and ranks regimens by median overall survival on request.
func TestSurvivalInThePage(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	in := eval[map[string]string](bt, `Object.fromEntries(Array.from(document.querySelectorAll('#patient [name]')).map((c) => [c.name, c.value]))`)
	body := map[string]any{}
	for k, v := range in {
		if v == "" {
			continue
		}
		f, _ := data.CohortField(k)
		switch f.Kind {
		case data.KindFloat, data.KindInt:
			x, _ := strconv.ParseFloat(v, 64)
			body[k] = x
		case data.KindBool:
			body[k] = v == "true"
		default:
			body[k] = v
		}
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(bt.base+"/v1/predict?intervals=true", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var pred struct {
		Predictions []struct {
			Predictions struct {
				OS struct {
					Median   *float64    `json:"median_months"`
					Interval [2]*float64 `json:"median_interval_95"`
					Survival []struct {
						Probability float64 `json:"probability"`
					} `json:"survival"`
				} `json:"overall_survival"`
			} `json:"predictions"`
		} `json:"predictions"`
	}
	json.NewDecoder(resp.Body).Decode(&pred)
	resp.Body.Close()
	want := pred.Predictions[0].Predictions.OS
	view := func() survivalView {
		return eval[survivalView](bt, `({
			median: document.querySelector('#t-overall_survival .median').dataset.median,
			interval: document.querySelector('#t-overall_survival .interval').dataset.interval,
			survival: document.querySelector('#t-overall_survival ul.at').dataset.survival,
			curves: Array.from(document.querySelectorAll('#curves-regimens-os .regimen-curve')).map((g) => g.dataset.label),
			ranks: Array.from(document.querySelectorAll('#curves-regimens-os .regimen-curve')).map((g) => Number(g.dataset.rank)),
			rows: Array.from(document.querySelectorAll('#regimen-table tbody th')).map((th) => th.textContent),
		})`)
	}
	v := view()
	var surv []string
	for _, s := range want.Survival {
		surv = append(surv, strconv.FormatFloat(s.Probability, 'g', -1, 64))
	}
	if want.Median == nil || v.Median != strconv.FormatFloat(*want.Median, 'g', -1, 64) || v.Survival != strings.Join(surv, " ") {
		t.Errorf("the page: median %q, survival %q; /v1/predict: %v, %v", v.Median, v.Survival, want.Median, surv)
	}
	// The median's interval as the API gives it (JavaScript's join writes
	// a null bound as nothing).
	var bounds []string
	for _, x := range want.Interval {
		if x == nil {
			bounds = append(bounds, "")
		} else {
			bounds = append(bounds, strconv.FormatFloat(*x, 'g', -1, 64))
		}
	}
	if want.Interval[0] == nil || v.Interval != strings.Join(bounds, " ") {
		t.Errorf("the page: the median's interval %q; /v1/predict: %q", v.Interval, bounds)
	}
	if len(v.Curves) != len(api.DefaultRegimens) || strings.Join(v.Curves, "|") != strings.Join(v.Rows, "|") {
		t.Errorf("regimen curves %q, table %q", v.Curves, v.Rows)
	}
	if n := eval[int](bt, `document.querySelectorAll('#curves-overall_survival .curve').length`); n != 1 {
		t.Errorf("%d curves for the patient, want 1", n)
	}
	bt.screenshot("survival.png", "#t-overall_survival")
	// Ranked by median overall survival: the table's order is the medians'.
	bt.resetStatus()
	bt.run(chromedp.SetValue(chromedp.CSS("#rank-by"), "os"))
	eval[bool](bt, `document.getElementById('rank-by').dispatchEvent(new Event('change'))`)
	bt.waitScored()
	meds := eval[[]string](bt, `Array.from(document.querySelectorAll('#regimen-table tbody td.ranked')).map((td) => td.textContent)`)
	prev := 1e9
	for _, m := range meds {
		x, err := strconv.ParseFloat(strings.TrimSuffix(m, " mo"), 64)
		if err != nil {
			continue // not reached: ranked first
		}
		if x > prev {
			t.Errorf("ranked by median OS: %v after %v (%q)", x, prev, meds)
		}
		prev = x
	}
	if len(meds) != len(api.DefaultRegimens) {
		t.Errorf("%d ranked cells", len(meds))
	}
	bt.screenshot("regimens-os.png", "#regimens")
}

// tokenPlaces is where a token could be kept.
type tokenPlaces struct {
	Session    string `json:"session"`
	LocalN     int    `json:"localN"`
	URL        string `json:"url"`
	AuthHidden bool   `json:"authHidden"`
}

// TestWithTokens: with tokens on, the page asks for one, keeps it in the
// tab's sessionStorage only, and scores with it; nothing in the address.
func TestWithTokens(t *testing.T) {
	const token = "s3cret-token-for-the-browser-test"
	bt := newBrowserTest(t, api.Config{Tokens: []api.Token{{Client: "clinic", Secret: token}}})
	bt.run(chromedp.Navigate(bt.base+"/"), chromedp.WaitVisible(chromedp.CSS("#auth")))
	bt.screenshot("token.png", "")
	bt.run(chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#t-objective_response .prob`)))
	bt.waitScored()
	where := eval[tokenPlaces](bt, `({session: sessionStorage.getItem('abscopal.token'), localN: localStorage.length, url: location.href,
		authHidden: document.getElementById('auth').hidden})`)
	if where.Session != token || where.LocalN != 0 || where.URL != bt.base+"/" || !where.AuthHidden {
		t.Errorf("token in sessionStorage %v, localStorage has %d items, address %s, prompt hidden %v", where.Session == token, where.LocalN, where.URL, where.AuthHidden)
	}
	got := bt.shownProbabilities()
	in := eval[map[string]string](bt, `Object.fromEntries(Array.from(document.querySelectorAll('#patient [name]')).map((c) => [c.name, c.value]))`)
	want := bt.apiPredict(in, http.Header{"Authorization": {"Bearer " + token}})
	if fmt.Sprint(got["objective_response"]) != fmt.Sprint(want["objective_response"]) {
		t.Errorf("with a token the page shows %v, /v1/predict gives %v", got["objective_response"], want["objective_response"])
	}
}

// TestKeyboardOnly: Tab alone reaches every control of the page.
func TestKeyboardOnly(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	const name = `(e) => e.id || e.getAttribute('href') || e.textContent.trim()`
	want := eval[[]string](bt, `Array.from(document.querySelectorAll('a[href], button, input, select'))
		.filter((e) => e.offsetParent !== null && !e.disabled).map(`+name+`)`)
	reached := map[string]bool{}
	for i := 0; i < len(want)+10 && len(reached) < len(want); i++ {
		bt.run(chromedp.KeyEvent(kb.Tab))
		reached[eval[string](bt, `(`+name+`)(document.activeElement)`)] = true
	}
	var missed []string
	for _, w := range want {
		if !reached[w] {
			missed = append(missed, w)
		}
	}
	if len(want) < 30 || len(missed) > 0 {
		t.Errorf("of %d controls, Tab did not reach %q", len(want), missed)
	}
}

// printView is what the print stylesheet shows.
type printView struct {
	Form    string `json:"form"`    // the form's display
	Batch   string `json:"batch"`   // the file upload's
	Targets string `json:"targets"` // the answer's
	Inputs  string `json:"inputs"`  // the printed inputs' text
}

// TestPrintView: printed, the page shows the answer and the inputs given,
// not the form's controls.
func TestPrintView(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	bt.open()
	if _, err := chromedp.Call(bt.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	v := eval[printView](bt, `(() => { const d = (id) => getComputedStyle(document.getElementById(id)).display;
		return {form: d('patient'), batch: d('batch'), targets: d('targets'), inputs: document.getElementById('print-summary').innerText}; })()`)
	if v.Form != "none" || v.Batch != "none" || v.Targets == "none" {
		t.Errorf("printed: form %s, file upload %s, answer %s", v.Form, v.Batch, v.Targets)
	}
	for _, want := range []string{"rt_dose_gy", "24", "ici_class", "pd1"} {
		if !strings.Contains(v.Inputs, want) {
			t.Errorf("the printed inputs %q lack %q", v.Inputs, want)
		}
	}
}

// axeViolation is one of axe-core's findings.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// TestAccessibility runs axe-core (npm axe-core, installed in interop/ by
// npm ci) in the page, with results and a regimen of one's own shown: no
// serious or critical violation.
func TestAccessibility(t *testing.T) {
	bt := newBrowserTest(t, api.Config{})
	axe, err := os.ReadFile(filepath.Join("..", "interop", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("ABSCOPAL_REQUIRE_INTEROP") != "" {
			t.Fatalf("axe-core is required (ABSCOPAL_REQUIRE_INTEROP): npm ci --prefix interop: %v", err)
		}
		t.Skip("axe-core not installed: npm ci --prefix interop")
	}
	bt.open()
	bt.resetStatus()
	bt.run(chromedp.SendKeys(chromedp.CSS("#r-dose"), "30"), chromedp.SendKeys(chromedp.CSS("#r-fractions"), "5"),
		chromedp.Click(chromedp.CSS(`#regimen-form button[type=submit]`)))
	bt.waitScored()
	// Evaluated through the DevTools protocol, which the page's policy
	// (script-src 'self') does not govern: the page itself runs no
	// injected script.
	eval[bool](bt, string(axe)+";true")
	violations := eval[[]axeViolation](bt, `axe.run(document, {resultTypes: ['violations']}).then((r) => r.violations)`)
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			var where []string
			for _, n := range v.Nodes {
				where = append(where, strings.Join(n.Target, " "))
			}
			t.Errorf("axe %s (%s): %s at %v", v.ID, v.Impact, v.Help, where)
		}
	}
	if passes := eval[int](bt, `axe.run(document).then((r) => r.passes.length)`); passes < 10 {
		t.Errorf("axe ran only %d passing checks: did it check the page?", passes)
	}
}
