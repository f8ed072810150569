package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/abscopal/abscopal/api"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/abscopal/abscopal/workflow"
)

// A server is a value: made from a registry (here one model of objective
// response, trained on SYNTHETIC patients) and mounted anywhere an
// http.Handler goes. A patient is scored by POST /v1/predict.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "abscopal-example-")
	defer os.RemoveAll(dir)
	cohort := synth.Generate(600, 1) // SYNTHETIC: a demonstration, not clinical evidence
	records := make([]features.Record, len(cohort))
	for i := range cohort {
		records[i] = features.PatientRecord{P: &cohort[i]}
	}
	_, _, files, err := workflow.TrainRecords(context.Background(), "response", features.BuiltinSpec(data.ObjectiveResponse), records,
		train.Options{Algo: "logistic", Folds: 3, Seed: 1, Bootstrap: 10}, models.TrainingInfo{Synthetic: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := (&models.Registry{Dir: dir}).Publish("response", files); err != nil {
		fmt.Println(err)
		return
	}

	srv, err := api.New(api.Config{Registry: dir, WatchInterval: -1, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	req := httptest.NewRequest(http.MethodPost, "/v1/predict", strings.NewReader(`{"patient_id": "p1", "ici_class": "pd1", "pdl1_tps": 60}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)

	var answer struct {
		Predictions []struct {
			PatientID   string `json:"patient_id"`
			Predictions map[string]struct {
				Probability *float64 `json:"probability"`
				Model       string   `json:"model"`
				Version     string   `json:"version"`
				Synthetic   bool     `json:"trained_on_synthetic_data"`
			} `json:"predictions"`
		} `json:"predictions"`
	}
	json.Unmarshal(rec.Body.Bytes(), &answer)
	o := answer.Predictions[0].Predictions["objective_response"]
	fmt.Printf("%d %s: %s:%s, a probability %v, trained on synthetic data %v\n", rec.Code, answer.Predictions[0].PatientID, o.Model, o.Version, o.Probability != nil, o.Synthetic)
	// Output: 200 p1: response:v1, a probability true, trained on synthetic data true
}
