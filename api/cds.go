package api

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/abscopal/abscopal/cdshooks"
	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/fhir"
)

// CDS Hooks services (docs/fhir.md): one on patient-view, one on
// order-select (a checkpoint inhibitor or a radiotherapy course being
// ordered), both answering one card.
const (
	cdsPatientView = "abscopal-radioimmunotherapy"
	cdsOrderSelect = "abscopal-radioimmunotherapy-order"
)

// cdsServices is the discovery document.
func cdsServices() cdshooks.Discovery {
	prefetch := fhir.PrefetchTemplates()
	return cdshooks.Discovery{Services: []cdshooks.Service{
		{Hook: cdshooks.PatientView, ID: cdsPatientView, Title: "Radioimmunotherapy response (abscopal)",
			Description:       "Predicted objective and abscopal response, pneumonitis risk and survival of a patient with NSCLC on an immune checkpoint inhibitor, with or without radiotherapy, and the candidate radiotherapy regimens ranked.",
			Prefetch:          prefetch,
			UsageRequirements: "The patient's chart in FHIR R4 as docs/fhir.md maps it; a checkpoint inhibitor given or ordered."},
		{Hook: cdshooks.OrderSelect, ID: cdsOrderSelect, Title: "Radioimmunotherapy regimens (abscopal)",
			Description:       "When a checkpoint inhibitor or a radiotherapy course is being ordered: the patient's predicted response under each candidate radiotherapy regimen, ranked, with the pneumonitis risk.",
			Prefetch:          prefetch,
			UsageRequirements: "As the patient-view service; a draft MedicationRequest of a checkpoint inhibitor counts as given."},
	}}
}

// cdsDiscovery is GET /cds-services. It holds no patient data and answers
// without a token: an EHR's administrator reads it to register the
// services.
func (s *Server) cdsDiscovery(c *gin.Context) {
	c.PureJSON(http.StatusOK, cdsServices())
}

// cdsAuth checks a call of a CDS service: with trusted issuers
// (Config.CDSIssuers), the EHR's JSON Web Token as CDS Hooks says; without
// them, the bearer tokens and client certificates of /v1.
func (s *Server) cdsAuth(c *gin.Context) {
	if s.cds == nil {
		s.auth(c)
		return
	}
	token, _ := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
	claims, err := s.cds.Verify(c.Request.Context(), token, s.publicURL(c)+c.Request.URL.Path)
	if err != nil {
		c.Header("WWW-Authenticate", `Bearer realm="abscopal cds-services"`)
		s.refuse(c, err.Error())
		return
	}
	c.Set(logClient, claims.Issuer)
	s.metrics.clients.WithLabelValues(claims.Issuer).Inc()
	c.Next()
}

// publicURL is the base URL the server is called by: Config.PublicURL, or
// the request's scheme and host.
func (s *Server) publicURL(c *gin.Context) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}

// cdsService is POST /cds-services/{id}: the patient's chart gathered from
// the prefetch or the EHR's FHIR server, predicted as /v1/predict does,
// and answered with one card.
func (s *Server) cdsService(c *gin.Context) {
	id := c.Param("id")
	var hook string
	for _, sv := range cdsServices().Services {
		if sv.ID == id {
			hook = sv.Hook
		}
	}
	if hook == "" {
		notFound(c, "CDS service "+id)
		return
	}
	raw, ok := readRaw(c)
	if !ok || !checkObject(c, raw) {
		return
	}
	var req cdshooks.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "not a CDS Hooks request: " + jsonTypeProblem(err)})
		return
	}
	switch {
	case req.Hook != hook:
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("hook %q: service %s answers %s", req.Hook, id, hook), Field: "hook"})
		return
	case req.HookInstance == "":
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "hookInstance is required", Field: "hookInstance"})
		return
	case req.Context.PatientID == "":
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "context.patientId is required", Field: "context.patientId"})
		return
	}
	fetcher := cdshooks.Fetcher{Client: s.cfg.FHIRClient, AllowHTTP: s.cfg.CDSAllowHTTP, Servers: s.cfg.CDSFHIRServers}
	bundle, err := fetcher.Chart(c.Request.Context(), &req, fhir.PrefetchTemplates())
	switch {
	case errors.Is(err, cdshooks.ErrPrecondition):
		abort(c, http.StatusPreconditionFailed, apiError{Code: codePrecondition, Message: err.Error()})
		return
	case err != nil:
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: err.Error()})
		return
	}
	chart, status, err := readChart(bundle)
	if err != nil {
		abort(c, status, apiError{Code: codeInvalid, Message: "the patient's chart: " + err.Error()})
		return
	}
	if chart.Patient.PatientID != req.Context.PatientID {
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "the prefetched Patient is not context.patientId", Field: "prefetch.patient"})
		return
	}
	set, ok := s.requireModels(c)
	if !ok {
		return
	}
	c.Set(logModels, set.v1Models)
	pp := s.predictOne(set, &chart.Patient, true, true, false)
	var ranked []regimenResult
	if _, served := set.byTarget[data.ObjectiveResponse]; served {
		ranked, _ = s.rankRegimens(set, &chart.Patient, DefaultRegimens, data.ObjectiveResponse, false, false)
	}
	card := s.card(c, hook, pp, ranked)
	s.metrics.cdsCards.WithLabelValues(id, card.Indicator).Inc()
	c.PureJSON(http.StatusOK, cdshooks.Response{Cards: []cdshooks.Card{card}})
}

