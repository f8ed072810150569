package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/card"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/race"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

func records(ps []data.Patient) []features.Record {
	rs := make([]features.Record, len(ps))
	for i := range ps {
		rs[i] = features.PatientRecord{P: &ps[i]}
	}
	return rs
}

// TestRecoversTheTruth trains on 15,000 synthetic patients and scores 5,000
// held out: the AUC must come within 0.02 of the AUC of the true
// probabilities, and the calibration slope lie in [0.85, 1.15].
func TestRecoversTheTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 15,000 patients")
	}
	if race.Enabled {
		// A statistical check, on as many patients as it needs; the
		// concurrency of training is the smaller tests' subject under the
		// detector, which makes this one 80 s here.
		t.Skip("trains on 15,000 patients: run without -race")
	}
	ps := synth.Generate(20000, 2)
	trainP, testP := ps[:15000], ps[15000:]
	type target struct {
		name  string
		label func(*data.Patient) *bool
		truth func(*data.Patient) *float64
	}
	targets := []target{
		{"objective_response", func(p *data.Patient) *bool { return p.ObjectiveResponse }, func(p *data.Patient) *float64 { return p.TruePResponse }},
		{"abscopal_response", func(p *data.Patient) *bool { return p.AbscopalResponse }, func(p *data.Patient) *float64 { return p.TruePAbscopal }},
	}
	for _, tg := range targets {
		for _, algo := range []string{"logistic", "gbm"} {
			t.Run(tg.name+"/"+algo, func(t *testing.T) {
				spec := features.BuiltinSpec(tg.name)
				res, err := train.Run(context.Background(), spec, records(trainP), train.Options{Algo: algo, Folds: 3, Seed: 1, Bootstrap: 50,
					Settings: models.Settings{GBM: train.DefaultGBM()}})
				if err != nil {
					t.Fatal(err)
				}
				var p, truth, y []float64
				row := make([]float64, res.Pipeline.NumOutputs())
				for i := range testP {
					if tg.label(&testP[i]) == nil {
						continue
					}
					res.Pipeline.Transform(features.PatientRecord{P: &testP[i]}, row, nil)
					p = append(p, res.Calibrator.Apply(res.Model.Score(row)))
					truth = append(truth, *tg.truth(&testP[i]))
					y = append(y, b2f(*tg.label(&testP[i])))
				}
				auc, best := stats.AUC(p, y), stats.AUC(truth, y)
				_, slope := stats.CalibrationLine(p, y)
				t.Logf("%s %s: held-out AUC %.4f (n=%d), true-probability AUC %.4f, calibration slope %.3f; CV AUC %.4f [%.4f, %.4f]",
					tg.name, algo, auc, len(y), best, slope, res.Metrics.AUC, res.Metrics.AUCLow, res.Metrics.AUCHigh)
				if auc < best-0.02 {
					t.Errorf("held-out AUC %.4f is more than 0.02 below the truth's %.4f", auc, best)
				}
				if slope < 0.85 || slope > 1.15 {
					t.Errorf("calibration slope %.3f outside [0.85, 1.15]", slope)
				}
			})
		}
	}
}

// TestForestRecovers holds the forest to a weaker AUC bar than the others,
// on the same split: bagged trees approximate the generator's smooth
// logistic truth less well. On this split the "within 0.02" is
// beyond any random forest for objective response (scikit-learn's best of 10
// forests is 0.031 short) and at its edge for abscopal response (0.019
// short; abscopal's forest of 101 trees, 0.022); see bench/README.md. The
// calibration bar is the issue's. Fewer trees than the CLI's 101 and 3 folds
// keep it short; the rows are kept, because with fewer (4,400 training
// rows) the calibrated forest is under-confident (held-out slope 1.11-1.15
// over three seeds, against 1.03-1.04 here).
func TestForestRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("trains forests on 15,000 patients")
	}
	if race.Enabled {
		t.Skip("trains forests on 15,000 patients: run without -race, as TestRecoversTheTruth")
	}
	ps := synth.Generate(20000, 2)
	trainP, testP := ps[:15000], ps[15000:]
	res, err := train.Run(context.Background(), features.BuiltinSpec("abscopal_response"), records(trainP),
		train.Options{Algo: "forest", Folds: 3, Seed: 1, Bootstrap: 20, Settings: models.Settings{Forest: models.ForestOptions{Trees: 31}}})
	if err != nil {
		t.Fatal(err)
	}
	var p, truth, y []float64
	row := make([]float64, res.Pipeline.NumOutputs())
	for i := range testP {
		if testP[i].AbscopalResponse == nil {
			continue
		}
		res.Pipeline.Transform(features.PatientRecord{P: &testP[i]}, row, nil)
		p = append(p, res.Calibrator.Apply(res.Model.Score(row)))
		truth = append(truth, *testP[i].TruePAbscopal)
		y = append(y, b2f(*testP[i].AbscopalResponse))
	}
	auc, best := stats.AUC(p, y), stats.AUC(truth, y)
	_, slope := stats.CalibrationLine(p, y)
	t.Logf("forest: held-out AUC %.4f (n=%d), true-probability AUC %.4f, calibration slope %.3f", auc, len(y), best, slope)
	if auc < best-0.03 || slope < 0.85 || slope > 1.15 {
		t.Errorf("AUC %.4f (truth %.4f), slope %.3f: want within 0.03 and slope in [0.85, 1.15]", auc, best, slope)
	}
}

