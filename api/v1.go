package api

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/radiobiology"
	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"
)

// notInputs are the Patient fields a caller may not send (outcomes and
// synthetic ground truth), listed once rather than per request.
var notInputs = func() []data.Field {
	var out []data.Field
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			out = append(out, f)
		}
	}
	return out
}()

// jsonKind names the JSON value a field takes, as a client writes it.
func jsonKind(f data.Field) string {
	switch {
	case f.Categorical():
		return "a string"
	case f.Kind == data.KindFloat:
		return "a number"
	case f.Kind == data.KindInt:
		return "a whole number"
	case f.Kind == data.KindBool:
		return "true or false"
	}
	return "a string"
}

// patientJSON is a patient as a client sends it, with patient_id apart so
// that an empty one is told from none.
type patientJSON struct {
	data.Patient
	ID *string `json:"patient_id"`
}

// patientWant says what a patient field takes, for errors.
func patientWant(name string) string {
	f, ok := data.CohortField(name)
	if !ok {
		return "a JSON value"
	}
	return jsonKind(f) + " (" + f.Allowed() + ")"
}

// decodePatient decodes and validates one patient. path prefixes field names
// in errors ("patients[2].").
func decodePatient(raw []byte, path string, index int) (*data.Patient, *apiError, int) {
	var pj patientJSON
	if err := decodeStrict(raw, &pj); err != nil {
		e, status := decodeProblem(err, path, patientWant, patientFields, "; GET /v1/schema lists the input fields")
		return nil, &e, status
	}
	p := pj.Patient
	// Outcomes and synthetic ground truth are Patient fields, but not inputs.
	for i := range notInputs {
		if f := &notInputs[i]; f.Get(&p).Valid {
			return nil, &apiError{Code: codeUnknownField, Message: f.Name + " is an outcome, not an input", Field: path + f.Name}, http.StatusUnprocessableEntity
		}
	}
	switch {
	case pj.ID == nil:
		p.PatientID = fmt.Sprintf("patient-%d", index+1)
	case *pj.ID == "":
		return nil, &apiError{Code: codeInvalid, Message: "patient_id must be a non-empty string; leave it out to have one assigned", Field: path + "patient_id"}, http.StatusUnprocessableEntity
	default:
		p.PatientID = *pj.ID
	}
	if errs := p.Validate(); len(errs) > 0 {
		return nil, &apiError{Code: codeInvalid, Message: errs[0].Error(), Field: path + errs[0].Field}, http.StatusUnprocessableEntity
	}
	return &p, nil, 0
}

// batchJSON is a batch of patients as a client sends it.
type batchJSON struct {
	Patients []jsontext.Value `json:"patients"`
}

// decodePatients reads {"patients": [...]}, or one patient object, from a
// body that is one JSON object (checkObject).
func (s *Server) decodePatients(c *gin.Context, raw []byte) ([]*data.Patient, bool) {
	if !hasMember(raw, "patients") {
		p, e, status := decodePatient(raw, "", 0)
		if e != nil {
			abort(c, status, *e)
			return nil, false
		}
		return []*data.Patient{p}, true
	}
	var batch batchJSON
	if err := decodeStrict(raw, &batch); err != nil {
		e, status := decodeProblem(err, "", func(string) string { return "an array of patients" }, []string{"patients"}, "; a batch has only the key patients")
		abort(c, status, e)
		return nil, false
	}
	if len(batch.Patients) == 0 || len(batch.Patients) > s.cfg.MaxBatch {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: fmt.Sprintf("a batch holds 1 to %d patients, got %d", s.cfg.MaxBatch, len(batch.Patients)), Field: "patients"})
		return nil, false
	}
	out := make([]*data.Patient, len(batch.Patients))
	for i, raw := range batch.Patients {
		p, e, status := decodePatient(raw, fmt.Sprintf("patients[%d].", i), i)
		if e != nil {
			abort(c, status, *e)
			return nil, false
		}
		out[i] = p
	}
	return out, true
}

