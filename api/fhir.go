package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/fhir"
)

// fhirMediaType is FHIR's JSON media type; application/json is taken too.
const fhirMediaType = "application/fhir+json"

// abortFHIR answers a /fhir request's error as an OperationOutcome.
func abortFHIR(c *gin.Context, status int, err error, message string) {
	c.Abort()
	body, _ := json.Marshal(fhir.OperationOutcomeOf(err, message))
	c.Data(status, fhirMediaType+"; charset=utf-8", body)
}

// contentTypeFHIR takes application/fhir+json or application/json.
func contentTypeFHIR(c *gin.Context) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || (mt != fhirMediaType && mt != "application/json") {
		abortFHIR(c, http.StatusUnsupportedMediaType, nil, "send the Bundle as "+fhirMediaType)
		return
	}
	c.Next()
}

// fhirPredict is POST /fhir/r4/$predict: a Bundle holding one patient's
// chart (docs/fhir.md), answered with a Bundle of RiskAssessments, one per
// served model: the same probabilities as /v1/predict gives the same
// patient sent as JSON. ?intervals=true adds the models' intervals.
func (s *Server) fhirPredict(c *gin.Context) {
	intervals, ok := wantIntervals(c)
	if !ok {
		return
	}
	chart, ok := fhirChart(c)
	if !ok {
		return
	}
	set := s.models()
	if len(set.byTarget) == 0 {
		abortFHIR(c, http.StatusServiceUnavailable, nil, "no model is loaded")
		return
	}
	c.Set(logModels, set.v1Models)
	pp := s.predictOne(set, &chart.Patient, true, intervals, false)
	algo := func(target string) string { return set.byTarget[target].Bundle.Algo }
	body, err := fhir.CollectionOf(anyOf(riskAssessments(chart, pp, algo, time.Now()))...)
	if err != nil {
		abortFHIR(c, http.StatusInternalServerError, nil, "the answer could not be written")
		return
	}
	c.Data(http.StatusOK, fhirMediaType+"; charset=utf-8", body)
}

// fhirCompareRegimens is POST /fhir/r4/$compare-regimens: a chart, as for
// $predict, answered with a Bundle of RiskAssessments, one per default
// regimen ordered by rank (by objective response, as
// /v1/regimens/compare ranks them), each with the regimen's probabilities
// of objective and abscopal response and of pneumonitis.
func (s *Server) fhirCompareRegimens(c *gin.Context) {
	chart, ok := fhirChart(c)
	if !ok {
		return
	}
	set := s.models()
	if _, ok := set.byTarget[data.ObjectiveResponse]; !ok {
		abortFHIR(c, http.StatusServiceUnavailable, nil, "no model of objective_response is loaded: regimens are ranked by it")
		return
	}
	c.Set(logModels, set.v1Models)
	ranked, e := s.rankRegimens(set, &chart.Patient, DefaultRegimens, data.ObjectiveResponse, false, false)
	if e != nil {
		abortFHIR(c, http.StatusUnprocessableEntity, nil, e.Message)
		return
	}
	now := time.Now()
	out := make([]any, len(ranked))
	for i, r := range ranked {
		a := fhir.Assessment{Subject: chart.Subject, Basis: chart.Basis, When: now, Target: data.ObjectiveResponse, Regimen: r.Regimen.Label, Rank: r.Rank}
		p := r.Predictions
		for _, tp := range []struct {
			target string
			tp     *targetPrediction
		}{{data.ObjectiveResponse, &p.ObjectiveResponse}, {data.AbscopalResponse, &p.AbscopalResponse}, {data.PneumonitisGrade, p.Pneumonitis}} {
			if tp.tp == nil || tp.tp.Probability == nil {
				continue
			}
			a.Model, a.Version, a.Synthetic = p.ObjectiveResponse.Model, p.ObjectiveResponse.Version, a.Synthetic || tp.tp.Synthetic
			a.Predictions = append(a.Predictions, fhir.Prediction{Target: tp.target, Probability: *tp.tp.Probability,
				Rationale: fmt.Sprintf("%s:%s", tp.tp.Model, tp.tp.Version)})
		}
		a.Algo = set.byTarget[data.ObjectiveResponse].Bundle.Algo
		out[i] = fhir.RiskAssessmentOf(a)
	}
	body, err := fhir.CollectionOf(out...)
	if err != nil {
		abortFHIR(c, http.StatusInternalServerError, nil, "the answer could not be written")
		return
	}
	c.Data(http.StatusOK, fhirMediaType+"; charset=utf-8", body)
}