// keyInputs are the inputs whose absence makes a card a warning: the
// tumour's MHC-I status, its PD-L1 score and the lymphocyte count carry
// most of the models' weight.
var keyInputs = []string{"mhc1_status", "pdl1_tps", "alc"}

// card writes a patient's predictions as a CDS Hooks card.
func (s *Server) card(c *gin.Context, hook string, pp patientPrediction, ranked []regimenResult) cdshooks.Card {
	p := pp.Predictions
	synthetic := false
	var parts []string
	pct := func(x *float64) string {
		if x == nil {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100**x)
	}
	var rows []string
	var models []string
	imputed, warnings := map[string]bool{}, map[string]bool{}
	addTarget := func(label, short string, tp *targetPrediction) {
		if tp == nil || tp.Model == "" {
			return
		}
		synthetic = synthetic || tp.Synthetic
		models = append(models, tp.Model+":"+tp.Version)
		cell := pct(tp.Probability)
		if tp.Probability == nil {
			cell = "not defined: " + tp.Reason
		} else {
			parts = append(parts, short+" "+pct(tp.Probability))
			if tp.Interval != nil {
				cell += fmt.Sprintf(" (95%% interval %.0f-%.0f%%)", 100*tp.Interval[0], 100*tp.Interval[1])
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s:%s |", label, cell, tp.Model, tp.Version))
		for _, f := range tp.Imputed {
			imputed[f] = true
		}
		for _, w := range tp.Warnings {
			if !strings.HasPrefix(w, "no interval:") {
				warnings[w] = true
			}
		}
	}
	addTarget("Objective response", "Objective response", &p.ObjectiveResponse)
	addTarget("Abscopal response", "abscopal", &p.AbscopalResponse)
	addTarget("Pneumonitis grade 2 or more", "pneumonitis≥2", p.Pneumonitis)
	for _, sv := range []struct {
		label, short string
		sp           *survivalPrediction
	}{{"Overall survival", "median OS", p.OverallSurvival}, {"Progression-free survival", "median PFS", p.ProgressionFreeSurvival}} {
		if sv.sp == nil {
			continue
		}
		synthetic = synthetic || sv.sp.Synthetic
		models = append(models, sv.sp.Model+":"+sv.sp.Version)
		median := "median not reached"
		if m := sv.sp.MedianMonths; m != nil {
			median = fmt.Sprintf("median %.1f months", *m)
			parts = append(parts, fmt.Sprintf("%s %.0f mo", sv.short, *m))
		}
		var at []string
		for _, a := range sv.sp.Survival {
			at = append(at, fmt.Sprintf("%g mo %.0f%%", a.Months, 100*a.Probability))
		}
		rows = append(rows, fmt.Sprintf("| %s | %s; event-free at %s | %s:%s |", sv.label, median, strings.Join(at, ", "), sv.sp.Model, sv.sp.Version))
	}

	var d strings.Builder
	if synthetic {
		d.WriteString("> **Trained on SYNTHETIC data: a demonstration, not for clinical use.**\n\n")
	}
	d.WriteString("**Predicted for this patient**\n\n| outcome | prediction | model |\n|---|---|---|\n")
	d.WriteString(strings.Join(rows, "\n") + "\n\n")
	if cs := p.ObjectiveResponse.Contributions; len(cs) > 0 {
		d.WriteString("**Why** (the largest contributions to the objective response, log-odds): ")
		var why []string
		for i, ct := range cs {
			if i == 5 {
				break
			}
			why = append(why, fmt.Sprintf("%s %+.2f", ct.Feature, ct.LogOdds))
		}
		d.WriteString(strings.Join(why, "; ") + "\n\n")
	}
	if len(ranked) > 0 {
		title := "**Radiotherapy regimens ranked by objective response**"
		if hook == cdshooks.OrderSelect {
			title = "**The regimens to choose from, ranked by objective response**"
		}
		d.WriteString(title + "\n\n| rank | regimen | objective response | abscopal response | pneumonitis ≥2 |\n|---|---|---|---|---|\n")
		for _, r := range ranked {
			pn := "-"
			if r.Predictions.Pneumonitis != nil {
				pn = pct(r.Predictions.Pneumonitis.Probability)
			}
			fmt.Fprintf(&d, "| %d | %s | %s | %s | %s |\n", r.Rank, r.Regimen.Label, pct(r.Predictions.ObjectiveResponse.Probability), pct(r.Predictions.AbscopalResponse.Probability), pn)
		}
		d.WriteString("\n")
	}
	indicator := "info"
	var missing []string
	for _, k := range keyInputs {
		if imputed[k] {
			missing = append(missing, k)
		}
	}
	if len(imputed) > 0 {
		names := make([]string, 0, len(imputed))
		for f := range imputed {
			names = append(names, f)
		}
		slices.Sort(names)
		fmt.Fprintf(&d, "**Not in the chart, imputed:** %s.\n\n", strings.Join(names, ", "))
	}
	if len(warnings) > 0 {
		ws := make([]string, 0, len(warnings))
		for w := range warnings {
			ws = append(ws, w)
		}
		slices.Sort(ws)
		fmt.Fprintf(&d, "**Take care:** %s.\n", strings.Join(ws, "; "))
		indicator = "warning"
	}
	if len(missing) > 0 {
		indicator = "warning"
	}

	summary := strings.Join(parts, " · ")
	switch {
	case len(missing) > 0:
		summary = "Missing " + strings.Join(missing, ", ") + ": " + summary
	case len(warnings) > 0:
		summary = "Outside the training range: " + summary
	}
	if synthetic {
		summary = "SYNTHETIC model: " + summary
	}
	base := s.publicURL(c)
	card := cdshooks.Card{UUID: newUUID(), Summary: truncate(summary, cdshooks.MaxSummary-1), Detail: d.String(), Indicator: indicator,
		Source: cdshooks.Source{Label: "abscopal " + strings.Join(models, ", ")}}
	if m := p.ObjectiveResponse.Model; m != "" {
		card.Source.URL = base + "/v1/models/" + m + "/files/card.html"
	}
	if s.page != nil {
		card.Links = []cdshooks.Link{{Label: "Open the what-if calculator", URL: base + "/", Type: "absolute"}}
	}
	return card
}

// truncate shortens s to at most n characters, with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// newUUID is a random (version 4) UUID: a card's identity for feedback.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// cdsFeedback is POST /cds-services/{id}/feedback: what the EHR's users
// did with the cards, counted by service and outcome
// (abscopal_cds_feedback_total).
func (s *Server) cdsFeedback(c *gin.Context) {
	id := c.Param("id")
	if !slices.ContainsFunc(cdsServices().Services, func(sv cdshooks.Service) bool { return sv.ID == id }) {
		notFound(c, "CDS service "+id)
		return
	}
	raw, ok := readRaw(c)
	if !ok || !checkObject(c, raw) {
		return
	}
	var fb cdshooks.Feedback
	if err := json.Unmarshal(raw, &fb); err != nil {
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "not CDS Hooks feedback: " + jsonTypeProblem(err)})
		return
	}
	if len(fb.Feedback) == 0 {
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "feedback holds no entry", Field: "feedback"})
		return
	}
	for i, f := range fb.Feedback {
		switch {
		case f.Card == "":
			abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "card is required", Field: fmt.Sprintf("feedback[%d].card", i)})
			return
		case f.Outcome != "accepted" && f.Outcome != "overridden":
			abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "outcome is accepted or overridden", Field: fmt.Sprintf("feedback[%d].outcome", i)})
			return
		case f.OutcomeTimestamp == "":
			abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: "outcomeTimestamp is required", Field: fmt.Sprintf("feedback[%d].outcomeTimestamp", i)})
			return
		}
	}
	for _, f := range fb.Feedback {
		s.metrics.cdsFeedback.WithLabelValues(id, f.Outcome).Inc()
	}
	c.PureJSON(http.StatusOK, gin.H{})
}

// jsonTypeProblem says what is wrong with a JSON document without its
// values.
func jsonTypeProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s holds a JSON %s", te.Field, te.Value)
	}
	return "malformed JSON"
}