// targetPrediction is one target's answer for one patient.
type targetPrediction struct {
	Probability *float64 `json:"probability"`
	// Outcome says from which grade pneumonitis counts ("pneumonitis_grade
	// >= 2"); the responses' keys say all.
	Outcome string `json:"outcome,omitempty"`
	// Interval is, when asked for (?intervals=true) and the model kept its
	// bootstrap models, the central 95% of their probabilities.
	Interval *[2]float64 `json:"interval_95,omitempty"`
	Model    string      `json:"model,omitempty"`
	Version  string      `json:"version,omitempty"`
	// Synthetic marks an answer of a model trained (or recalibrated) on
	// synthetic data, the demo's, on the answer itself: a client that
	// shows the probability can tell it is not for clinical use without
	// asking /v1/models.
	Synthetic     bool           `json:"trained_on_synthetic_data,omitempty"`
	Reason        string         `json:"reason,omitempty"`
	Contributions []contribution `json:"contributions,omitempty"`
	Imputed       []string       `json:"imputed,omitempty"`
	Unseen        []unseen       `json:"unseen_categories,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
}

type contribution struct {
	Feature string  `json:"feature"`
	LogOdds float64 `json:"log_odds"`
}

type unseen struct {
	Feature string `json:"feature"`
	Value   string `json:"value"`
}

// notesOf says what a prediction's pipeline noted, as /v1 answers it: the
// features imputed, the levels never seen in training, and a warning per
// value outside the training range. They are copies: n aliases a scratch.
func notesOf(n *features.Notes) (imputed []string, unseenLevels []unseen, warnings []string) {
	imputed = append([]string{}, n.Imputed...)
	for _, u := range n.Unseen {
		unseenLevels = append(unseenLevels, unseen{u.Feature, u.Value})
	}
	for _, o := range n.OutOfRange {
		warnings = append(warnings, fmt.Sprintf("%s = %g is outside the training range [%g, %g]", o.Feature, o.Value, o.Min, o.Max))
	}
	return imputed, unseenLevels, warnings
}

// topContributions is how many contributions ("why") a prediction lists.
const topContributions = 5

// predictTarget predicts target for p with set's model for it. observe
// counts the prediction in the model's metrics: a patient's, not one of the
// hypothetical regimens of a comparison, which would count a patient many
// times and skew the inputs' drift figures with doses nobody received.
// intervals adds the bootstrap models' central 95%, where the model kept
// them (a warning says when it did not).
func (s *Server) predictTarget(set *modelSet, target string, p *data.Patient, observe, intervals bool) targetPrediction {
	m, ok := set.byTarget[target]
	if !ok {
		return targetPrediction{Reason: "no model in the registry predicts " + target}
	}
	tp := targetPrediction{Model: m.Bundle.Name, Version: m.Version, Synthetic: m.Bundle.Synthetic()}
	if target == data.PneumonitisGrade {
		tp.Outcome = m.Bundle.Outcome()
	}
	if tp.Reason = p.Undefined(target); tp.Reason != "" {
		return tp
	}
	sc := s.scratch.Get().(*models.Scratch)
	defer s.scratch.Put(sc)
	pr := m.PredictWith(features.PatientRecord{P: p}, sc) // used before sc goes back
	prob := pr.Probability
	tp.Probability = &prob
	tp.Contributions = aggregate(set.groups[m], pr.Contributions)
	tp.Imputed, tp.Unseen, tp.Warnings = notesOf(&pr.Notes)
	if observe {
		set.monitors[m].observe(prob, &pr.Notes)
	}
	if intervals {
		// Interval has space of its own in the scratch: pr stays valid.
		if lo, hi, ok := m.Interval(features.PatientRecord{P: p}, sc); ok {
			tp.Interval = &[2]float64{lo, hi}
		} else {
			tp.Warnings = append(tp.Warnings, fmt.Sprintf("no interval: %s:%s kept no bootstrap models (train --instability 200 --intervals)", m.Bundle.Name, m.Version))
		}
	}
	return tp
}

// aggregate sums the contributions of a feature's outputs (its levels and
// missing indicator) and keeps the largest by magnitude.
func aggregate(g *outputGroups, contrib []float64) []contribution {
	sums := make([]float64, len(g.names))
	for j, c := range contrib {
		sums[g.feature[j]] += c
	}
	out := make([]contribution, 0, topContributions+1)
	for k, v := range sums {
		if v == 0 {
			continue
		}
		// Insertion into a short sorted list: cheaper than sorting all.
		i := len(out)
		for i > 0 && math.Abs(out[i-1].LogOdds) < math.Abs(v) {
			i--
		}
		if i >= topContributions {
			continue
		}
		out = append(out, contribution{})
		copy(out[i+1:], out[i:])
		out[i] = contribution{g.names[k], math.Round(v*1e6) / 1e6}
		if len(out) > topContributions {
			out = out[:topContributions]
		}
	}
	return out
}

type patientPrediction struct {
	PatientID   string      `json:"patient_id"`
	Predictions predictions `json:"predictions"`
}

// predictions holds one answer per v1 target (a struct, not a map: it is
// encoded on every request). Pneumonitis is there when a model of it is
// served, so that clients of a registry without one see what they saw.
type predictions struct {
	AbscopalResponse  targetPrediction  `json:"abscopal_response"`
	ObjectiveResponse targetPrediction  `json:"objective_response"`
	Pneumonitis       *targetPrediction `json:"pneumonitis,omitempty"`
	// The time-to-event models', when served.
	OverallSurvival         *survivalPrediction `json:"overall_survival,omitempty"`
	ProgressionFreeSurvival *survivalPrediction `json:"progression_free_survival,omitempty"`
}

// survivalPrediction is a time-to-event model's answer for one patient.
type survivalPrediction struct {
	// MedianMonths is the predicted median time to the event; null when the
	// predicted curve stays above one half over the follow-up (then
	// MedianNote says so).
	MedianMonths *float64 `json:"median_months"`
	MedianNote   string   `json:"median_note,omitempty"`
	// MedianInterval is, when asked for (?intervals=true) and the model
	// kept its bootstrap models, the central 95% of their medians; a null
	// bound is a median not reached.
	MedianInterval *[2]*float64 `json:"median_interval_95,omitempty"`
	// Survival is the probability of being event-free at the model's
	// times (6, 12 and 24 months).
	Survival []survivalAt `json:"survival"`
	// Curve is, when asked for (?curve=true), the survival month by month.
	Curve         []survivalAt         `json:"curve,omitempty"`
	Model         string               `json:"model"`
	Version       string               `json:"version"`
	Synthetic     bool                 `json:"trained_on_synthetic_data,omitempty"`
	Contributions []hazardContribution `json:"contributions,omitempty"`
	Imputed       []string             `json:"imputed,omitempty"`
	Unseen        []unseen             `json:"unseen_categories,omitempty"`
	Warnings      []string             `json:"warnings,omitempty"`
}

type survivalAt struct {
	Months      float64 `json:"months"`
	Probability float64 `json:"probability"`
}

// hazardContribution is a feature's contribution to a time-to-event
// model's log hazard ratio: positive, the event sooner.
type hazardContribution struct {
	Feature        string  `json:"feature"`
	LogHazardRatio float64 `json:"log_hazard_ratio"`
}

// predictSurvival answers a time-to-event target for p, or nil when no
// model of it is served.
func (s *Server) predictSurvival(set *modelSet, target string, p *data.Patient, curve, intervals bool) *survivalPrediction {
	m, ok := set.byTarget[target]
	if !ok {
		return nil
	}
	sc := s.scratch.Get().(*models.Scratch)
	defer s.scratch.Put(sc)
	times := m.Bundle.SurvivalTimes()
	asked := times
	if curve {
		asked = append(append([]float64{}, times...), m.Bundle.CurveTimes()...)
	}
	pr := m.PredictSurvival(features.PatientRecord{P: p}, asked, sc)
	sp := &survivalPrediction{Model: m.Bundle.Name, Version: m.Version, Synthetic: m.Bundle.Synthetic()}
	if pr.HasMedian {
		med := pr.Median
		sp.MedianMonths = &med
	} else {
		sp.MedianNote = fmt.Sprintf("the predicted curve stays above one half over the follow-up (to %g months)", m.Survival.Times[len(m.Survival.Times)-1])
	}
	for k, t := range asked {
		at := survivalAt{Months: t, Probability: pr.Survival[k]}
		if k < len(times) {
			sp.Survival = append(sp.Survival, at)
		} else {
			sp.Curve = append(sp.Curve, at)
		}
	}
	for _, c := range aggregate(set.groups[m], pr.Contributions) {
		sp.Contributions = append(sp.Contributions, hazardContribution{c.Feature, c.LogOdds})
	}
	sp.Imputed, sp.Unseen, sp.Warnings = notesOf(&pr.Notes)
	if intervals {
		// MedianInterval has space of its own in the scratch: pr stays valid.
		if lo, hi, ok := m.MedianInterval(features.PatientRecord{P: p}, sc); ok {
			sp.MedianInterval = &[2]*float64{finite(lo), finite(hi)}
		} else {
			sp.Warnings = append(sp.Warnings, fmt.Sprintf("no interval: %s:%s kept no bootstrap models (train --instability 200 --intervals)", m.Bundle.Name, m.Version))
		}
	}
	return sp
}

// finite is &x, or nil when x is infinite (a median not reached).
func finite(x float64) *float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return &x
}

func (p *predictions) get(target string) targetPrediction {
	if target == data.AbscopalResponse {
		return p.AbscopalResponse
	}
	return p.ObjectiveResponse
}

func (s *Server) predictOne(set *modelSet, p *data.Patient, observe, intervals, curve bool) patientPrediction {
	pp := patientPrediction{PatientID: p.PatientID, Predictions: predictions{
		AbscopalResponse:        s.predictTarget(set, data.AbscopalResponse, p, observe, intervals),
		ObjectiveResponse:       s.predictTarget(set, data.ObjectiveResponse, p, observe, intervals),
		OverallSurvival:         s.predictSurvival(set, targetOS, p, curve, intervals),
		ProgressionFreeSurvival: s.predictSurvival(set, targetPFS, p, curve, intervals),
	}}
	if _, ok := set.byTarget[data.PneumonitisGrade]; ok {
		tp := s.predictTarget(set, data.PneumonitisGrade, p, observe, intervals)
		pp.Predictions.Pneumonitis = &tp
	}
	return pp
}

func (s *Server) requireModels(c *gin.Context) (*modelSet, bool) {
	set := s.models()
	if len(set.byTarget) == 0 {
		abort(c, http.StatusServiceUnavailable, apiError{Code: codeUnavailable, Message: "no model is loaded for abscopal_response, objective_response or pneumonitis_grade"})
		return nil, false
	}
	return set, true
}

// maxIntervalPatients is the most patients a predict request may ask
// intervals for: each costs a prediction per bootstrap model per target
// (about 0.5 ms with 200 logistic ones), and a full batch would hold the
// server for seconds.
const maxIntervalPatients = 100

// wantIntervals reads the query's intervals=true; a value that is not a
// boolean is a 422 naming it.
func wantIntervals(c *gin.Context) (want, ok bool) {
	v, given := c.GetQuery("intervals")
	if !given {
		return false, true
	}
	want, err := strconv.ParseBool(v)
	if err != nil {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: fmt.Sprintf("intervals is true or false, got %q", v), Field: "intervals"})
		return false, false
	}
	return want, true
}

// wantCurve reads the query's curve=true: each time-to-event model's
// survival month by month.
func wantCurve(c *gin.Context) (want, ok bool) {
	v, given := c.GetQuery("curve")
	if !given {
		return false, true
	}
	want, err := strconv.ParseBool(v)
	if err != nil {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: fmt.Sprintf("curve is true or false, got %q", v), Field: "curve"})
		return false, false
	}
	return want, true
}

func (s *Server) predict(c *gin.Context) {
	intervals, ok := wantIntervals(c)
	if !ok {
		return
	}
	curve, ok := wantCurve(c)
	if !ok {
		return
	}
	raw, ok := readRaw(c)
	if !ok || !checkObject(c, raw) {
		return
	}
	patients, ok := s.decodePatients(c, raw)
	if !ok {
		return
	}
	if intervals && len(patients) > maxIntervalPatients {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid,
			Message: fmt.Sprintf("intervals for at most %d patients a request, got %d: each costs a prediction per bootstrap model", maxIntervalPatients, len(patients)), Field: "intervals"})
		return
	}
	set, ok := s.requireModels(c)
	if !ok {
		return
	}
	c.Set(logModels, set.v1Models)
	out := make([]patientPrediction, len(patients))
	for i, p := range patients {
		out[i] = s.predictOne(set, p, true, intervals, curve)
	}
	c.PureJSON(http.StatusOK, struct {
		Predictions []patientPrediction `json:"predictions"`
	}{out})
}

// rankRegimens predicts each regimen for the patient base and ranks them
// by rankBy, best first; a regimen that does not apply to base is an
// error naming it.
func (s *Server) rankRegimens(set *modelSet, base *data.Patient, regimens []Regimen, rankBy string, intervals, curve bool) ([]regimenResult, *apiError) {
	results := make([]regimenResult, len(regimens))
	for i, r := range regimens {
		p, field, msg := applyRegimen(*base, r)
		if p == nil {
			return nil, &apiError{Code: codeInvalid, Message: msg, Field: fmt.Sprintf("regimens[%d].%s", i, field)}
		}
		if r.Label == "" {
			r.Label = regimenLabel(r)
		}
		results[i] = regimenResult{Regimen: r, BED10Gy: radiobiology.BED(r.DoseGy, r.Fractions, radiobiology.TumourAlphaBetaGy), EQD2Gy: radiobiology.EQD2(r.DoseGy, r.Fractions, radiobiology.TumourAlphaBetaGy),
			Predictions: s.predictOne(set, p, false, intervals, curve).Predictions}
	}
	sort.SliceStable(results, func(a, b int) bool { return better(results[a].Predictions, results[b].Predictions, rankBy) })
	for i := range results {
		results[i].Rank = i + 1
	}
	return results, nil
}

// Regimen is a candidate course of radiotherapy.
type Regimen struct {
	Label     string  `json:"label,omitempty"`
	DoseGy    float64 `json:"dose_gy"`
	Fractions int     `json:"fractions"`
	Site      string  `json:"site,omitempty"`
	Nodal     *bool   `json:"nodal,omitempty"`
	Sequence  string  `json:"sequence,omitempty"`
	// The plan's mean organ doses, for a regimen already planned. Without
	// them they are imputed (and the patient's own are not used: they
	// belong to another plan), which understates what a large conventional
	// field adds to the lymphocyte loss (EDIC, from all three) and to
	// pneumonitis.
	MeanLungDoseGy  *float64 `json:"mean_lung_dose_gy,omitempty"`
	MeanHeartDoseGy *float64 `json:"mean_heart_dose_gy,omitempty"`
	MeanBodyDoseGy  *float64 `json:"mean_body_dose_gy,omitempty"`
}

// DefaultRegimens are compared when a request names none.
var DefaultRegimens = []Regimen{
	{Label: "ICI alone"}, {Label: "8 Gy x 3", DoseGy: 24, Fractions: 3}, {Label: "12.5 Gy x 4", DoseGy: 50, Fractions: 4},
	{Label: "10 Gy x 5", DoseGy: 50, Fractions: 5}, {Label: "20 Gy x 1", DoseGy: 20, Fractions: 1},
	{Label: "45 Gy / 15", DoseGy: 45, Fractions: 15}, {Label: "60 Gy / 30", DoseGy: 60, Fractions: 30},
}

type regimenResult struct {
	Rank        int         `json:"rank"`
	Regimen     Regimen     `json:"regimen"`
	BED10Gy     float64     `json:"bed10_gy"`
	EQD2Gy      float64     `json:"eqd2_10_gy"`
	Predictions predictions `json:"predictions"`
}

func (s *Server) compareRegimens(c *gin.Context) {
	intervals, ok := wantIntervals(c)
	if !ok {
		return
	}
	curve, ok := wantCurve(c)
	if !ok {
		return
	}
	raw, ok := readRaw(c)
	if !ok || !checkObject(c, raw) {
		return
	}
	var req comparisonJSON
	if err := decodeStrict(raw, &req); err != nil {
		want := func(f string) string {
			return map[string]string{"patient": "a JSON object", "regimens": "a JSON array of regimens", "rank_by": rankByAllowed}[f]
		}
		e, status := decodeProblem(err, "", want, []string{"patient", "regimens", "rank_by"}, " (patient, regimens, rank_by)")
		abort(c, status, e)
		return
	}
	if isNull(req.Patient) {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: "patient is required", Field: "patient"})
		return
	}
	rankBy := data.ObjectiveResponse
	if req.RankBy != nil {
		switch rankBy = *req.RankBy; rankBy {
		case data.ObjectiveResponse, data.AbscopalResponse:
		case targetOS, targetPFS: // checked served below, with the models
		default:
			abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: "rank_by is " + rankByAllowed, Field: "rank_by"})
			return
		}
	}
	regimens := DefaultRegimens
	if !isNull(req.Regimens) {
		var e *apiError
		if regimens, e = decodeRegimens(req.Regimens); e != nil {
			abort(c, http.StatusUnprocessableEntity, *e)
			return
		}
		if len(regimens) == 0 || len(regimens) > 50 {
			abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: fmt.Sprintf("1 to 50 regimens, got %d", len(regimens)), Field: "regimens"})
			return
		}
	}
	base, e, status := decodePatient(req.Patient, "patient.", 0)
	if e != nil {
		abort(c, status, *e)
		return
	}
	set, ok := s.requireModels(c)
	if !ok {
		return
	}
	if _, served := set.byTarget[rankBy]; !served && (rankBy == targetOS || rankBy == targetPFS) {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: "rank_by " + rankBy + ": no time-to-event model of it is served", Field: "rank_by"})
		return
	}
	c.Set(logModels, set.v1Models)
	results, e := s.rankRegimens(set, base, regimens, rankBy, intervals, curve)
	if e != nil {
		abort(c, http.StatusUnprocessableEntity, *e)
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"patient_id": base.PatientID, "rank_by": rankBy, "regimens": results,
		"note": "the lymphocyte nadir of a hypothetical regimen is unknown and imputed, and so are its mean organ doses unless it gives them"})
}

// rankByAllowed says what a regimen comparison ranks by.
const rankByAllowed = "objective_response, abscopal_response, os or pfs (the longer median, with a time-to-event model of it)"

// better reports whether a's answer ranks before b's by rankBy: a higher
// probability of a response (an undefined one last: no RT for an abscopal
// ranking), or for os and pfs a longer predicted median, a curve that stays
// above one half before any with a median, such curves by their survival at
// the last time.
func better(a, b predictions, rankBy string) bool {
	switch rankBy {
	case targetOS, targetPFS:
		sa, sb := a.ProgressionFreeSurvival, b.ProgressionFreeSurvival
		if rankBy == targetOS {
			sa, sb = a.OverallSurvival, b.OverallSurvival
		}
		switch {
		case sa.MedianMonths == nil && sb.MedianMonths == nil:
			return sa.Survival[len(sa.Survival)-1].Probability > sb.Survival[len(sb.Survival)-1].Probability
		case sa.MedianMonths == nil || sb.MedianMonths == nil:
			return sa.MedianMonths == nil
		}
		return *sa.MedianMonths > *sb.MedianMonths
	}
	prob := func(p predictions) float64 {
		if v := p.get(rankBy).Probability; v != nil {
			return *v
		}
		return -1
	}
	return prob(a) > prob(b)
}

// applyRegimen replaces the patient's course of RT. A site, nodal field or
// sequence the regimen leaves out is the patient's own, else lung, not
// nodal, and RT before ICI.
func applyRegimen(p data.Patient, r Regimen) (patient *data.Patient, field, message string) {
	site, seq := "lung", data.SeqRTBeforeICI
	nodal := false
	if p.RTSite != nil {
		site = *p.RTSite
	}
	if p.RTICISequence != nil {
		seq = *p.RTICISequence
	}
	if p.RTNodal != nil {
		nodal = *p.RTNodal
	}
	if r.Site != "" {
		site = r.Site
	}
	if r.Sequence != "" {
		seq = r.Sequence
	}
	if r.Nodal != nil {
		nodal = *r.Nodal
	}
	dose, n := r.DoseGy, r.Fractions
	p.RTDoseGy, p.MeanLungDoseGy, p.MeanHeartDoseGy, p.MeanBodyDoseGy, p.ALCNadir = &dose, r.MeanLungDoseGy, r.MeanHeartDoseGy, r.MeanBodyDoseGy, nil
	if dose == 0 {
		for _, d := range []struct {
			name string
			v    *float64
		}{{"mean_lung_dose_gy", r.MeanLungDoseGy}, {"mean_heart_dose_gy", r.MeanHeartDoseGy}, {"mean_body_dose_gy", r.MeanBodyDoseGy}} {
			if d.v != nil {
				return nil, d.name, d.name + ": a plan's mean organ dose needs radiotherapy, and dose_gy is 0"
			}
		}
	}
	if dose > 0 || n > 0 {
		p.RTFractions, p.RTSite, p.RTNodal, p.RTICISequence = &n, &site, &nodal, &seq
	} else {
		p.RTFractions, p.RTSite, p.RTNodal, p.RTICISequence = nil, nil, nil, nil
	}
	if errs := p.Validate(); len(errs) > 0 {
		// Name the regimen's field, as the client wrote it, not the patient's.
		names := map[string]string{"rt_dose_gy": "dose_gy", "rt_fractions": "fractions", "rt_site": "site", "rt_ici_sequence": "sequence", "rt_nodal": "nodal"}
		fe := *errs[0]
		if name, ok := names[fe.Field]; ok {
			fe.Field = name
		}
		return nil, fe.Field, fe.Error()
	}
	return &p, "", ""
}

// comparisonJSON is a regimen comparison as a client sends it. A null
// patient or regimens is as good as none.
type comparisonJSON struct {
	Patient  jsontext.Value `json:"patient"`
	Regimens jsontext.Value `json:"regimens"`
	RankBy   *string        `json:"rank_by"`
}

// isNull reports whether v is absent or null.
func isNull(v jsontext.Value) bool { return len(v) == 0 || v.Kind() == 'n' }

// regimenFields are the fields of a Regimen, for errors.
var regimenFields = []string{"dose_gy", "fractions", "site", "nodal", "sequence", "mean_lung_dose_gy", "mean_heart_dose_gy", "mean_body_dose_gy", "label"}

// regimenWant says what a regimen field takes, in the client's terms.
func regimenWant(field string) string {
	if w, ok := map[string]string{"dose_gy": "a number (Gy)", "fractions": "a whole number", "nodal": "true or false",
		"mean_lung_dose_gy": "a number (Gy)", "mean_heart_dose_gy": "a number (Gy)", "mean_body_dose_gy": "a number (Gy)"}[field]; ok {
		return w
	}
	return "a string"
}

// decodeRegimens reads the regimens of a comparison one by one, so that an
// error names the regimen and its field in the client's terms.
func decodeRegimens(raw jsontext.Value) ([]Regimen, *apiError) {
	var raws []jsontext.Value
	if raw.Kind() != '[' || decodeStrict(raw, &raws) != nil {
		return nil, &apiError{Code: codeInvalid, Message: "regimens must be a JSON array of regimens", Field: "regimens"}
	}
	out := make([]Regimen, len(raws))
	for i, r := range raws {
		if err := decodeStrict(r, &out[i]); err != nil {
			e, _ := decodeProblem(err, fmt.Sprintf("regimens[%d].", i), regimenWant, regimenFields, " ("+strings.Join(regimenFields, ", ")+")")
			return nil, &e
		}
	}
	return out, nil
}

func regimenLabel(r Regimen) string {
	switch {
	case r.DoseGy == 0:
		return "ICI alone"
	case r.Fractions == 1:
		return fmt.Sprintf("%g Gy x 1", r.DoseGy)
	}
	return fmt.Sprintf("%g Gy / %d", r.DoseGy, r.Fractions)
}

type modelInfo struct {
	Name      string          `json:"name"`
	Version   string          `json:"version"`
	Target    string          `json:"target"`
	Outcome   string          `json:"outcome"` // "pneumonitis_grade >= 2": what the probability is of
	Algo      string          `json:"algo"`
	Serves    bool            `json:"serves_v1_target"`
	Synthetic bool            `json:"trained_on_synthetic_data"`
	Rows      int             `json:"training_rows"`
	Metrics   json.RawMessage `json:"metrics"`
	// Recalibrated is where the calibration came from, for a version made
	// by "abscopal models recalibrate".
	Recalibrated *models.Recalibration `json:"recalibrated,omitempty"`
	// Aliases point at this version (production, staging), with since when.
	Aliases []modelAlias `json:"aliases,omitempty"`
	// BootstrapModels counts the bootstrap models the version kept: with
	// some, ?intervals=true gives its probabilities intervals.
	BootstrapModels int `json:"bootstrap_models,omitempty"`
}

func info(set *modelSet, m *models.Model) modelInfo {
	return modelInfo{Name: m.Bundle.Name, Version: m.Version, Target: m.Bundle.Target, Outcome: m.Bundle.Outcome(), Algo: m.Bundle.Algo,
		Serves: set.byTarget[m.Bundle.Target] == m, Synthetic: m.Bundle.Synthetic(), Rows: m.Bundle.Training.Rows, Metrics: m.Bundle.Metrics,
		Recalibrated: m.Bundle.Recalibrated, Aliases: set.aliases[m], BootstrapModels: len(m.Bootstrap)}
}

func (s *Server) listModels(c *gin.Context) {
	set := s.models()
	out := []modelInfo{}
	for _, m := range set.sorted() {
		out = append(out, info(set, m))
	}
	c.PureJSON(http.StatusOK, gin.H{"models": out, "v1": set.v1, "problems": set.sortedProblems()})
}

// namedModel is the served model the request's path names, or nil after
// answering 404.
func (s *Server) namedModel(c *gin.Context) (*modelSet, *models.Model) {
	set := s.models()
	m, ok := set.byName[c.Param("name")]
	if !ok {
		notFound(c, "model "+c.Param("name"))
		return nil, nil
	}
	return set, m
}

func (s *Server) showModel(c *gin.Context) {
	set, m := s.namedModel(c)
	if m == nil {
		return
	}
	card, _ := set.docs[m].get("card.md")
	c.PureJSON(http.StatusOK, gin.H{"model": info(set, m), "training": m.Bundle.Training, "inputs": m.Bundle.Pipeline.Outputs, "card": string(card)})
}

// modelFile serves a model's card (Markdown) or one of its plots (SVG), so
// that a client renders the card with the images its relative links name.
func (s *Server) modelFile(c *gin.Context) {
	set, m := s.namedModel(c)
	if m == nil {
		return
	}
	name := c.Param("file")
	b, ok := set.docs[m].get(name)
	if !ok {
		notFound(c, fmt.Sprintf("file %s of model %s (its card.md, card.html and plots are served)", name, m.Bundle.Name))
		return
	}
	switch name {
	case "card.md":
		c.Data(http.StatusOK, "text/markdown; charset=utf-8", b)
		return
	case "card.html":
		// The page's images are data URIs and its style inline; nothing
		// else may load or run, should a card's text ever carry markup.
		c.Header("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'")
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
		return
	}
	// The plots are gonum/plot's, without scripts; the policy keeps it so
	// should one be opened in a browser.
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "image/svg+xml", b)
}

func (s *Server) schema(c *gin.Context) {
	var out []data.FieldInfo
	for _, f := range data.CohortFields() {
		if !f.Outcome && !f.Synthetic {
			out = append(out, f.Info())
		}
	}
	c.PureJSON(http.StatusOK, gin.H{"fields": out})
}
