package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/internal/testkit/datatest"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/workflow"
)

// TestEvaluate trains on one synthetic cohort and evaluates on another, then
// on the training file itself, which it must call in-sample.
func TestEvaluate(t *testing.T) {
	dir := t.TempDir()
	trainFile := synthCohort(t, dir, 1500, 3)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", trainFile, "--target", "abscopal_response", "--algo", "logistic",
		"--registry", reg, "--name", "abscopal", "--bootstrap", "20", "--threshold", "0.4")
	external := filepath.Join(dir, "external.parquet")
	mustCLI(t, "synth", "--n", "1000", "--seed", "4", "--out", external)
	plot := filepath.Join(dir, "external.svg")
	code, stdout, stderr := runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", external, "--json", "--plot", plot, "--bootstrap", "100")
	if code != 0 {
		t.Fatalf("evaluate: exit %d, %s", code, stderr)
	}
	var ev workflow.Evaluation
	if err := json.Unmarshal([]byte(stdout), &ev); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	noRT, unlabelled := 0, 0
	for _, p := range synth.Generate(1000, 4) {
		switch {
		case !p.HadRT():
			noRT++
		case p.AbscopalResponse == nil:
			unlabelled++
		}
	}
	m := ev.Metrics
	if ev.Model != "abscopal" || ev.Version != "v1" || ev.TrainingFile || !ev.Synthetic || ev.DataFile != "external.parquet" {
		t.Errorf("header %+v", ev)
	}
	if ev.Undefined != noRT || ev.Unlabelled != unlabelled || m.N+noRT+unlabelled != 1000 {
		t.Errorf("rows: %d scored, %d undefined, %d unlabelled; want %d and %d left out of 1000", m.N, ev.Undefined, ev.Unlabelled, noRT, unlabelled)
	}
	// The model's own threshold; the cross-validated figures of its bundle.
	if m.Threshold != 0.4 || ev.CrossValidated.Threshold != 0.4 || !(ev.CrossValidated.AUC > 0.6) {
		t.Errorf("threshold %v, cross-validated %+v", m.Threshold, ev.CrossValidated)
	}
	if !(m.AUC > 0.65 && m.AUC < 0.95 && m.AUCLow < m.AUC && m.AUC < m.AUCHigh) || len(m.Curve) != 10 || len(m.DecisionCurve) != 10 {
		t.Errorf("metrics on new patients: %+v", m)
	}
	if svg, err := os.ReadFile(plot); err != nil || !strings.Contains(string(svg), "external.parquet") {
		t.Errorf("plot: %v", err)
	}
	// The decision curve on the new patients, as a plot too.
	dca := filepath.Join(dir, "dca.svg")
	mustCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", external, "--dca-plot", dca, "--bootstrap", "20")
	if svg, err := os.ReadFile(dca); err != nil || !strings.Contains(string(svg), "act on all") || !strings.Contains(string(svg), "external.parquet") {
		t.Errorf("decision curve plot: %v", err)
	}
	// Too few events for a validation is said, in JSON and in the table.
	if small := m.Positives < 100 || m.N-m.Positives < 100; small != (ev.SampleWarning != "") {
		t.Errorf("%d of %d positive: sample warning %q", m.Positives, m.N, ev.SampleWarning)
	}
	tiny := filepath.Join(dir, "tiny.parquet")
	mustCLI(t, "synth", "--n", "120", "--seed", "9", "--out", tiny)
	if code, stdout, stderr := runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", tiny, "--bootstrap", "20"); code != 0 ||
		!strings.Contains(stdout, "Warning: few patients for a validation: ") || !strings.Contains(stdout, "at least 100 of each are recommended") {
		t.Errorf("a small file: exit %d\n%s%s", code, stdout, stderr)
	}

	// By subgroup: every scored row in one group, the column read along.
	code, stdout, stderr = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", external, "--json", "--by", "rt_ici_sequence", "--bootstrap", "20")
	var byseq workflow.Evaluation
	if code != 0 || json.Unmarshal([]byte(stdout), &byseq) != nil {
		t.Fatalf("--by: exit %d, %s", code, stderr)
	}
	n := 0
	for _, g := range byseq.Groups {
		n += g.N
		if g.Value == "null" {
			t.Errorf("a patient with RT and no sequence: %+v", g)
		}
	}
	if byseq.By != "rt_ici_sequence" || len(byseq.Groups) != 3 || n != m.N || byseq.Metrics.AUC != m.AUC {
		t.Errorf("--by rt_ici_sequence: %+v", byseq)
	}

	// By a column of the file's own, outside the cohort schema (a centre
	// coded 1-3, every seventh patient's unknown).
	centred := datatest.AddColumn(t, external, filepath.Join(dir, "centred.parquet"), data.ColumnSpec{Name: "centre", Kind: data.KindInt, Optional: true},
		func(i int) data.Value {
			if i%7 == 6 {
				return data.Null
			}
			return data.Float(float64(1 + i%3))
		})
	code, stdout, stderr = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", centred, "--json", "--by", "centre", "--pool", "--bootstrap", "20")
	var bycentre workflow.Evaluation
	if code != 0 || json.Unmarshal([]byte(stdout), &bycentre) != nil {
		t.Fatalf("--by centre: exit %d, %s", code, stderr)
	}
	var values []string
	n = 0
	for _, g := range bycentre.Groups {
		values, n = append(values, g.Value), n+g.N
	}
	if got := strings.Join(values, ","); got != "1,2,3,null" || n != m.N || bycentre.Metrics.AUC != m.AUC || bycentre.Undefined != noRT || bycentre.Unlabelled != unlabelled {
		t.Errorf("--by centre: groups %s of %d rows (want 1,2,3,null of %d), AUC %v (want %v), %d undefined and %d unlabelled (want %d and %d)",
			got, n, m.N, bycentre.Metrics.AUC, m.AUC, bycentre.Undefined, bycentre.Unlabelled, noRT, unlabelled)
	}
	// --pool: the centres' AUCs by random effects, as stats.PoolAUC gives them.
	if want, err := stats.PoolAUC(bycentre.Groups, stats.PauleMandel); err != nil || !reflect.DeepEqual(bycentre.Pooled, want) || want.Groups != 4 {
		t.Errorf("pooled %+v, want %+v (%v)", bycentre.Pooled, want, err)
	}
	if code, stdout, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", centred, "--by", "centre", "--pool", "--bootstrap", "20"); code != 0 ||
		!strings.Contains(stdout, "Pooled across the values of centre (random effects on the logit AUC, Paule-Mandel, Hartung-Knapp interval, 4 pooled): AUC ") ||
		!strings.Contains(stdout, "in a new centre, the AUC is expected within") {
		t.Errorf("--pool as text:\n%s", stdout)
	}
	code, stdout, stderr = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", centred, "--by", "centre", "--pool", "--tau2", "reml", "--bootstrap", "20", "--json")
	var byreml workflow.Evaluation
	if code != 0 || json.Unmarshal([]byte(stdout), &byreml) != nil {
		t.Fatalf("--tau2 reml: exit %d, %s", code, stderr)
	}
	if want, err := stats.PoolAUC(byreml.Groups, stats.REML); err != nil || !reflect.DeepEqual(byreml.Pooled, want) || want.Method != stats.REML {
		t.Errorf("REML pooled %+v, want %+v (%v)", byreml.Pooled, want, err)
	}
	if code, _, stderr := runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal", "--data", centred, "--by", "centre", "--tau2", "reml"); code != 2 || !strings.Contains(stderr, "--tau2 sets how --pool pools") {
		t.Errorf("--tau2 without --pool: exit %d, %q", code, stderr)
	}

	// Two versions on the same rows: the second against the first, paired.
	mustCLI(t, "train", "--data", trainFile, "--target", "abscopal_response", "--algo", "gbm",
		"--registry", reg, "--name", "abscopal", "--bootstrap", "20")
	code, stdout, stderr = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal:v1", "--model", "abscopal:v2", "--data", external, "--json", "--bootstrap", "200")
	var set workflow.EvaluationSet
	if code != 0 || json.Unmarshal([]byte(stdout), &set) != nil || len(set.Models) != 2 {
		t.Fatalf("two models: exit %d, %s%s", code, stdout, stderr)
	}
	v1, v2 := set.Models[0], set.Models[1]
	if set.Reference != "abscopal:v1" || v1.MinusReference != 0 || v2.Algo != "gbm" || v2.Metrics.N != v1.Metrics.N ||
		math.Abs(v2.MinusReference-(v2.Metrics.AUC-v1.Metrics.AUC)) > 1e-12 ||
		!(v2.MinusReferenceCI[0] <= v2.MinusReference && v2.MinusReference <= v2.MinusReferenceCI[1]) {
		t.Errorf("two models: %+v", set)
	}
	if code, stdout, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal:v1,abscopal:v2", "--data", trainFile, "--bootstrap", "20"); code != 0 ||
		!strings.Contains(stdout, "AUC - abscopal:v1 (95% CI)") || !strings.Contains(stdout, "abscopal:v2 *") || !strings.Contains(stdout, "* trained or recalibrated on this file") {
		t.Errorf("two models on their training file: exit %d\n%s", code, stdout)
	}

	// Two models on a file whose lymphocyte counts were not sent: each
	// model's imputations and case mix are told, the second's as the
	// first's when they are the same.
	patients, err := data.ReadCohort(context.Background(), external)
	if err != nil {
		t.Fatal(err)
	}
	for i := range patients {
		patients[i].ALC = nil
	}
	noALC := filepath.Join(dir, "no-alc.parquet")
	if err := data.WriteCohort(noALC, patients, data.CohortWriteOptions{Synthetic: true}); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal:v1,abscopal:v2", "--data", noALC, "--bootstrap", "20")
	for _, want := range []string{
		`\nabscopal:v1: inputs of the (\d+) rows scored that the model had to fill in or did not know:\n`,
		`\n  alc: missing, imputed, in (\d+) rows \(100\.0%\)\n`,
		`\nalc +\d+\.\d+ +major +100\.0% `, // the case mix's table
		`\nabscopal:v2: inputs and case mix the same as abscopal:v1's\.\n`,
	} {
		if code != 0 || !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("two models without alc: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}

	code, stdout, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "abscopal:v1", "--data", trainFile, "--bootstrap", "0", "--threshold", "0.5", "--by", "ecog")
	for _, want := range []string{"the file the model was trained on", "in-sample", "SYNTHETIC", "sensitivity / specificity at 0.50", "(at 0.40: ", "OBSERVED (95% CI)", "Decision curve on this file", "MODEL MINUS THE BETTER DEFAULT", "By ecog", "ECOG  N"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("on the training file: exit %d, output lacks %q:\n%s", code, want, stdout)
		}
	}
}