func TestDeterministic(t *testing.T) {
	ps := synth.Generate(1500, 3)
	run := func() []byte {
		res, err := train.Run(context.Background(), features.BuiltinSpec("abscopal_response"), records(ps),
			train.Options{Algo: "gbm", Seed: 4, Bootstrap: 20, Settings: models.Settings{GBM: models.GBMOptions{Trees: 20, Subsample: 0.8, ColSample: 0.7}}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := models.Encode(res.Model)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := json.Marshal(res.Pipeline)
		mt, _ := json.Marshal(res.Metrics)
		return append(append(m, p...), mt...)
	}
	if a, b := run(), run(); string(a) != string(b) {
		t.Fatal("two runs with the same data, seed and options differ")
	}
}

func TestRunErrors(t *testing.T) {
	ps := synth.Generate(30, 5)
	dup := synth.Generate(30, 5)
	dup[11].PatientID = dup[3].PatientID
	tests := []struct {
		name     string
		spec     *features.Spec
		patients []data.Patient // default ps
		opts     train.Options
		want     string
	}{
		{"fewer rows than folds", features.BuiltinSpec("abscopal_response"), nil, train.Options{Algo: "logistic", Folds: 20}, "cannot fill 20 folds"},
		{"unknown algorithm", features.BuiltinSpec("abscopal_response"), nil, train.Options{Algo: "svm"}, `unknown algorithm "svm"`},
		{"numeric target of three values", numericTarget(t, "ecog"), nil, train.Options{Algo: "logistic"}, "target ecog holds the values [0 1 2] and maybe more; a numeric target must hold two, such as 0 and 1; for a graded outcome give the threshold, at_least"},
		{"a censoring indicator", features.BuiltinSpec("os_event"), nil, train.Options{Algo: "logistic"}, "cannot train: spec (built-in irt): target: os_event is a censoring indicator"},
		{"a patient in two rows", features.BuiltinSpec("objective_response"), dup, train.Options{Algo: "logistic"},
			"patient_id " + dup[3].PatientID + " is in rows 4 and 12"},
	}
	for _, tt := range tests {
		in := ps
		if tt.patients != nil {
			in = tt.patients
		}
		_, err := train.Run(context.Background(), tt.spec, records(in), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	// A single class.
	one := synth.Generate(50, 6)
	no := false
	for i := range one {
		one[i].ObjectiveResponse = &no
	}
	_, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(one), train.Options{Algo: "gbm"})
	if err == nil || !strings.Contains(err.Error(), "single class (0 positive of 50 rows): no row has the positive value true; the column holds \"false\"") {
		t.Errorf("single class: err = %v", err)
	}
	// A positive level spelled otherwise than in the file.
	spec, err := features.ParseSpec("s.yaml", []byte("id: patient_id\ntarget: {column: histology, positive: Squamous}\nfeatures:\n  - column: age\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = train.Run(context.Background(), spec, records(synth.Generate(200, 6)), train.Options{Algo: "logistic"})
	if err == nil || !strings.Contains(err.Error(), `no row has the positive value "Squamous"; the column holds "adenocarcinoma", "other", "squamous"`) {
		t.Errorf("misspelt level: err = %v", err)
	}
}

// numericTarget is a spec whose target is the numeric column col, positive 1.
func numericTarget(t *testing.T, col string) *features.Spec {
	t.Helper()
	s, err := features.ParseSpec("s.yaml", []byte("target: {column: "+col+", positive: 1}\nfeatures:\n  - column: age\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestCrossValidateOnly: stopping after cross-validation gives the full
// run's metrics and out-of-fold predictions, and no model.
func TestCrossValidateOnly(t *testing.T) {
	ps := synth.Generate(400, 7)
	opts := train.Options{Algo: "logistic", Folds: 4, Seed: 2, Bootstrap: 30}
	full, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(ps), opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.CrossValidateOnly = true
	cv, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(ps), opts)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Model != nil || cv.Pipeline != nil || cv.Calibrator != nil {
		t.Error("a cross-validation-only run fitted a final model")
	}
	if !reflect.DeepEqual(cv.Metrics, full.Metrics) || !reflect.DeepEqual(cv.OOF, full.OOF) || len(cv.OOF) != full.Rows || len(cv.Labels) != full.Rows {
		t.Error("cross-validation-only metrics or out-of-fold predictions differ from the full run's")
	}
	if got := stats.AUC(cv.OOF, cv.Labels); got != cv.Metrics.AUC {
		t.Errorf("AUC of OOF %v, metrics say %v", got, cv.Metrics.AUC)
	}
}

// TestImportance: the feature the truth leans on ranks first; noise
// features (age and sex play no part in the generator's outcomes) rank below.
func TestImportance(t *testing.T) {
	spec, err := features.ParseSpec("s.yaml", []byte(`id: patient_id
target: {column: objective_response, positive: true}
features:
  - column: age
    kind: numeric
    transforms: [standardize]
  - column: sex
    kind: categorical
  - column: mhc1_status
    kind: categorical
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range []string{"logistic", "gbm", "forest"} {
		res, err := train.Run(context.Background(), spec, records(synth.Generate(3000, 12)), train.Options{Algo: algo, Folds: 3, Seed: 1, Bootstrap: 10,
			Settings: models.Settings{Forest: models.ForestOptions{Trees: 21}}})
		if err != nil {
			t.Fatal(err)
		}
		im := res.Importance
		if len(im) != 3 || im[0].Feature != "mhc1_status" || !(im[0].MeanAbs > 2*im[1].MeanAbs) {
			t.Errorf("%s: importance %+v; want mhc1_status first, by more than twice the next", algo, im)
		}
		if algo != "logistic" {
			continue
		}
		// By hand for the logistic model: age is one output, so its
		// importance is the mean of |coefficient x standardized age|.
		lr := res.Model.(*models.Logistic)
		ps := synth.Generate(3000, 12)
		x := make([]float64, res.Pipeline.NumOutputs())
		want := 0.0
		for i := range ps {
			res.Pipeline.Transform(features.PatientRecord{P: &ps[i]}, x, nil)
			want += math.Abs(lr.Coef[0] * x[0])
		}
		want /= float64(len(ps))
		for _, f := range im {
			if f.Feature == "age" && math.Abs(f.MeanAbs-want) > 1e-12 {
				t.Errorf("age: %v, by hand %v", f.MeanAbs, want)
			}
		}
	}
}

func TestLeading(t *testing.T) {
	imp := []train.Importance{{Feature: "a", MeanAbs: 0.5}, {Feature: "b", MeanAbs: 0.2}, {Feature: "c", MeanAbs: 0}, {Feature: "d", MeanAbs: 0}}
	tests := []struct {
		imp  []train.Importance
		k    int
		want []string
	}{
		{imp, 3, []string{"a", "b"}}, // c is not used at all
		{imp, 1, []string{"a"}},
		{imp, 10, []string{"a", "b"}},
		{imp[2:], 3, nil}, // a constant model
		{nil, 3, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, im := range train.Leading(tt.imp, tt.k) {
			got = append(got, im.Feature)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Leading(%v, %d) = %v, want %v", tt.imp, tt.k, got, tt.want)
		}
	}
}

// TestConstantModelCard: a GBM that cannot split (every child below its
// minimum weight) scores everyone alike; its card says so instead of
// ranking features that all contribute 0 by name.
func TestConstantModelCard(t *testing.T) {
	spec := features.BuiltinSpec("objective_response")
	opts := train.DefaultGBM()
	opts.MinChildWeight = 1e6
	res, err := train.Run(context.Background(), spec, records(synth.Generate(300, 5)), train.Options{Algo: "gbm", Folds: 3, Seed: 1, Bootstrap: 10, Settings: models.Settings{GBM: opts}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Importance) == 0 || len(train.Leading(res.Importance, 10)) != 0 {
		t.Fatalf("importance of a constant model: %+v", res.Importance)
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{DataFile: "synthetic.parquet", Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	md := card.Markdown(b, res)
	if !strings.Contains(md, "None: the model gives every patient the same score") || strings.Contains(md, "| feature | mean abs") {
		t.Errorf("card of a constant model:\n%s", md)
	}
	// Nor has it a sample size to meet: it does no better than the base rate.
	if s := res.SampleSize; s == nil || s.Minimum != 0 || s.R2 > 0 || !strings.Contains(md, "has no overfitting criteria to give") {
		t.Errorf("sample size of a constant model: %+v\n%s", s, md)
	}
}

// TestRunSampleSize: a run sets its rows beside Riley et al.'s minimum for
// its final model's inputs and its own out-of-fold R² (the arithmetic is
// checked in TestMinimumSampleSize), in the result, the bundle and the card.
func TestRunSampleSize(t *testing.T) {
	res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(synth.Generate(1500, 3)), train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	prevalence := float64(m.Positives) / float64(m.N)
	want, err := stats.MinimumSampleSize(res.Rows, res.Pipeline.Parameters(), prevalence, stats.CoxSnellR2(m.LogLoss, prevalence))
	if err != nil {
		t.Fatal(err)
	}
	if s := res.SampleSize; s == nil || *s != want || s.Rows != 1500 || s.Events != m.Positives || s.Minimum == 0 {
		t.Fatalf("sample size %+v, want %+v", s, want)
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	var metrics struct {
		SampleSize stats.SampleSize `json:"sample_size"`
	}
	if err := json.Unmarshal(b.Metrics, &metrics); err != nil || metrics.SampleSize != want {
		t.Errorf("bundle's sample size %+v, want %+v (%v)", metrics.SampleSize, want, err)
	}
	verdict := "**Not met: "
	if want.Met() {
		verdict = "**Met**"
	}
	md := card.Markdown(b, res)
	for _, s := range []string{"## Sample size", fmt.Sprintf("**minimum %d**", want.Minimum), verdict, "| 8 sample size | Data; Sample size |"} {
		if !strings.Contains(md, s) {
			t.Errorf("card lacks %q:\n%s", s, md)
		}
	}
}

// TestRunBySubgroup: the subgroups of a training run are its calibrated
// out-of-fold predictions split by the column, and a column of measurements
// is refused before any fold is fitted.
func TestRunBySubgroup(t *testing.T) {
	ps := synth.Generate(1500, 41)
	spec := features.BuiltinSpec("objective_response")
	opts := train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 20, By: "ici_class", ByKind: data.KindString}
	res, err := train.Run(context.Background(), spec, records(ps), opts)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]data.Value, len(ps))
	for i := range ps {
		keys[i] = data.String(*ps[i].ICIClass)
	}
	want, err := train.Subgroups("ici_class", data.KindString, keys, res.OOF, res.Labels, 0.5, 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Groups, want) || len(want) != 4 || want[0].Value != "ctla4" {
		t.Errorf("groups %+v\nwant %+v", res.Groups, want)
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	if md := card.Markdown(b, res); !strings.Contains(md, "## Performance by ici_class") || !strings.Contains(md, "| pd1 | ") {
		t.Errorf("card:\n%s", md)
	}

	calls := 0
	opts.By, opts.ByKind = "age", data.KindFloat
	opts.Progress = func(int, int, string) { calls++ }
	if _, err := train.Run(context.Background(), spec, records(ps), opts); !errors.Is(err, train.ErrSubgroups) || calls != 0 {
		t.Errorf("by age: %v after %d steps", err, calls)
	}
}

// TestRunFoldsBy: with folds by a column, each value is a fold, and a
// group's out-of-fold predictions rank its patients as a model trained
// without the group does (the logistic fit has no randomness; Platt scaling
// keeps the order).
func TestRunFoldsBy(t *testing.T) {
	ps := synth.Generate(1500, 41)
	spec := features.BuiltinSpec("objective_response")
	opts := train.Options{Algo: "logistic", Seed: 1, Bootstrap: 20, FoldsBy: "ici_class", ByKind: data.KindString}
	res, err := train.Run(context.Background(), spec, records(ps), opts)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	n := 0
	for _, g := range res.Groups {
		values, n = append(values, g.Value), n+g.N
	}
	if res.Options.Folds != 4 || res.Options.By != "ici_class" || len(res.FoldAUC) != 0 || strings.Join(values, ",") != "ctla4,pd1,pd1_ctla4,pdl1" || n != len(ps) {
		t.Fatalf("folds %d, by %q, fold AUCs %v, groups %v of %d rows", res.Options.Folds, res.Options.By, res.FoldAUC, values, n)
	}
	for _, g := range res.Groups {
		var in, out []data.Patient
		for _, p := range ps {
			if *p.ICIClass == g.Value {
				in = append(in, p)
			} else {
				out = append(out, p)
			}
		}
		without, err := train.Run(context.Background(), spec, records(out), train.Options{Algo: "logistic", Folds: 2, Seed: 1, Bootstrap: 1})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := without.Pipeline.TransformAll(records(in))
		s, y := make([]float64, len(in)), make([]float64, len(in))
		for i := range in {
			s[i], y[i] = without.Model.Score(x.Row(i)), b2f(*in[i].ObjectiveResponse)
		}
		if g.Metrics == nil || math.Abs(g.Metrics.AUC-stats.AUC(s, y)) > 1e-12 {
			t.Errorf("%s held out: AUC %+v, a model trained without it %v", g.Value, g.Metrics, stats.AUC(s, y))
		}
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	md := card.Markdown(b, res)
	// The held-out groups' AUCs pooled: a mean among theirs, as PoolAUC
	// makes it (checked against statsmodels in TestPoolAUC).
	pooled, err := stats.PoolAUC(res.Groups, "")
	if err != nil || !reflect.DeepEqual(res.Pooled, pooled) || pooled.Groups != 4 || pooled.PredHigh == 0 {
		t.Errorf("pooled %+v, want %+v (%v)", res.Pooled, pooled, err)
	}
	for _, want := range []string{"## Performance (cross-validation by ici_class: 4 folds, each holding out one value of ici_class)",
		"Pooled across the values of ici_class (random effects on the logit AUC, Paule-Mandel, Hartung-Knapp interval, 4 pooled)",
		"AUC per fold: by ici_class, below.", "Each ici_class as a held-out fold", "| pd1_ctla4 | "} {
		if !strings.Contains(md, want) {
			t.Errorf("card lacks %q:\n%s", want, md)
		}
	}
	if back, err := train.OptionsOf(b); err != nil || back.FoldsBy != "ici_class" || b.Training.FoldsBy != "ici_class" || b.Training.Folds != 4 {
		t.Errorf("recorded: %+v, options %+v (%v)", b.Training, back, err)
	}

	for _, tt := range []struct {
		name string
		opts train.Options
		want string
	}{
		{"another subgroup column", train.Options{FoldsBy: "ici_class", By: "sex", ByKind: data.KindString}, "folds by ici_class report their metrics by ici_class: subgroups by sex too are not supported"},
		{"a measurement", train.Options{FoldsBy: "age", ByKind: data.KindFloat}, "folds by age: cannot make subgroups: column age has more than 20 values"},
	} {
		tt.opts.Algo, tt.opts.Bootstrap = "logistic", 10
		_, err := train.Run(context.Background(), spec, records(ps[:300]), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}

	// A table of 12 rows in centres 1-3: centre 3 holds every positive row,
	// so holding it out leaves nothing positive to train on; one centre
	// alone makes no folds.
	own, err := features.ParseSpec("s.yaml", []byte("id: id\ntarget: {column: y, positive: true}\nfeatures:\n  - column: x\n    kind: numeric\n"))
	if err != nil {
		t.Fatal(err)
	}
	var rows, one []features.Record
	for i := range 12 {
		centre := float64(1 + i/4)
		rows = append(rows, rec{"id": data.String(string(rune('a' + i))), "x": data.Float(float64(i)), "y": data.Bool(centre == 3), "centre": data.Float(centre)})
		one = append(one, rec{"id": data.String(string(rune('a' + i))), "x": data.Float(float64(i)), "y": data.Bool(i%2 == 0), "centre": data.Float(7)})
	}
	fo := train.Options{Algo: "logistic", Bootstrap: 10, FoldsBy: "centre", ByKind: data.KindInt}
	if _, err := train.Run(context.Background(), own, rows, fo); !errors.Is(err, train.ErrTrain) ||
		!strings.Contains(err.Error(), "holding out the rows where centre is 3 leaves 0 positive and 8 negative rows to train on") {
		t.Errorf("a centre of all the positives: %v", err)
	}
	if _, err := train.Run(context.Background(), own, one, fo); !errors.Is(err, train.ErrTrain) ||
		!strings.Contains(err.Error(), "folds by centre need at least two values of it; every row has the same, 7") {
		t.Errorf("one centre: %v", err)
	}
}

// rec is a table row for tests: column name to value.
type rec map[string]data.Value

func (r rec) Value(col string) data.Value { return r[col] }

// TestRunProgress: the progress callback hears the start, then each fold
// and the final fit, in order.
func TestRunProgress(t *testing.T) {
	var got []string
	opts := train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10,
		Progress: func(done, total int, step string) { got = append(got, fmt.Sprintf("%d/%d %s", done, total, step)) }}
	if _, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(synth.Generate(300, 5)), opts); err != nil {
		t.Fatal(err)
	}
	want := []string{"0/4 ", "1/4 fold 1 of 3", "2/4 fold 2 of 3", "3/4 fold 3 of 3", "4/4 final fit"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("progress %q, want %q", got, want)
	}
}

// TestCardMissing: the card counts, per feature, the training rows that
// lacked it (counted here from the records) and says what stood in.
func TestCardMissing(t *testing.T) {
	rs := records(synth.Generate(600, 3))
	missing := func(col string) int {
		n := 0
		for _, r := range rs {
			if !r.Value(col).Valid {
				n++
			}
		}
		return n
	}
	res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), rs, train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	md := card.Markdown(b, res)
	alc, mhc1 := missing("alc"), missing("mhc1_status")
	if alc == 0 || mhc1 == 0 {
		t.Fatalf("the cohort lacks no alc (%d) or mhc1_status (%d): this test's premise is gone", alc, mhc1)
	}
	for _, want := range []string{
		fmt.Sprintf("| alc | %d (%.1f%%) | median, ", alc, 100*float64(alc)/600),
		" after log1p |",
		fmt.Sprintf("| mhc1_status | %d (%.1f%%) | most frequent level, ", mhc1, 100*float64(mhc1)/600),
		"| 9 missing data | Data (missing values by feature) |",
		"The training rows by feature, of those with a value, before transforms:",
		fmt.Sprintf("| feature | all (600) | objective_response (%d) | not objective_response (%d) |", res.Metrics.Positives, 600-res.Metrics.Positives),
		"| mhc1_status | high ",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("card lacks %q:\n%s", want, md)
		}
	}
	own, err := features.ParseSpec("s.yaml", []byte("target: {column: objective_response, positive: true}\nfeatures:\n  - column: age\n    kind: numeric\n  - column: sex\n    kind: categorical\n"))
	if err != nil {
		t.Fatal(err)
	}
	res, err = train.Run(context.Background(), own, rs, train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = train.Bundle("m", res, models.TrainingInfo{Synthetic: true}); err != nil {
		t.Fatal(err)
	}
	if md := card.Markdown(b, res); !strings.Contains(md, "No training row lacked any of the 2 features.") {
		t.Errorf("card of complete data:\n%s", md)
	}
}

// TestCardSmoothedCalibration: the cross-validated ICI is that of the
// out-of-fold probabilities' smoothed curve, and the card and the
// calibration plot show it.
func TestCardSmoothedCalibration(t *testing.T) {
	res, err := train.Run(context.Background(), features.BuiltinSpec("objective_response"), records(synth.Generate(600, 3)),
		train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10})
	if err != nil {
		t.Fatal(err)
	}
	curve := stats.SmoothCalibration(res.OOF, res.Labels)
	ici := 0.0
	for i, p := range res.OOF {
		ici += math.Abs(curve[i]-p) / float64(len(curve))
	}
	if m := res.Metrics; math.Abs(m.ICI-ici) > 1e-12 || !(m.ICI > 0 && m.ICI <= m.E90 && m.E90 <= m.EMax) || len(m.Smooth) < 90 || len(m.Smooth) > stats.SmoothPoints {
		t.Errorf("ICI %v (recomputed %v), E90 %v, Emax %v, %d points of the smooth", m.ICI, ici, m.E90, m.EMax, len(m.Smooth))
	}
	b, err := train.Bundle("m", res, models.TrainingInfo{Synthetic: true})
	if err != nil {
		t.Fatal(err)
	}
	files, err := workflow.Files(b, res)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("| ICI, mean distance from the smoothed calibration curve (ideal 0) | %.3f |", res.Metrics.ICI)
	if md := string(files["card.md"]); !strings.Contains(md, want) {
		t.Errorf("card lacks %q", want)
	}
	if svg := string(files["calibration.svg"]); !strings.Contains(svg, fmt.Sprintf("smoothed (lowess; ICI %.3f)", res.Metrics.ICI)) {
		t.Error("the calibration plot has no smoothed curve in its legend")
	}
}
