package train

import (
	"encoding/json"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// Bundle assembles the bundle of a training result.
func Bundle(name string, res *Result, info models.TrainingInfo) (*models.Bundle, error) {
	model, err := models.Encode(res.Model)
	if err != nil {
		return nil, err
	}
	metrics, err := json.Marshal(struct {
		CrossValidated stats.Metrics      `json:"cross_validated"`
		Uncalibrated   stats.Metrics      `json:"uncalibrated"`
		FoldAUC        []float64          `json:"fold_auc"`
		Importance     []Importance       `json:"importance"`
		By             string             `json:"by,omitempty"`
		Groups         []stats.Group      `json:"groups,omitempty"`
		Pooled         *stats.PooledAUC   `json:"pooled_across_groups,omitempty"`
		SampleSize     *stats.SampleSize  `json:"sample_size,omitempty"`
		Instability    *stats.Instability `json:"instability,omitempty"`
		// The endpoints asked for, and what came of each: a comparison or
		// the reason there is none.
		SurvivalEndpoints []string               `json:"survival_endpoints,omitempty"`
		Survival          []*stats.SurvivalSplit `json:"survival,omitempty"`
		SurvivalNotes     []string               `json:"survival_notes,omitempty"`
	}{res.Metrics, res.Uncalibrated, res.FoldAUC, res.Importance, res.Options.By, res.Groups, res.Pooled, res.SampleSize, res.Instability,
		res.Options.Survival, res.Survival, res.SurvivalNotes})
	if err != nil {
		return nil, err
	}
	alg, err := models.LookupAlgorithm(res.Model.Algo())
	if err != nil {
		return nil, err
	}
	hyper := alg.Hyperparameters(res.Model, res.Options.Settings)
	if res.Options.Tune {
		// The penalty recorded is the one tuned on all rows; "tune" says
		// so, for a reproduction to tune again. (A map: its keys are
		// written sorted, as they always were.)
		b, err := json.Marshal(hyper)
		if err != nil {
			return nil, err
		}
		var h map[string]any
		if err := json.Unmarshal(b, &h); err != nil {
			return nil, err
		}
		h["tune"] = true
		hyper = h
	}
	if info.Hyperparameters, err = json.Marshal(hyper); err != nil {
		return nil, err
	}
	info.Rows, info.DroppedRows, info.Positives = res.Rows, res.DroppedRows, res.Metrics.Positives
	info.Seed, info.Folds, info.FoldsBy, info.Bootstrap = res.Options.Seed, res.Options.Folds, res.Options.FoldsBy, res.Options.Bootstrap
	return &models.Bundle{
		Format:      models.BundleFormat,
		Name:        name,
		Target:      res.Pipeline.Spec.Target.Column,
		Algo:        res.Model.Algo(),
		Pipeline:    res.Pipeline,
		Model:       model,
		Calibration: res.Calibrator,
		Training:    info,
		Metrics:     metrics,
	}, nil
}

// survivalHyper is what a time-to-event bundle records of its training
// options: enough, with the seed, to train it again.
type survivalHyper struct {
	Lambda float64            `json:"lambda"`
	Alpha  float64            `json:"alpha"`
	Tune   bool               `json:"tune,omitempty"`
	Times  []float64          `json:"times"`
	GBM    *models.GBMOptions `json:"gbm,omitempty"`
	By     string             `json:"by,omitempty"`
	// Instability is how many bootstrap models were developed, Intervals
	// whether they were kept.
	Instability int  `json:"instability,omitempty"`
	Intervals   bool `json:"intervals,omitempty"`
}

// SurvivalBundle assembles the bundle of a time-to-event training result.
func SurvivalBundle(name string, res *SurvivalResult, info models.TrainingInfo) (*models.Bundle, error) {
	model, err := models.EncodeSurvival(res.Model)
	if err != nil {
		return nil, err
	}
	metrics, err := json.Marshal(struct {
		CrossValidated SurvivalMetrics      `json:"cross_validated"`
		FoldLambdas    []float64            `json:"fold_lambdas,omitempty"`
		Events         int                  `json:"events"`
		By             string               `json:"by,omitempty"`
		Groups         []SurvivalGroup      `json:"groups,omitempty"`
		Instability    *SurvivalInstability `json:"instability,omitempty"`
	}{res.Metrics, res.FoldLambdas, res.Events, res.Options.By, res.Groups, res.Instability})
	if err != nil {
		return nil, err
	}
	o := res.Options
	h := survivalHyper{Lambda: res.Lambda, Alpha: o.Alpha, Tune: o.Tune, Times: o.Times, Instability: o.Instability, Intervals: o.Intervals}
	if o.FoldsBy == "" {
		h.By = o.By
	}
	if o.Algo == models.BoostedCoxAlgo {
		h.GBM = &o.GBM
	}
	if info.Hyperparameters, err = json.Marshal(h); err != nil {
		return nil, err
	}
	info.Rows, info.DroppedRows, info.Positives = res.Rows, res.DroppedRows, res.Events
	info.Seed, info.Folds, info.FoldsBy, info.Bootstrap = o.Seed, o.Folds, o.FoldsBy, o.Bootstrap
	return &models.Bundle{
		Format:   models.BundleFormat,
		Name:     name,
		Target:   res.Pipeline.Spec.Target.Name(),
		Algo:     res.Model.Algo(),
		Pipeline: res.Pipeline,
		Model:    model,
		Training: info,
		Metrics:  metrics,
	}, nil
}

// SurvivalOptionsOf reads the training options a time-to-event bundle
// recorded, for a reproduction.
func SurvivalOptionsOf(b *models.Bundle) (SurvivalOptions, error) {
	var h survivalHyper
	if err := json.Unmarshal(b.Training.Hyperparameters, &h); err != nil {
		return SurvivalOptions{}, err
	}
	o := SurvivalOptions{Algo: b.Algo, Folds: b.Training.Folds, Seed: b.Training.Seed, Bootstrap: b.Training.Bootstrap, Alpha: h.Alpha, Tune: h.Tune, Times: h.Times,
		By: h.By, FoldsBy: b.Training.FoldsBy, Instability: h.Instability, Intervals: h.Intervals}
	if h.GBM != nil {
		o.GBM = *h.GBM
	} else if !h.Tune {
		o.Lambda = h.Lambda
	}
	return o, nil
}