func TestEvaluateBadInput(t *testing.T) {
	dir := t.TempDir()
	cohort := synthCohort(t, dir, 600, 5)
	reg := filepath.Join(dir, "registry")
	for _, m := range [][2]string{{"response", "objective_response"}, {"other", "abscopal_response"}} {
		mustCLI(t, "train", "--data", cohort, "--target", m[1], "--algo", "logistic",
			"--registry", reg, "--name", m[0], "--bootstrap", "10")
	}
	// A file with the model's inputs and no outcome.
	noTarget := filepath.Join(dir, "features_only.parquet")
	mustCLI(t, "features", "--data", cohort, "--out", noTarget, "--matrix")
	noOutcome := datatest.WriteTable(t, filepath.Join(dir, "no_outcome.parquet"),
		[]data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString}},
		[][]data.Value{{data.String("a"), data.String("pd1")}, {data.String("b"), data.String("pd1")}})
	nullOutcome := datatest.WriteTable(t, filepath.Join(dir, "null_outcome.parquet"),
		[]data.ColumnSpec{{Name: "patient_id", Kind: data.KindString}, {Name: "ici_class", Kind: data.KindString}, {Name: "objective_response", Kind: data.KindBool, Optional: true}},
		[][]data.Value{{data.String("a"), data.String("pd1"), data.Null}, {data.String("b"), data.String("pd1"), data.Null}})
	base := []string{"evaluate", "--registry", reg, "--model", "response"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no data", base, 2, "--registry, --model and --data are required"},
		{"threshold", append(base, "--data", cohort, "--threshold", "1.5"), 2, "--threshold must be in (0, 1), got 1.5"},
		{"bootstrap", append(base, "--data", cohort, "--bootstrap", "-1"), 2, "--bootstrap must be in [0, 100000]"},
		{"plot format", append(base, "--data", cohort, "--plot", filepath.Join(dir, "c.png")), 2, "the extension must be .svg"},
		{"decision curve format", append(base, "--data", cohort, "--dca-plot", filepath.Join(dir, "d.png")), 2, "--dca-plot " + filepath.Join(dir, "d.png") + ": the extension must be .svg"},
		{"plot nowhere", append(base, "--data", cohort, "--plot", filepath.Join(dir, "no", "c.svg")), 1, "write " + filepath.Join(dir, "no", "c.svg") + ": no directory " + filepath.Join(dir, "no")},
		{"no subgroup column", append(base, "--data", cohort, "--by", "centre"), 1, "cohort.parquet: no column centre (it has patient_id, "},
		{"pool without by", append(base, "--data", cohort, "--pool"), 2, "--pool pools the subgroups of --by"},
		{"plot of two models", append(base, "--model", "response", "--data", cohort, "--plot", filepath.Join(dir, "c.svg")), 2, "--plot, --dca-plot, --by and --survival take one model"},
		{"two targets", []string{"evaluate", "--registry", reg, "--model", "response,other", "--data", cohort}, 1, "response:v1 predicts objective_response and other:v1 abscopal_response: models compared on one file must share a target"},
		{"no such model", []string{"evaluate", "--registry", reg, "--model", "nope", "--data", cohort}, 1, "model not found: nope"},
		{"no such file", append(base, "--data", filepath.Join(dir, "missing.parquet")), 1, "missing.parquet"},
		{"not a cohort file", append(base, "--data", noTarget), 1, "features_only.parquet: column"},
		{"no outcome", append(base, "--data", noOutcome), 1, "no_outcome.parquet: no column objective_response, the outcome to learn or to check against"},
		{"null outcomes", append(base, "--data", nullOutcome), 1, "null_outcome.parquet: cannot evaluate the model: no row has a value of the target objective_response (2 null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "c.png")); !os.IsNotExist(err) {
		t.Errorf("a refused plot was written (%v)", err)
	}
}

