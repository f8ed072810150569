package workflow

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// DemoOptions are what Demo takes.
type DemoOptions struct {
	Dir      string // the cohort and the registry go here
	Patients int    // synthetic patients
	Seed     uint64 // of the cohort and the training
	// Step, if set, is told of each step as it starts ("writing 5000
	// synthetic patients to ..."); Trained, of each model once published.
	Step    func(msg string)
	Trained func(DemoModel)
}

// DemoModel is a model the demo trained.
type DemoModel struct {
	Name, Algo string
	*Published                    // a classifier's; nil for a time-to-event model
	Survival   *PublishedSurvival // a time-to-event model's; nil for a classifier
}

// DemoResult is what Demo made.
type DemoResult struct {
	Cohort, Registry string
	Models           []DemoModel
}

// Demo writes a SYNTHETIC cohort into opts.Dir and trains into a registry
// there the models the API answers /v1 with: abscopal and objective
// response (gbm, their cards setting their out-of-fold predictions against
// PFS and OS) and grade 2 or worse pneumonitis (logistic), each with 5-fold
// CV, calibrated, and made production; and Cox models of overall and
// progression-free survival.
func Demo(ctx context.Context, opts DemoOptions) (*DemoResult, error) {
	step := func(msg string) {
		if opts.Step != nil {
			opts.Step(msg)
		}
	}
	res := &DemoResult{Cohort: filepath.Join(opts.Dir, "synthetic_cohort.parquet"), Registry: filepath.Join(opts.Dir, "registry")}
	step(fmt.Sprintf("writing %d synthetic patients to %s", opts.Patients, res.Cohort))
	if err := synth.WriteFile(ctx, res.Cohort, opts.Patients, opts.Seed, data.WriteOptions{}); err != nil {
		return nil, err
	}
	reg := &models.Registry{Dir: res.Registry}
	// Pneumonitis, grade 2 or worse, is the toxicity a regimen is weighed
	// against. Its model is a logistic regression: the synthetic cohort
	// ties it to conventional thoracic RT, which comes with a high mean
	// lung dose and a nodal field, and the GBM learns it from those, which
	// a regimen of /v1/regimens/compare not yet planned lacks (imputed): it
	// gave every course of RT to the lung the risk of 0.116, the logistic
	// regression 0.188 to 60 Gy / 30 and 0.137 to 8 Gy x 3, from the
	// fractionation.
	grade2 := 2.0
	pneumonitis := features.BuiltinSpec(data.PneumonitisGrade)
	pneumonitis.Target.Positive, pneumonitis.Target.AtLeast = nil, &grade2
	// The response models' cards set their out-of-fold predictions against
	// survival too.
	survival := []string{"pfs", "os"}
	for _, m := range []struct {
		name, algo string
		spec       *features.Spec
		survival   []string
	}{
		{"abscopal", "gbm", features.BuiltinSpec(data.AbscopalResponse), survival},
		{"response", "gbm", features.BuiltinSpec(data.ObjectiveResponse), survival},
		{"pneumonitis", "logistic", pneumonitis, nil},
	} {
		step(fmt.Sprintf("training %s (%s) on %s", m.name, m.algo, m.spec.Target))
		pub, err := Train(ctx, TrainOptions{Data: res.Cohort, Spec: m.spec, Registry: reg, Name: m.name,
			Train: train.Options{Algo: m.algo, Seed: opts.Seed, Bootstrap: 200, Settings: models.Settings{GBM: train.DefaultGBM()}, Survival: m.survival}})
		if err != nil {
			return nil, err
		}
		if err := reg.SetAlias(m.name, "production", pub.Version); err != nil {
			return nil, err
		}
		dm := DemoModel{Name: m.name, Algo: m.algo, Published: pub}
		res.Models = append(res.Models, dm)
		if opts.Trained != nil {
			opts.Trained(dm)
		}
	}
	for _, name := range []string{"os", "pfs"} {
		spec := features.BuiltinSpec(name)
		step(fmt.Sprintf("training %s (%s) on %s", name, models.CoxAlgo, spec.Target))
		pub, err := TrainSurvival(ctx, TrainSurvivalOptions{Data: res.Cohort, Spec: spec, Registry: reg, Name: name,
			Train: train.SurvivalOptions{Seed: opts.Seed, Bootstrap: 200}})
		if err != nil {
			return nil, err
		}
		if err := reg.SetAlias(name, "production", pub.Version); err != nil {
			return nil, err
		}
		dm := DemoModel{Name: name, Algo: models.CoxAlgo, Survival: pub}
		res.Models = append(res.Models, dm)
		if opts.Trained != nil {
			opts.Trained(dm)
		}
	}
	return res, nil
}
