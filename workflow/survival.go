package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	"github.com/abscopal/abscopal/card"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/plots"
	"github.com/abscopal/abscopal/stats"
	"github.com/abscopal/abscopal/train"
)

// ErrTimeToEvent is wrapped by the errors of the use cases that a
// time-to-event model does not support yet (external validation,
// recalibration, validation sample size).
var ErrTimeToEvent = errors.New("not for a time-to-event model")

// TrainSurvivalOptions are what TrainSurvival takes: the data, its features
// (a spec whose target is a time to an event), the training settings and
// where the model goes.
type TrainSurvivalOptions struct {
	Data     string
	Spec     *features.Spec
	Registry *models.Registry
	Name     string
	Train    train.SurvivalOptions // its Progress is the Tracker's
	// OOF, if set, is where the out-of-fold predictions the metrics come
	// from are written (Parquet or CSV): id, fold, time, event, the linear
	// predictor and the survival at each time.
	OOF      string
	Progress Tracker
	Notice   Notice
}

// PublishedSurvival is what TrainSurvival made.
type PublishedSurvival struct {
	Name, Version string
	Result        *train.SurvivalResult
	Bundle        *models.Bundle
	Synthetic     bool
}

// TrainSurvival reads the data, cross-validates and fits a time-to-event
// model as train.RunSurvival does, and publishes it as a new version of
// opts.Name: bundle.json, the model card and its calibration plot.
func TrainSurvival(ctx context.Context, opts TrainSurvivalOptions) (*PublishedSurvival, error) {
	by := opts.Train.By
	if opts.Train.FoldsBy != "" {
		by = opts.Train.FoldsBy
	}
	in, err := readForTraining(ctx, opts.Registry, opts.Name, opts.OOF, opts.Data, opts.Spec, by, nil, opts.Notice)
	if err != nil {
		return nil, err
	}
	td := in.data
	o := opts.Train
	o.ByKind = td.ByKind
	algo := o.Algo
	if algo == "" {
		algo = models.CoxAlgo
	}
	var stop func()
	o.Progress, stop = opts.Progress.start(fmt.Sprintf("training %s on %d rows", algo, len(td.Records)))
	res, b, files, err := TrainSurvivalRecords(ctx, opts.Name, td.Spec, td.Records, o, in.record)
	stop()
	if err != nil {
		return nil, err
	}
	version, err := publishWithOOF(opts.Registry, opts.Name, files, opts.OOF, func(version string) error {
		return writeSurvivalOOF(opts.OOF, td, res, OOFMetadata(b.Target, opts.Name+":"+version, td.Synthetic))
	})
	if err != nil {
		return nil, err
	}
	return &PublishedSurvival{Name: opts.Name, Version: version, Result: res, Bundle: b, Synthetic: td.Synthetic}, nil
}

