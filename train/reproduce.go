package train

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
)

// ErrNotReproducible is wrapped by OptionsOf when a bundle does not record
// everything its training took.
var ErrNotReproducible = errors.New("cannot reproduce")

// OptionsOf returns the options a bundle was trained with, as its training
// record and metrics give them: run on the same data, they make the same
// bundle. Options.ByKind is left for the caller, who reads the data. A
// recalibrated bundle's are those its model was trained with; its own
// calibration is reproduced by recalibrating that model again.
func OptionsOf(b *models.Bundle) (Options, error) {
	t := b.Training
	if t.Bootstrap == 0 {
		return Options{}, fmt.Errorf("%w: %s was made before bundles recorded the bootstrap count of its AUC interval", ErrNotReproducible, b.Name)
	}
	var recorded struct {
		CV struct {
			Threshold float64 `json:"threshold"`
		} `json:"cross_validated"`
		By     string `json:"by"`
		Pooled *struct {
			Method stats.Tau2Method `json:"tau2_method"`
		} `json:"pooled_across_groups"`
		Instability *struct {
			Bootstraps int  `json:"bootstraps"`
			Kept       bool `json:"kept_for_intervals"`
		} `json:"instability"`
		SurvivalEndpoints []string `json:"survival_endpoints"`
	}
	if err := json.Unmarshal(b.Metrics, &recorded); err != nil {
		return Options{}, fmt.Errorf("%w: %s: metrics: %v", ErrNotReproducible, b.Name, err)
	}
	o := Options{Algo: b.Algo, Folds: t.Folds, Seed: t.Seed, Bootstrap: t.Bootstrap, Calibration: b.Calibration.Method,
		Threshold: recorded.CV.Threshold, By: recorded.By, FoldsBy: t.FoldsBy}
	if recorded.Pooled != nil {
		o.Tau2 = recorded.Pooled.Method
	}
	if recorded.Instability != nil {
		o.Instability, o.Intervals = recorded.Instability.Bootstraps, recorded.Instability.Kept
	}
	o.Survival = recorded.SurvivalEndpoints
	alg, err := models.LookupAlgorithm(b.Algo)
	if err != nil {
		return Options{}, fmt.Errorf("%w: %s: %v", ErrNotReproducible, b.Name, err)
	}
	var tuned struct {
		Tune bool `json:"tune"`
	}
	if err := alg.ReadHyperparameters(t.Hyperparameters, &o.Settings); err != nil {
		return Options{}, fmt.Errorf("%w: %s: hyperparameters: %v", ErrNotReproducible, b.Name, err)
	}
	if err := json.Unmarshal(t.Hyperparameters, &tuned); err != nil {
		return Options{}, fmt.Errorf("%w: %s: hyperparameters: %v", ErrNotReproducible, b.Name, err)
	}
	o.Tune = tuned.Tune
	return o, nil
}

// ThresholdOf is the threshold a bundle's cross-validated sensitivity
// and specificity were taken at (0.5 in bundles that record none).
func ThresholdOf(b *models.Bundle) float64 {
	var recorded struct {
		CV struct {
			Threshold float64 `json:"threshold"`
		} `json:"cross_validated"`
	}
	json.Unmarshal(b.Metrics, &recorded) // written by Bundle; zero if absent
	if recorded.CV.Threshold == 0 {
		return 0.5
	}
	return recorded.CV.Threshold
}