// TestEvaluateSurvival: evaluate sets the survival of the patients a model
// predicts to respond against the others' on a new file, writes the curves
// when asked, and says why an endpoint without follow-up has no comparison.
func TestEvaluateSurvival(t *testing.T) {
	dir := t.TempDir()
	trainFile := synthCohort(t, dir, 1000, 3)
	reg := filepath.Join(dir, "registry")
	mustCLI(t, "train", "--data", trainFile, "--target", "objective_response", "--algo", "logistic",
		"--registry", reg, "--name", "orr", "--bootstrap", "10", "--threshold", "0.4")
	other := filepath.Join(dir, "other.csv")
	mustCLI(t, "synth", "--n", "800", "--seed", "8", "--out", other)
	plots := filepath.Join(dir, "plots")
	code, stdout, stderr := runCLI(t, "evaluate", "--registry", reg, "--model", "orr", "--data", other, "--survival", "pfs", "--survival-plots", plots, "--json", "--bootstrap", "10")
	var ev workflow.Evaluation
	if err := json.Unmarshal([]byte(stdout), &ev); code != 0 || err != nil {
		t.Fatalf("evaluate: exit %d, %v, %s", code, err, stderr)
	}
	if len(ev.Survival) != 1 {
		t.Fatalf("survival %+v, notes %v", ev.Survival, ev.SurvivalNotes)
	}
	s := ev.Survival[0]
	if s.Endpoint != "pfs" || s.Threshold != 0.4 || s.High.N+s.Low.N != ev.Metrics.N || !(s.HazardRatio.High < 1) || !(s.CIndex > 0.5) {
		t.Errorf("PFS by prediction: %+v", s)
	}
	if svg, err := os.ReadFile(filepath.Join(plots, "survival_pfs.svg")); err != nil || !strings.HasPrefix(string(svg), "<?xml") {
		t.Errorf("survival_pfs.svg: %v", err)
	}
	_, text, _ := runCLI(t, "evaluate", "--registry", reg, "--model", "orr", "--data", other, "--survival", "pfs", "--bootstrap", "10")
	if !strings.Contains(text, "Survival by prediction") || !strings.Contains(text, "PFS       p >= 0.40") {
		t.Errorf("no survival table:\n%s", text)
	}

	// Without follow-up: a note, not a failure.
	noFollowUp := filepath.Join(dir, "no_follow_up.csv")
	blankColumn(t, other, noFollowUp, "os_months")
	code, stdout, _ = runCLI(t, "evaluate", "--registry", reg, "--model", "orr", "--data", noFollowUp, "--survival", "os", "--json", "--bootstrap", "10")
	ev = workflow.Evaluation{}
	if err := json.Unmarshal([]byte(stdout), &ev); code != 0 || err != nil || len(ev.Survival) != 0 || len(ev.SurvivalNotes) != 1 ||
		!strings.Contains(ev.SurvivalNotes[0], "0 patients with a probability at or above 0.40") {
		t.Errorf("no follow-up: exit %d, %v, %+v", code, err, ev.SurvivalNotes)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--survival", "dfs"}, "--survival dfs: name each of [os pfs] once"},
		{[]string{"--survival", "os,os"}, "--survival os,os: name each of [os pfs] once"},
		{[]string{"--survival-plots", plots}, "--survival-plots draws the curves of --survival"},
		{[]string{"--survival", "os", "--model", "orr:v1"}, "--survival take one model"},
	} {
		code, _, stderr := runCLI(t, append([]string{"evaluate", "--registry", reg, "--model", "orr", "--data", other}, tt.args...)...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
