package workflow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// Reproduction is a published version made again from its record: which
// of its files came out the same.
type Reproduction struct {
	Name, Version string
	DataFile      string // base name
	// Files are the version's files in name order, each the same as
	// published or not.
	Files []FileMatch
	// MadeBy and ThisBinary say which abscopal and Go made the version and
	// which tried again: a difference may come from there.
	MadeBy, ThisBinary string
}

// FileMatch is a file made again, against the published one.
type FileMatch struct {
	Name string
	Same bool
	// Parts names, for a bundle.json that differs, its parts that do:
	// "model, metrics".
	Parts string
}

// Reproducible reports whether every file came out the same.
func (r *Reproduction) Reproducible() bool {
	for _, f := range r.Files {
		if !f.Same {
			return false
		}
	}
	return true
}

// Reproduce retrains the version ref from its training record on the file
// dataPath (its SHA-256 must be the recorded one), or for a recalibrated
// version recalibrates the version it came from again on the file it was
// recalibrated on, and compares what comes out with the published files,
// byte for byte.
func Reproduce(ctx context.Context, reg *models.Registry, ref, dataPath string, progress Tracker) (*Reproduction, error) {
	m, published, err := reg.LoadFiles(ref)
	if err != nil {
		return nil, err
	}
	b, name, version := m.Bundle, m.Bundle.Name, m.Version
	var files map[string][]byte
	if rc := b.Recalibrated; rc != nil {
		files, err = reproduceRecalibration(ctx, reg, name, version, rc, dataPath)
	} else {
		files, err = retrain(ctx, name, version, b, dataPath, progress)
	}
	if err != nil {
		return nil, err
	}
	info := buildinfo.Read()
	r := &Reproduction{Name: name, Version: version, DataFile: filepath.Base(dataPath),
		MadeBy:     fmt.Sprintf("abscopal %s with %s", b.Training.AbscopalVersion, b.Training.GoVersion),
		ThisBinary: fmt.Sprintf("abscopal %s with %s", info.Version, info.GoVersion)}
	for _, f := range slices.Sorted(maps.Keys(files)) {
		m := FileMatch{Name: f, Same: bytes.Equal(files[f], published[f])}
		if !m.Same {
			m.Parts = bundleParts(f, files[f], published[f])
		}
		r.Files = append(r.Files, m)
	}
	return r, nil
}

// bundleParts names the top-level parts of two bundle.json files that
// differ ("model, metrics"); "" for other files.
func bundleParts(name string, a, b []byte) string {
	if name != "bundle.json" {
		return ""
	}
	var pa, pb map[string]json.RawMessage
	if json.Unmarshal(a, &pa) != nil || json.Unmarshal(b, &pb) != nil {
		return ""
	}
	var diff []string
	for _, k := range []string{"format", "name", "target", "algo", "pipeline", "model", "calibration", "training", "metrics"} {
		if !bytes.Equal(pa[k], pb[k]) {
			diff = append(diff, k)
		}
	}
	if len(diff) == 0 {
		return ""
	}
	return strings.Join(diff, ", ")
}

// retrain trains name:version (bundle b) again from its training data file
// and recorded settings, and renders its files.
func retrain(ctx context.Context, name, version string, b *models.Bundle, dataPath string, progress Tracker) (map[string][]byte, error) {
	sum, err := FileSHA256(dataPath)
	if err != nil {
		return nil, err
	}
	if sum != b.Training.DataSHA256 {
		return nil, fmt.Errorf("%s is not the training data of %s:%s: SHA-256 %s, recorded %s (%s)", dataPath, name, version, sum, b.Training.DataSHA256, b.Training.DataFile)
	}
	if b.TimeToEvent() {
		return retrainSurvival(ctx, name, version, b, dataPath, progress)
	}
	opts, err := train.OptionsOf(b)
	if err != nil {
		return nil, err
	}
	td, err := ReadTraining(ctx, dataPath, b.Pipeline.Spec, opts.By, opts.Survival)
	if err != nil {
		return nil, err
	}
	opts.ByKind = td.ByKind
	var stop func()
	opts.Progress, stop = progress.start(fmt.Sprintf("retraining %s:%s (%s) on %d rows", name, version, opts.Algo, len(td.Records)))
	res, err := train.Run(ctx, td.Spec, td.Records, opts)
	stop()
	if err != nil {
		return nil, err
	}
	_, files, err := Build(b.Name, res, b.Training)
	return files, err
}

// retrainSurvival is retrain for a time-to-event model.
func retrainSurvival(ctx context.Context, name, version string, b *models.Bundle, dataPath string, progress Tracker) (map[string][]byte, error) {
	opts, err := train.SurvivalOptionsOf(b)
	if err != nil {
		return nil, err
	}
	by := opts.By
	if opts.FoldsBy != "" {
		by = opts.FoldsBy
	}
	td, err := ReadTraining(ctx, dataPath, b.Pipeline.Spec, by, nil)
	if err != nil {
		return nil, err
	}
	opts.ByKind = td.ByKind
	var stop func()
	opts.Progress, stop = progress.start(fmt.Sprintf("retraining %s:%s (%s) on %d rows", name, version, b.Algo, len(td.Records)))
	res, err := train.RunSurvival(ctx, td.Spec, td.Records, opts)
	stop()
	if err != nil {
		return nil, err
	}
	nb, err := train.SurvivalBundle(b.Name, res, b.Training)
	if err != nil {
		return nil, err
	}
	return SurvivalFiles(nb, res)
}

