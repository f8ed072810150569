package workflow

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// TrainOptions are what Train takes: the data, its features, the training
// settings and where the model goes.
type TrainOptions struct {
	Data     string // the training file, Parquet or CSV
	Spec     *features.Spec
	Registry *models.Registry
	Name     string        // the model's name in the registry
	Train    train.Options // its Progress is the Tracker's
	// OOF, if set, is where the out-of-fold predictions the metrics come
	// from are written (Parquet or CSV); OOFDecimalComma writes a CSV one
	// with semicolons and decimal commas.
	OOF             string
	OOFDecimalComma bool
	Progress        Tracker
	Notice          Notice
}

// Published is what Train made: a new version, and the training result
// its files came from.
type Published struct {
	Name, Version string
	Result        *train.Result
	Bundle        *models.Bundle
	Synthetic     bool // the data were synthetic
}

// Train reads the data, cross-validates and fits the model as
// train.Run does, and publishes it as a new version of opts.Name, with
// bundle.json, the model card and its plots (Files). The registry and the
// out-of-fold output are checked before the data are read: a mistake there
// costs no training.
func Train(ctx context.Context, opts TrainOptions) (*Published, error) {
	in, err := readForTraining(ctx, opts.Registry, opts.Name, opts.OOF, opts.Data, opts.Spec, opts.Train.By, opts.Train.Survival, opts.Notice)
	if err != nil {
		return nil, err
	}
	td := in.data
	o := opts.Train
	o.ByKind = td.ByKind
	var stop func()
	o.Progress, stop = opts.Progress.start(fmt.Sprintf("training %s on %d rows", o.Algo, len(td.Records)))
	res, b, files, err := TrainRecords(ctx, opts.Name, td.Spec, td.Records, o, in.record)
	stop()
	if err != nil {
		return nil, err
	}
	version, err := publishWithOOF(opts.Registry, opts.Name, files, opts.OOF, func(version string) error {
		return train.WriteOOF(opts.OOF, td.Spec, td.Records, td.IDKind, []string{o.Algo}, []*train.Result{res},
			data.WriteOptions{Metadata: OOFMetadata(b.Target, opts.Name+":"+version, td.Synthetic), DecimalComma: opts.OOFDecimalComma})
	})
	if err != nil {
		return nil, err
	}
	return &Published{Name: opts.Name, Version: version, Result: res, Bundle: b, Synthetic: td.Synthetic}, nil
}

// trainingInput is what a training run reads before it trains: the data,
// and what its bundle records of them.
type trainingInput struct {
	data   *TrainingData
	record models.TrainingInfo
}

// readForTraining checks that name can be published into reg and that the
// out-of-fold output oof (if any) can be written, before the data are read:
// a mistake there costs no training; then hashes and reads the data file
// for spec, with the column by and the survival endpoints, and says which
// of the spec's columns the file lacks.
func readForTraining(ctx context.Context, reg *models.Registry, name, oof, path string, spec *features.Spec, by string, survival []string, notice Notice) (*trainingInput, error) {
	if err := reg.CheckWritable(name); err != nil {
		return nil, err
	}
	if oof != "" {
		if err := CheckOutput(oof); err != nil {
			return nil, err
		}
	}
	sum, err := FileSHA256(path)
	if err != nil {
		return nil, err
	}
	td, err := ReadTraining(ctx, path, spec, by, survival)
	if err != nil {
		return nil, err
	}
	if len(td.Dropped) > 0 {
		notice.say(droppedNotice(td.Dropped))
	}
	return &trainingInput{data: td, record: TrainingRecord(path, sum, td.Synthetic)}, nil
}

// publishWithOOF publishes files as a new version of name and then, when
// oof is set, writes the out-of-fold predictions with writeOOF; a failure
// there says the version was published all the same.
func publishWithOOF(reg *models.Registry, name string, files map[string][]byte, oof string, writeOOF func(version string) error) (string, error) {
	version, err := reg.Publish(name, files)
	if err != nil {
		return "", err
	}
	if oof != "" {
		if err := writeOOF(version); err != nil {
			return "", fmt.Errorf("published %s:%s, but not its out-of-fold predictions: %w", name, version, err)
		}
	}
	return version, nil
}

// TrainingRecord is what a bundle records of its training data and of the
// binary that trained it.
func TrainingRecord(dataFile, sum string, synthetic bool) models.TrainingInfo {
	info := buildinfo.Read()
	return models.TrainingInfo{DataFile: filepath.Base(dataFile), DataSHA256: sum, Synthetic: synthetic,
		AbscopalVersion: info.Version, GoVersion: info.GoVersion, Commit: info.Commit, Modules: info.Modules}
}

// TrainRecords trains on records already in memory (a synthetic draw, a
// test's) as Train does those of a file, and renders the version's files
// (Build), publishing nothing.
func TrainRecords(ctx context.Context, name string, spec *features.Spec, records []features.Record, opts train.Options, info models.TrainingInfo) (*train.Result, *models.Bundle, map[string][]byte, error) {
	res, err := train.Run(ctx, spec, records, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	b, files, err := Build(name, res, info)
	if err != nil {
		return nil, nil, nil, err
	}
	return res, b, files, nil
}

// Build assembles the bundle of a training result and renders a version's
// files from it (Files).
func Build(name string, res *train.Result, info models.TrainingInfo) (*models.Bundle, map[string][]byte, error) {
	b, err := train.Bundle(name, res, info)
	if err != nil {
		return nil, nil, err
	}
	files, err := Files(b, res)
	if err != nil {
		return nil, nil, err
	}
	return b, files, nil
}

// OOFMetadata is the metadata of an out-of-fold file: what it predicts,
// from which run, and the synthetic label when the data were synthetic.
func OOFMetadata(target, from string, synthetic bool) map[string]string {
	md := map[string]string{"abscopal.target": target, "abscopal.out_of_fold": from}
	if synthetic {
		md["abscopal.synthetic"] = "true"
	}
	return md
}