// predictJSONOrFHIR is POST /v1/predict: a patient in JSON, or, sent as
// application/fhir+json, a FHIR chart (a Bundle, or Parameters holding it
// as "chart") read as $predict reads it, answered in /v1's JSON.
func (s *Server) predictJSONOrFHIR(c *gin.Context) {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != fhirMediaType {
		if checkContentTypeJSON(c) {
			s.predict(c)
		}
		return
	}
	intervals, ok := wantIntervals(c)
	if !ok {
		return
	}
	curve, ok := wantCurve(c)
	if !ok {
		return
	}
	raw, ok := readRaw(c)
	if !ok {
		return
	}
	chart, status, err := readChart(raw)
	if err != nil {
		abort(c, status, apiError{Code: codeInvalid, Message: "the FHIR chart: " + err.Error()})
		return
	}
	set, ok := s.requireModels(c)
	if !ok {
		return
	}
	c.Set(logModels, set.v1Models)
	c.PureJSON(http.StatusOK, struct {
		Predictions []patientPrediction `json:"predictions"`
	}{[]patientPrediction{s.predictOne(set, &chart.Patient, true, intervals, curve)}})
}

// fhirChart reads a /fhir request's chart, answering its error as an
// OperationOutcome.
func fhirChart(c *gin.Context) (*fhir.Chart, bool) {
	raw, ok := readRaw(c)
	if !ok {
		return nil, false
	}
	chart, status, err := readChart(raw)
	if err != nil {
		abortFHIR(c, status, err, "")
		return nil, false
	}
	return chart, true
}

// readChart reads a chart and validates its row against the cohort schema
// as /v1/predict validates JSON, naming the resource a bad value came
// from: 400 for what is not an R4 Bundle, 422 for what it says.
func readChart(raw []byte) (*fhir.Chart, int, error) {
	chart, err := fhir.PatientOf(raw)
	if err != nil {
		var fe *fhir.Error
		if errors.As(err, &fe) && fe.Code == "structure" {
			return nil, http.StatusBadRequest, err
		}
		return nil, http.StatusUnprocessableEntity, err
	}
	if errs := chart.Patient.Validate(); len(errs) > 0 {
		fe := errs[0]
		src := chart.Sources[fe.Field]
		if src == "" {
			src = "Bundle"
		}
		return nil, http.StatusUnprocessableEntity, &fhir.Error{Resource: src, Detail: fe.Error(), Code: "invalid"}
	}
	return chart, 0, nil
}

// riskAssessments writes a patient's predictions as RiskAssessments:
// the responses, the pneumonitis risk and the time-to-event models' event
// probabilities by each of their times, in that order.
// algo names the algorithm of the model that answers a target.
func riskAssessments(chart *fhir.Chart, pp patientPrediction, algo func(target string) string, when time.Time) []fhir.Assessment {
	base := fhir.Assessment{Subject: chart.Subject, Basis: chart.Basis, When: when}
	var out []fhir.Assessment
	add := func(target string, tp *targetPrediction) {
		if tp == nil || tp.Model == "" {
			return
		}
		a := base
		a.Target, a.Model, a.Version, a.Algo, a.Synthetic, a.Imputed = target, tp.Model, tp.Version, algo(target), tp.Synthetic, tp.Imputed
		if tp.Probability == nil {
			a.Undefined = tp.Reason
		} else {
			a.Predictions = []fhir.Prediction{{Probability: *tp.Probability, Interval: tp.Interval, Rationale: rationale(tp)}}
		}
		out = append(out, a)
	}
	p := pp.Predictions
	add(data.AbscopalResponse, &p.AbscopalResponse)
	add(data.ObjectiveResponse, &p.ObjectiveResponse)
	add(data.PneumonitisGrade, p.Pneumonitis)
	for _, sv := range []struct {
		target string
		sp     *survivalPrediction
	}{{targetOS, p.OverallSurvival}, {targetPFS, p.ProgressionFreeSurvival}} {
		if sv.sp == nil {
			continue
		}
		a := base
		a.Target, a.Model, a.Version, a.Algo, a.Synthetic, a.Imputed = sv.target, sv.sp.Model, sv.sp.Version, algo(sv.target), sv.sp.Synthetic, sv.sp.Imputed
		median := "median not reached over the follow-up"
		if sv.sp.MedianMonths != nil {
			median = fmt.Sprintf("predicted median %.1f months", *sv.sp.MedianMonths)
		}
		for _, at := range sv.sp.Survival {
			a.Predictions = append(a.Predictions, fhir.Prediction{Probability: 1 - at.Probability, Months: at.Months,
				Rationale: fmt.Sprintf("event-free at %g months: %.3f; %s", at.Months, at.Probability, median)})
		}
		out = append(out, a)
	}
	return out
}

// rationale names a prediction's largest contributions, in words.
func rationale(tp *targetPrediction) string {
	var parts []string
	for i, c := range tp.Contributions {
		if i == 3 {
			break
		}
		dir := "raises"
		if c.LogOdds < 0 {
			dir = "lowers"
		}
		parts = append(parts, fmt.Sprintf("%s %s it (%+.2f log-odds)", c.Feature, dir, c.LogOdds))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Largest contributions: " + strings.Join(parts, "; ") + "."
}

func anyOf(as []fhir.Assessment) []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = fhir.RiskAssessmentOf(a)
	}
	return out
}
