package workflow_test

import (
	"context"
	"fmt"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// Train a model of objective response on SYNTHETIC patients, as "abscopal
// train" does from a file, and score a new patient with the bundle it
// publishes: the probability, and the features that moved it most.
func ExampleTrainRecords() {
	ctx := context.Background()
	cohort := synth.Generate(1000, 7) // SYNTHETIC: a demonstration, not clinical evidence
	records := make([]features.Record, len(cohort))
	for i := range cohort {
		records[i] = features.PatientRecord{P: &cohort[i]}
	}
	res, _, files, err := workflow.TrainRecords(ctx, "response", features.BuiltinSpec(data.ObjectiveResponse), records,
		train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 50}, models.TrainingInfo{Synthetic: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("cross-validated AUC %.2f on %d patients\n", res.Metrics.AUC, res.Rows)

	m, err := models.DecodeBundle(files["bundle.json"])
	if err != nil {
		fmt.Println(err)
		return
	}
	pd1, lung, concurrent, tps, dose, n := "pd1", "lung", "concurrent", 60.0, 24.0, 3
	patient := data.Patient{PatientID: "p1", ICIClass: &pd1, PDL1TPS: &tps, RTDoseGy: &dose, RTFractions: &n, RTSite: &lung, RTICISequence: &concurrent}
	p := m.Predict(features.PatientRecord{P: &patient})
	fmt.Printf("probability of an objective response %.2f, %d inputs imputed\n", p.Probability, len(p.Notes.Imputed))
	// Output:
	// cross-validated AUC 0.71 on 1000 patients
	// probability of an objective response 0.52, 19 inputs imputed
}