// reproduceRecalibration recalibrates the version a recalibrated one came
// from on the data file again, with the recorded settings, and renders the
// files.
func reproduceRecalibration(ctx context.Context, r *models.Registry, name, version string, rc *models.Recalibration, dataPath string) (map[string][]byte, error) {
	sum, err := FileSHA256(dataPath)
	if err != nil {
		return nil, err
	}
	if sum != rc.DataSHA256 {
		return nil, fmt.Errorf("%s is not the data %s:%s was recalibrated on: SHA-256 %s, recorded %s (%s)", dataPath, name, version, sum, rc.DataSHA256, rc.DataFile)
	}
	from, fromFiles, err := r.LoadFiles(rc.From)
	if err != nil {
		return nil, fmt.Errorf("%s:%s was recalibrated from %s: %w", name, version, rc.From, err)
	}
	_, files, err := recalibrate(ctx, from, fromFiles, dataPath, sum, train.RecalibrateOptions{Method: rc.Method, Bootstrap: rc.Bootstrap, Seed: rc.Seed})
	return files, err
}

// Recalibration is a version published by Recalibrate.
type Recalibration struct {
	Name, Version string
	*train.Recalibrated
}

// ErrRecalibrate is wrapped by the errors of a recalibration the version
// or the data do not allow.
var ErrRecalibrate = errors.New("cannot recalibrate")

// Recalibrate refits the calibration of the version ref on the labelled
// patients of dataPath (train.Recalibrate) and publishes the result as a
// new version of the same model. What the version allows is checked
// before the data are read.
func Recalibrate(ctx context.Context, reg *models.Registry, ref, dataPath string, opts train.RecalibrateOptions) (*Recalibration, error) {
	switch opts.Method {
	case models.CalibrationPlatt, models.CalibrationIsotonic, models.CalibrationIntercept:
	default:
		return nil, optionError("calibration %s: platt, isotonic or intercept", opts.Method)
	}
	m, published, err := reg.LoadFiles(ref)
	if err != nil {
		return nil, err
	}
	name := m.Bundle.Name
	if m.Survival != nil {
		return nil, fmt.Errorf("%w: %s:%s has no calibration to refit (a time-to-event model's survival comes from its baseline hazard)", ErrTimeToEvent, name, m.Version)
	}
	// The refusals that need no data come before the work.
	if err := canRecalibrate(m, opts.Method); err != nil {
		return nil, err
	}
	if err := reg.CheckWritable(name); err != nil {
		return nil, err
	}
	sum, err := FileSHA256(dataPath)
	if err != nil {
		return nil, err
	}
	rec, files, err := recalibrate(ctx, m, published, dataPath, sum, opts)
	if err != nil {
		return nil, err
	}
	version, err := reg.Publish(name, files)
	if err != nil {
		return nil, err
	}
	return &Recalibration{Name: name, Version: version, Recalibrated: rec}, nil
}

// recalibrate refits m's calibration on the data file (whose SHA-256 is
// sum) and renders the new version's files from m's (published): the work
// of Recalibrate, and of Reproduce for a recalibrated version.
func recalibrate(ctx context.Context, m *models.Model, published map[string][]byte, dataPath, sum string, opts train.RecalibrateOptions) (*train.Recalibrated, map[string][]byte, error) {
	if err := canRecalibrate(m, opts.Method); err != nil {
		return nil, nil, err
	}
	from := m.Bundle.Name + ":" + m.Version
	if sum == m.Bundle.Training.DataSHA256 {
		return nil, nil, fmt.Errorf("%w: %s is %s's training data (the same SHA-256): recalibrate on patients the model was not trained on", ErrRecalibrate, dataPath, from)
	}
	src, _, err := m.OpenSource(ctx, dataPath, features.SourceOptions{NeedTarget: true})
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	origin := models.Recalibration{From: from, DataFile: filepath.Base(dataPath), DataSHA256: sum, Synthetic: src.Synthetic()}
	rec, err := train.Recalibrate(ctx, m, src, origin, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dataPath, err)
	}
	files, err := RecalibratedFiles(rec, published)
	if err != nil {
		return nil, nil, err
	}
	return rec, files, nil
}

// canRecalibrate refuses a method that m's calibration does not allow: an
// intercept shift moves a Platt map, not an isotonic one.
func canRecalibrate(m *models.Model, method string) error {
	if method == models.CalibrationIntercept && m.Bundle.Calibration.Method == models.CalibrationIsotonic {
		return fmt.Errorf("%w: %s:%s is calibrated by isotonic regression, which an intercept shift cannot move: use --calibration platt or isotonic", ErrRecalibrate, m.Bundle.Name, m.Version)
	}
	return nil
}
