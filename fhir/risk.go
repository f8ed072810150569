package fhir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// Assessment is one model's answer for one patient, to be written as a
// RiskAssessment.
type Assessment struct {
	Subject string    // the patient's reference, "Patient/p1"
	Basis   []string  // the resources the inputs came from
	When    time.Time // the occurrence
	// Target is what the model predicts: abscopal_response,
	// objective_response, pneumonitis_grade, os or pfs.
	Target               string
	Model, Version, Algo string
	Synthetic            bool
	Predictions          []Prediction
	Imputed              []string // the inputs the model had to fill in
	// Undefined, when set, says why the outcome has no probability for
	// this patient (an abscopal response without radiotherapy).
	Undefined string
	// Regimen, for a comparison of regimens, names the course and Rank its
	// place (from 1).
	Regimen string
	Rank    int
}

// Prediction is one probability of an Assessment's outcome.
type Prediction struct {
	// Target, when set, is this prediction's outcome instead of the
	// Assessment's (a regimen's several outcomes in one RiskAssessment).
	Target      string
	Probability float64
	// Interval is the central 95% of the bootstrap models' probabilities,
	// when the model kept them.
	Interval *[2]float64
	// Months, for a time to an event, is the horizon: the event by then.
	Months float64
	// Rationale says more in words (a median, the largest contributions).
	Rationale string
}

// IntervalExtension is the URL of the extension that carries a
// prediction's 95% interval: R4's probability[x] holds a decimal or a
// range, not both.
const IntervalExtension = AbscopalExtension + "probability-interval-95"

// outcomeOf codes a target's outcome.
func outcomeOf(target string) Code {
	switch target {
	case "abscopal_response":
		return outcomeAbscopal
	case "objective_response":
		return outcomeObjective
	case "pneumonitis_grade":
		return outcomePneumonitis
	case "os":
		return outcomeDeath
	case "pfs":
		return outcomeProgression
	}
	return Code{Abscopal, target, target}
}

// RiskAssessmentOf writes an Assessment as a FHIR R4 RiskAssessment
// (status final): method names the model, its version and algorithm,
// basis the resources read, each prediction its coded outcome and
// probabilityDecimal (for a time to an event, the probability of the event
// by its horizon, whenRange 0 to that many months), and a note says what
// was imputed and, where so, that the model was trained on synthetic data.
func RiskAssessmentOf(a Assessment) r4.RiskAssessment {
	what := "abscopal prediction: " + outcomeOf(a.Target).Display
	if a.Regimen != "" {
		what = fmt.Sprintf("abscopal regimen comparison: %s (rank %d)", a.Regimen, a.Rank)
	}
	ra := r4.RiskAssessment{
		Status:             r4.ObservationStatusFinal,
		Subject:            r4.Reference{Reference: ptr(a.Subject)},
		OccurrenceDateTime: ptr(a.When.UTC().Format(time.RFC3339)),
		Code:               &r4.CodeableConcept{Text: ptr(what)},
		Method: &r4.CodeableConcept{
			Coding: []r4.Coding{{System: ptr(Abscopal), Code: ptr("model-" + a.Algo), Display: ptr("abscopal " + a.Algo + " model")}},
			Text:   ptr(fmt.Sprintf("abscopal model %s version %s (%s)", a.Model, a.Version, a.Algo)),
		},
	}
	for _, b := range a.Basis {
		ra.Basis = append(ra.Basis, r4.Reference{Reference: ptr(b)})
	}
	for _, p := range a.Predictions {
		target := a.Target
		if p.Target != "" {
			target = p.Target
		}
		rp := r4.RiskAssessmentPrediction{Outcome: concept(outcomeOf(target)), ProbabilityDecimal: number(p.Probability)}
		if p.Interval != nil {
			rp.Extension = []r4.Extension{{Url: IntervalExtension, ValueRange: &r4.Range{
				Low:  &r4.Quantity{Value: number(p.Interval[0])},
				High: &r4.Quantity{Value: number(p.Interval[1])},
			}}}
		}
		if p.Months > 0 {
			rp.WhenRange = &r4.Range{
				Low:  &r4.Quantity{Value: number(0), Unit: ptr("months"), System: ptr(UCUM), Code: ptr("mo")},
				High: &r4.Quantity{Value: number(p.Months), Unit: ptr("months"), System: ptr(UCUM), Code: ptr("mo")},
			}
		}
		if p.Rationale != "" {
			rp.Rationale = ptr(p.Rationale)
		}
		ra.Prediction = append(ra.Prediction, rp)
	}
	var notes []string
	if a.Regimen != "" {
		notes = append(notes, fmt.Sprintf("Regimen %q, ranked %d.", a.Regimen, a.Rank))
	}
	if a.Synthetic {
		notes = append(notes, "Trained on synthetic data: a demonstration, not for clinical use.")
	}
	if a.Undefined != "" {
		notes = append(notes, "No probability: "+a.Undefined+".")
	}
	if len(a.Imputed) > 0 {
		notes = append(notes, "Imputed (not in the chart): "+strings.Join(a.Imputed, ", ")+".")
	}
	for _, n := range notes {
		ra.Note = append(ra.Note, r4.Annotation{Text: n})
	}
	return ra
}

// Probability reads a prediction's probabilityDecimal back as a float64,
// the bits RiskAssessmentOf wrote.
func Probability(p r4.RiskAssessmentPrediction) (float64, bool) {
	if p.ProbabilityDecimal == nil {
		return 0, false
	}
	x, err := strconv.ParseFloat(string(*p.ProbabilityDecimal), 64)
	return x, err == nil
}

// CollectionOf is a Bundle (type collection) of resources, in order.
func CollectionOf(resources ...any) ([]byte, error) {
	b := r4.Bundle{Type: r4.BundleTypeCollection}
	for _, res := range resources {
		raw, err := json.Marshal(res)
		if err != nil {
			return nil, err
		}
		b.Entry = append(b.Entry, r4.BundleEntry{Resource: raw})
	}
	return json.Marshal(b)
}

// OperationOutcomeOf writes err as an OperationOutcome: an *Error as an
// issue naming its resource and element, anything else as one issue of
// type processing with message.
func OperationOutcomeOf(err error, message string) r4.OperationOutcome {
	issue := r4.OperationOutcomeIssue{Severity: r4.IssueSeverityError, Code: r4.IssueTypeProcessing, Diagnostics: ptr(message)}
	if e, ok := err.(*Error); ok {
		var t r4.IssueType
		if t.UnmarshalJSON([]byte(strconv.Quote(e.Code))) == nil {
			issue.Code = t
		}
		issue.Diagnostics = ptr(e.Error())
		where := e.Resource
		if i := strings.IndexByte(where, '/'); i > 0 && !strings.Contains(where, " ") {
			where = where[:i] // an expression names the type: Observation.valueQuantity
		}
		if e.Element != "" {
			issue.Expression = []string{where + "." + e.Element}
		} else {
			issue.Expression = []string{where}
		}
	}
	return r4.OperationOutcome{Issue: []r4.OperationOutcomeIssue{issue}}
}