// TrainSurvivalRecords trains a time-to-event model on records in memory
// and renders the version's files, publishing nothing.
func TrainSurvivalRecords(ctx context.Context, name string, spec *features.Spec, records []features.Record, opts train.SurvivalOptions, info models.TrainingInfo) (*train.SurvivalResult, *models.Bundle, map[string][]byte, error) {
	res, err := train.RunSurvival(ctx, spec, records, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := train.SurvivalBundle(name, res, info)
	if err != nil {
		return nil, nil, nil, err
	}
	files, err := SurvivalFiles(b, res)
	if err != nil {
		return nil, nil, nil, err
	}
	return res, b, files, nil
}

// SurvivalFiles renders a time-to-event bundle's files: bundle.json,
// card.md and the calibration plot.
func SurvivalFiles(b *models.Bundle, res *train.SurvivalResult) (map[string][]byte, error) {
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	m := res.Metrics
	pred, obs := make([][]float64, len(m.Times)), make([][]float64, len(m.Times))
	for k := range m.Times {
		for _, d := range m.Calibration[k] {
			pred[k], obs[k] = append(pred[k], d.Predicted), append(obs[k], d.Observed)
		}
	}
	svg, err := plots.SurvivalCalibrationSVG(m.Times, pred, obs, "months", "Calibration (cross-validated): "+b.Name)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"bundle.json":                 append(js, '\n'),
		"card.md":                     []byte(card.SurvivalMarkdown(b, res)),
		plots.SurvivalCalibrationFile: svg,
	}
	if len(res.Bootstrap) > 0 {
		if files[models.BootstrapFile], err = models.EncodeBootstrap(res.Bootstrap); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// writeSurvivalOOF writes a time-to-event model's out-of-fold predictions,
// a row per patient with a time and an event, in input order.
func writeSurvivalOOF(path string, td *TrainingData, res *train.SurvivalResult, md map[string]string) error {
	spec := td.Spec
	cols := []data.ColumnSpec{{Name: spec.ID, Kind: td.IDKind, Optional: true}, {Name: "fold", Kind: data.KindInt},
		{Name: spec.Target.Time, Kind: data.KindFloat}, {Name: spec.Target.Event, Kind: data.KindBool}, {Name: "linear_predictor", Kind: data.KindFloat}}
	for _, t := range res.Options.Times {
		cols = append(cols, data.ColumnSpec{Name: models.SurvivalColumn(t), Kind: data.KindFloat})
	}
	w, err := data.CreateRows(path, cols, data.WriteOptions{Metadata: md})
	if err != nil {
		return err
	}
	vals := make([]data.Value, len(cols))
	for k, i := range res.Index {
		vals[0] = data.Null
		if spec.ID != "" {
			vals[0] = td.Records[i].Value(spec.ID)
		}
		vals[1], vals[2], vals[3], vals[4] = data.Float(float64(res.Fold[k])), data.Float(res.Time[k]), data.Bool(res.Event[k]), data.Float(res.OOFRisk[k])
		for j, s := range res.OOFSurvival[k] {
			vals[5+j] = data.Float(s)
		}
		if err := w.WriteRow(vals); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// CompareSurvivalOptions are what CompareSurvival takes: the data, a spec
// whose target is a time to an event, and the settings of each model
// compared (the same folds and seed for all).
type CompareSurvivalOptions struct {
	Data   string
	Spec   *features.Spec
	Models []train.SurvivalOptions
	// FoldsBy, when set, makes each value of this column a fold (leave one
	// centre out) for every model, and judges each held-out value.
	FoldsBy  string
	Progress Tracker
	Notice   Notice
}

// SurvivalComparison is time-to-event models cross-validated on the same
// folds, side by side.
type SurvivalComparison struct {
	Target    string             `json:"target"`
	Rows      int                `json:"rows"`
	Events    int                `json:"events"`
	Synthetic bool               `json:"synthetic"`
	Best      string             `json:"best"` // by Harrell's C
	Models    []ComparedSurvival `json:"models"`
	FoldsBy   string             `json:"folds_by,omitempty"`
	Folds     int                `json:"folds"`
}

// ComparedSurvival is one model of a SurvivalComparison: its
// cross-validated metrics, and its C less the best's with a paired
// bootstrap 95% interval (the same resamples of the patients for both).
type ComparedSurvival struct {
	Algo       string                `json:"algo"`
	Metrics    train.SurvivalMetrics `json:"metrics"`
	CMinusBest float64               `json:"c_minus_best"`
	Low        float64               `json:"c_minus_best_low"`
	High       float64               `json:"c_minus_best_high"`
	// Groups are, with FoldsBy, the metrics of each held-out value.
	Groups []train.SurvivalGroup `json:"groups,omitempty"`
}

// CompareSurvival cross-validates each model of opts.Models on the same
// folds (train.RunSurvival without the final fit) and compares their C.
func CompareSurvival(ctx context.Context, opts CompareSurvivalOptions) (*SurvivalComparison, error) {
	td, err := ReadTraining(ctx, opts.Data, opts.Spec, opts.FoldsBy, nil)
	if err != nil {
		return nil, err
	}
	if len(td.Dropped) > 0 {
		opts.Notice.say(droppedNotice(td.Dropped))
	}
	c := &SurvivalComparison{Target: td.Spec.Target.Name(), Synthetic: td.Synthetic, FoldsBy: opts.FoldsBy}
	var results []*train.SurvivalResult
	for _, o := range opts.Models {
		o.CrossValidateOnly = true
		if opts.FoldsBy != "" {
			o.FoldsBy, o.ByKind = opts.FoldsBy, td.ByKind
		}
		var stop func()
		o.Progress, stop = opts.Progress.start(fmt.Sprintf("cross-validating %s on %d rows", o.Algo, len(td.Records)))
		res, err := train.RunSurvival(ctx, td.Spec, td.Records, o)
		stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.Algo, err)
		}
		results = append(results, res)
		c.Models = append(c.Models, ComparedSurvival{Algo: res.Options.Algo, Metrics: res.Metrics, Groups: res.Groups})
	}
	c.Rows, c.Events, c.Folds = results[0].Rows, results[0].Events, results[0].Options.Folds
	best := 0
	for k, m := range c.Models {
		if m.Metrics.C > c.Models[best].Metrics.C {
			best = k
		}
	}
	c.Best = c.Models[best].Algo
	b := results[best]
	for k, r := range results {
		c.Models[k].CMinusBest = r.Metrics.C - b.Metrics.C
		if k != best {
			c.Models[k].Low, c.Models[k].High = pairedCDifference(r.Time, r.Event, r.OOFRisk, b.OOFRisk, opts.Models[0].Bootstrap, opts.Models[0].Seed)
		}
	}
	return c, nil
}

// pairedCDifference is the 95% percentile interval of Harrell's C of risk
// a less that of risk b over B resamples of the patients, the same for
// both, drawn with seed (B 0: 1000).
func pairedCDifference(time []float64, event []bool, a, b []float64, B int, seed uint64) (low, high float64) {
	if B == 0 {
		B = 1000
	}
	rng := rand.New(rand.NewPCG(seed, 0xd1ff))
	n := len(time)
	bt, sa, sb := make([]float64, n), make([]float64, n), make([]float64, n)
	be := make([]bool, n)
	var diffs []float64
	for range B {
		for i := range n {
			j := rng.IntN(n)
			bt[i], be[i], sa[i], sb[i] = time[j], event[j], -a[j], -b[j]
		}
		ca, cb := stats.ConcordanceIndex(bt, be, sa), stats.ConcordanceIndex(bt, be, sb)
		if !math.IsNaN(ca) && !math.IsNaN(cb) {
			diffs = append(diffs, ca-cb)
		}
	}
	if len(diffs) == 0 {
		return math.NaN(), math.NaN()
	}
	return stats.Central95(diffs)
}

// SurvivalEvaluation is a time-to-event model's validation on a file with
// its outcomes ("abscopal evaluate --json" prints it).
type SurvivalEvaluation struct {
	Model        string `json:"model"`
	Version      string `json:"version"`
	Algo         string `json:"algo"`
	Target       string `json:"target"`
	DataFile     string `json:"data_file"` // base name only
	DataSHA256   string `json:"data_sha256"`
	TrainingFile bool   `json:"training_file"` // the figures are then in-sample
	Synthetic    bool   `json:"synthetic"`
	Rows         int    `json:"rows"`    // with a time and an event
	Events       int    `json:"events"`  // among them
	Dropped      int    `json:"dropped"` // rows without either
	// Metrics are the file's, CrossValidated those of the model's training.
	Metrics        train.SurvivalMetrics  `json:"metrics"`
	CrossValidated *train.SurvivalMetrics `json:"cross_validated"`
	// Groups are the file's metrics by value of the column By.
	By     string                `json:"by,omitempty"`
	Groups []train.SurvivalGroup `json:"groups,omitempty"`
}

// EvaluateSurvivalOptions are what EvaluateSurvival takes: the model, the
// file, the bootstrap resamples of the intervals and their seed, and By, a
// column whose every value is also judged on its own (a subgroup, a
// centre).
type EvaluateSurvivalOptions struct {
	Registry  *models.Registry
	Model     string // name[:version or alias]
	Data      string
	Bootstrap int
	Seed      uint64
	By        string
}

// EvaluateSurvival validates a time-to-event model on the patients of a
// file: every row scored as predict does, the predictions judged as
// training judged its out-of-fold ones (train.JudgeSurvival), and with By
// each value of that column's (train.JudgeSurvivalBy).
func EvaluateSurvival(ctx context.Context, opts EvaluateSurvivalOptions) (*SurvivalEvaluation, error) {
	reg, ref, in, bootstrap, seed := opts.Registry, opts.Model, opts.Data, opts.Bootstrap, opts.Seed
	m, err := reg.Load(ref)
	if err != nil {
		return nil, err
	}
	if m.Survival == nil {
		return nil, fmt.Errorf("%w: %s:%s predicts a probability", models.ErrNotTimeToEvent, m.Bundle.Name, m.Version)
	}
	sum, err := FileSHA256(in)
	if err != nil {
		return nil, err
	}
	b := m.Bundle
	sopts := features.SourceOptions{NeedTarget: true}
	if opts.By != "" {
		sopts.Also = []string{opts.By}
	}
	src, spec, err := m.OpenSource(ctx, in, sopts)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	times := b.SurvivalTimes()
	grid := train.SurvivalGrid(times)
	asked := append(append([]float64{}, times...), grid...)
	ev := &SurvivalEvaluation{Model: b.Name, Version: m.Version, Algo: b.Algo, Target: b.Target, DataFile: filepath.Base(in), DataSHA256: sum,
		TrainingFile: sum == b.Training.DataSHA256, Synthetic: src.Synthetic(), CrossValidated: SurvivalMetricsOf(b)}
	var (
		tm, risk       []float64
		event          []bool
		surv, gridSurv [][]float64
		keys           []data.Value
		scratch        models.Scratch
		i              int
	)
	err = src.Each(ctx, func(r features.Record) error {
		defer func() { i++ }()
		t, e, ok, err := train.SurvivalOutcome(spec, r, i)
		if err != nil {
			return err
		}
		if !ok {
			ev.Dropped++
			return nil
		}
		p := m.PredictSurvival(r, asked, &scratch)
		tm, event, risk = append(tm, t), append(event, e), append(risk, p.LinearPredictor)
		if opts.By != "" {
			keys = append(keys, r.Value(opts.By))
		}
		surv = append(surv, append([]float64{}, p.Survival[:len(times)]...))
		gridSurv = append(gridSurv, append([]float64{}, p.Survival[len(times):]...))
		if e {
			ev.Events++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ev.Rows = len(tm); ev.Events == 0 {
		return nil, fmt.Errorf("%s: no events (%s true) among %d patients with a time: a time-to-event model cannot be judged", in, spec.Target.Event, ev.Rows)
	}
	ev.Metrics = train.JudgeSurvival(tm, event, risk, surv, gridSurv, times, bootstrap, seed)
	if opts.By != "" {
		ev.By = opts.By
		if ev.Groups, err = train.JudgeSurvivalBy(opts.By, src.Kind(opts.By), keys, tm, event, risk, surv, gridSurv, times, bootstrap, seed); err != nil {
			return nil, fmt.Errorf("%s: %w", in, err)
		}
	}
	return ev, nil
}
