package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/abscopal/abscopal/data"
	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// ErrInput is wrapped by every *Error: a chart that cannot be read.
var ErrInput = errors.New("fhir input")

// Error is a chart that cannot be read, naming the resource ("Observation/
// lab-3", or the Bundle) and the element at fault, for an OperationOutcome.
type Error struct {
	Resource string
	Element  string
	Detail   string
	// Code is the OperationOutcome issue type: invalid, structure,
	// code-invalid, conflict, required, not-supported.
	Code string
}

func (e *Error) Error() string {
	if e.Element == "" {
		return e.Resource + ": " + e.Detail
	}
	return e.Resource + "." + e.Element + ": " + e.Detail
}

// Unwrap makes every *Error an ErrInput.
func (e *Error) Unwrap() error { return ErrInput }

// Chart is a patient read from a FHIR Bundle.
type Chart struct {
	Patient data.Patient
	// Subject is the Patient's reference ("Patient/p1").
	Subject string
	// Basis are the resources a value was read from, in the Bundle's
	// order: a RiskAssessment's basis.
	Basis []string
	// Sources names, for each column read, the resource it came from.
	Sources map[string]string
	// Notes say what was read with a rule worth knowing (a unit converted,
	// a value after the treatment start left out). They name resources and
	// columns, never values.
	Notes []string
	// Start is the treatment start (zero when no date said it).
	Start time.Time
}

// resource is one entry of the Bundle: its reference and its JSON.
type resource struct {
	ref string
	raw json.RawMessage
	typ string
}

// PatientOf reads a FHIR R4 Bundle holding one patient's chart into a
// cohort row, as docs/fhir.md's table says; a Parameters resource holding
// the Bundle as its parameter "chart" (an operation's input form) too. A value absent from the chart
// stays null, to be imputed and reported as /v1/predict does; a value that
// cannot be read (a unit with no conversion, a code outside the allowed
// ones, two different values where one wins) is an *Error naming the
// resource and the element. The row is not validated against the cohort
// schema here: the caller does that, as for JSON.
func PatientOf(raw []byte) (*Chart, error) {
	var head struct {
		ResourceType string            `json:"resourceType"`
		Entry        []json.RawMessage `json:"entry"`
		Parameter    []struct {
			Name     string          `json:"name"`
			Resource json.RawMessage `json:"resource"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, &Error{Resource: "Bundle", Detail: "not FHIR R4 JSON: " + jsonProblem(err), Code: "structure"}
	}
	if head.ResourceType == "Parameters" {
		// An operation's input: the chart is the parameter "chart".
		for _, p := range head.Parameter {
			if p.Name == "chart" && len(p.Resource) > 0 {
				return PatientOf(p.Resource)
			}
		}
		return nil, &Error{Resource: "Parameters", Element: "parameter", Detail: `no parameter "chart" holding the patient's Bundle`, Code: "required"}
	}
	if head.ResourceType != "Bundle" {
		what := head.ResourceType
		if what == "" {
			what = "a JSON object without resourceType"
		}
		return nil, &Error{Resource: orDefault(head.ResourceType, "request"), Element: "resourceType", Detail: fmt.Sprintf("%s: want a Bundle of the patient's resources", what), Code: "structure"}
	}
	b, err := r4.UnmarshalBundle(raw)
	if err != nil {
		return nil, &Error{Resource: "Bundle", Detail: "not an R4 Bundle: " + jsonProblem(err), Code: "structure"}
	}
	var rs []resource
	for i, e := range b.Entry {
		if len(e.Resource) == 0 {
			continue
		}
		var h struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(e.Resource, &h); err != nil || h.ResourceType == "" {
			return nil, &Error{Resource: fmt.Sprintf("Bundle.entry[%d]", i), Element: "resource", Detail: "not a FHIR resource (no resourceType)", Code: "structure"}
		}
		ref := h.ResourceType + "/" + h.ID
		if h.ID == "" {
			ref = fmt.Sprintf("%s (Bundle.entry[%d])", h.ResourceType, i)
			if e.FullUrl != nil {
				ref = *e.FullUrl
			}
		}
		rs = append(rs, resource{ref: ref, raw: e.Resource, typ: h.ResourceType})
	}
	r := &reader{chart: &Chart{Sources: map[string]string{}}, used: map[string]bool{}}
	if err := r.read(rs); err != nil {
		return nil, err
	}
	for _, x := range rs {
		if r.used[x.ref] {
			r.chart.Basis = append(r.chart.Basis, x.ref)
		}
	}
	return r.chart, nil
}

// reader gathers a chart from the resources.
type reader struct {
	chart *Chart
	used  map[string]bool
	birth time.Time
}

// candidate is one value of a column from one resource.
type candidate struct {
	v    data.Value
	at   time.Time // zero: undated
	ref  string
	note string
}

func (r *reader) set(col string, c candidate) {
	f, _ := data.CohortField(col)
	f.Set(&r.chart.Patient, c.v)
	r.chart.Sources[col] = c.ref
	r.used[c.ref] = true
	if c.note != "" {
		r.chart.Notes = append(r.chart.Notes, c.note)
	}
}

func (r *reader) read(rs []resource) error {
	var patients, conditions, meds, courses, obs []resource
	for _, x := range rs {
		switch x.typ {
		case "Patient":
			patients = append(patients, x)
		case "Condition":
			conditions = append(conditions, x)
		case "MedicationRequest", "MedicationAdministration":
			meds = append(meds, x)
		case "Procedure":
			courses = append(courses, x)
		case "Observation":
			obs = append(obs, x)
		}
	}
	switch len(patients) {
	case 0:
		return &Error{Resource: "Bundle", Element: "entry", Detail: "no Patient resource: the Bundle must hold the patient", Code: "required"}
	case 1:
	default:
		return &Error{Resource: patients[1].ref, Detail: fmt.Sprintf("a second Patient (after %s): send one patient's chart per Bundle", patients[0].ref), Code: "conflict"}
	}
	if err := r.readPatient(patients[0]); err != nil {
		return err
	}
	iciStart, err := r.readMedications(meds)
	if err != nil {
		return err
	}
	course, err := r.readCourse(courses)
	if err != nil {
		return err
	}
	start := iciStart
	if course != nil && !course.start.IsZero() && (start.IsZero() || course.start.Before(start)) {
		start = course.start
	}
	r.chart.Start = start
	if err := r.readConditions(conditions); err != nil {
		return err
	}
	if err := r.readObservations(obs, start, course); err != nil {
		return err
	}
	if r.chart.Patient.RTICISequence == nil && course != nil && !course.start.IsZero() && !iciStart.IsZero() {
		seq := "concurrent"
		switch {
		case !course.end.IsZero() && course.end.Before(iciStart):
			seq = "rt_before_ici"
		case course.start.After(iciStart):
			seq = "ici_before_rt"
		}
		r.set("rt_ici_sequence", candidate{v: data.String(seq), ref: course.ref, note: "rt_ici_sequence derived from the dates of " + course.ref + " and the first checkpoint inhibitor"})
	}
	if r.chart.Patient.Age == nil && !r.birth.IsZero() && !start.IsZero() {
		years := start.Sub(r.birth).Hours() / 24 / 365.25
		r.set("age", candidate{v: data.Float(math.Floor(years*10) / 10), ref: r.chart.Subject, note: "age from Patient.birthDate at the treatment start"})
	}
	return nil
}

// readPatient reads the id and gender; birthDate is kept for the age.
func (r *reader) readPatient(x resource) error {
	p, err := r4.UnmarshalPatient(x.raw)
	if err != nil {
		return &Error{Resource: x.ref, Detail: "not an R4 Patient: " + jsonProblem(err), Code: "structure"}
	}
	if p.Id == nil || *p.Id == "" {
		return &Error{Resource: x.ref, Element: "id", Detail: "the Patient needs an id: the prediction's subject", Code: "required"}
	}
	r.chart.Patient.PatientID = *p.Id
	r.chart.Subject = "Patient/" + *p.Id
	r.used[x.ref] = true
	if p.Gender != nil {
		switch g := p.Gender.Code(); g {
		case "female", "male":
			r.set("sex", candidate{v: data.String(g), ref: x.ref})
		}
	}
	if p.BirthDate != nil {
		t, err := parseDate(*p.BirthDate)
		if err != nil {
			return &Error{Resource: x.ref, Element: "birthDate", Detail: err.Error(), Code: "invalid"}
		}
		r.birth = t
	}
	return nil
}

// readMedications finds the checkpoint inhibitors given or ordered and
// returns the first date of one (zero when none is dated).
func (r *reader) readMedications(meds []resource) (time.Time, error) {
	classes := map[string]bool{}
	var first time.Time
	var refs []string
	for _, x := range meds {
		var code r4.CodeableConcept
		var status, date, element string
		if x.typ == "MedicationAdministration" {
			var m struct {
				Status                    string             `json:"status"`
				MedicationCodeableConcept r4.CodeableConcept `json:"medicationCodeableConcept"`
				EffectiveDateTime         string             `json:"effectiveDateTime"`
				EffectivePeriod           *r4.Period         `json:"effectivePeriod"`
			}
			if err := json.Unmarshal(x.raw, &m); err != nil {
				return time.Time{}, &Error{Resource: x.ref, Detail: "not an R4 MedicationAdministration: " + jsonProblem(err), Code: "structure"}
			}
			code, status, date, element = m.MedicationCodeableConcept, m.Status, m.EffectiveDateTime, "effectiveDateTime"
			if date == "" && m.EffectivePeriod != nil && m.EffectivePeriod.Start != nil {
				date, element = *m.EffectivePeriod.Start, "effectivePeriod.start"
			}
			if status != "completed" && status != "in-progress" {
				continue
			}
		} else {
			m, err := r4.UnmarshalMedicationRequest(x.raw)
			if err != nil {
				return time.Time{}, &Error{Resource: x.ref, Detail: "not an R4 MedicationRequest: " + jsonProblem(err), Code: "structure"}
			}
			code, status, element = m.MedicationCodeableConcept, m.Status, "authoredOn"
			if m.AuthoredOn != nil {
				date = *m.AuthoredOn
			}
			if status != "active" && status != "completed" && status != "draft" {
				continue // a draft is an order being written (order-select): the treatment asked about
			}
		}
		class := ""
		for _, c := range checkpointInhibitors {
			if hasCoding(code, c.Code) {
				class = c.Class
			}
		}
		if class == "" {
			continue // another drug
		}
		classes[class] = true
		refs = append(refs, x.ref)
		r.used[x.ref] = true
		if date != "" {
			t, err := parseDate(date)
			if err != nil {
				return time.Time{}, &Error{Resource: x.ref, Element: element, Detail: err.Error(), Code: "invalid"}
			}
			if first.IsZero() || t.Before(first) {
				first = t
			}
		}
	}
	var class string
	switch {
	case len(classes) == 0:
		return time.Time{}, &Error{Resource: "Bundle", Element: "entry", Code: "required",
			Detail: "no checkpoint inhibitor: ici_class is required; send a MedicationAdministration (completed or in-progress) or MedicationRequest (active, completed or draft) coded in RxNorm (docs/fhir.md lists the codes)"}
	case classes["ctla4"] && (classes["pd1"] || classes["pdl1"]):
		class = "pd1_ctla4"
	case len(classes) > 1:
		return time.Time{}, &Error{Resource: refs[len(refs)-1], Element: "medicationCodeableConcept", Code: "conflict",
			Detail: "an anti-PD-1 and an anti-PD-L1 antibody in one chart: the model knows one class, or anti-PD-(L)1 with anti-CTLA-4"}
	default:
		for c := range classes {
			class = c
		}
	}
	f, _ := data.CohortField("ici_class")
	f.Set(&r.chart.Patient, data.String(class))
	r.chart.Sources["ici_class"] = strings.Join(refs, ", ")
	return first, nil
}

// course is a radiotherapy course summary's dates.
type course struct {
	ref        string
	start, end time.Time
}

// readCourse reads mCODE's radiotherapy course summary: dose, fractions,
// site and dates. No course is no radiotherapy (0 Gy).
func (r *reader) readCourse(procs []resource) (*course, error) {
	var found []resource
	var parsed []r4.Procedure
	for _, x := range procs {
		p, err := r4.UnmarshalProcedure(x.raw)
		if err != nil {
			return nil, &Error{Resource: x.ref, Detail: "not an R4 Procedure: " + jsonProblem(err), Code: "structure"}
		}
		isCourse := p.Code != nil && hasCoding(*p.Code, Code{SNOMED, snomedRTCourse, ""})
		if p.Meta != nil && slices.Contains(p.Meta.Profile, mcodeRTCourse) {
			isCourse = true
		}
		if !isCourse || p.Status.Code() == "entered-in-error" || p.Status.Code() == "not-done" {
			continue
		}
		found, parsed = append(found, x), append(parsed, p)
	}
	switch len(found) {
	case 0:
		r.set("rt_dose_gy", candidate{v: data.Float(0), ref: r.chart.Subject, note: "no radiotherapy course summary in the Bundle: rt_dose_gy 0 (checkpoint inhibitor alone)"})
		return nil, nil
	case 1:
	default:
		return nil, &Error{Resource: found[1].ref, Detail: fmt.Sprintf("a second radiotherapy course (after %s): the model takes one course", found[0].ref), Code: "not-supported"}
	}
	x, p := found[0], parsed[0]
	c := &course{ref: x.ref}
	if pp := p.PerformedPeriod; pp != nil {
		if pp.Start != nil {
			t, err := parseDate(*pp.Start)
			if err != nil {
				return nil, &Error{Resource: x.ref, Element: "performedPeriod.start", Detail: err.Error(), Code: "invalid"}
			}
			c.start = t
		}
		if pp.End != nil {
			t, err := parseDate(*pp.End)
			if err != nil {
				return nil, &Error{Resource: x.ref, Element: "performedPeriod.end", Detail: err.Error(), Code: "invalid"}
			}
			c.end = t
		}
	} else if p.PerformedDateTime != nil {
		t, err := parseDate(*p.PerformedDateTime)
		if err != nil {
			return nil, &Error{Resource: x.ref, Element: "performedDateTime", Detail: err.Error(), Code: "invalid"}
		}
		c.start, c.end = t, t
	}
	// The volume given the highest dose: its dose and fractions.
	dose, fractions, sessions := math.NaN(), -1, -1
	for i, e := range p.Extension {
		switch e.Url {
		case mcodeDoseToVolume:
			d, n := math.NaN(), -1
			for j, sub := range e.Extension {
				el := fmt.Sprintf("extension[%d].extension[%d]", i, j)
				switch sub.Url {
				case "totalDoseDelivered":
					if sub.ValueQuantity == nil {
						return nil, &Error{Resource: x.ref, Element: el, Detail: "totalDoseDelivered without a valueQuantity", Code: "invalid"}
					}
					v, err := quantityIn(*sub.ValueQuantity, []Unit{{"Gy", 1}, {"cGy", 0.01}})
					if err != nil {
						return nil, &Error{Resource: x.ref, Element: el + ".valueQuantity", Detail: err.Error(), Code: "invalid"}
					}
					d = v
				case "fractionsDelivered":
					if sub.ValueUnsignedInt == nil {
						return nil, &Error{Resource: x.ref, Element: el, Detail: "fractionsDelivered without a valueUnsignedInt", Code: "invalid"}
					}
					n = *sub.ValueUnsignedInt
				}
			}
			if !math.IsNaN(d) && (math.IsNaN(dose) || d > dose) {
				dose, fractions = d, n
			}
		case mcodeRTSessions:
			if e.ValueUnsignedInt != nil {
				sessions = *e.ValueUnsignedInt
			}
		}
	}
	if fractions < 0 {
		fractions = sessions
	}
	if math.IsNaN(dose) {
		return nil, &Error{Resource: x.ref, Element: "extension", Code: "required",
			Detail: "a radiotherapy course without a totalDoseDelivered (mcode-radiotherapy-dose-delivered-to-volume): the model needs the dose"}
	}
	r.set("rt_dose_gy", candidate{v: data.Float(dose), ref: x.ref})
	if fractions >= 0 {
		r.set("rt_fractions", candidate{v: data.Float(float64(fractions)), ref: x.ref})
	}
	for _, site := range p.BodySite {
		s := "other"
		for _, known := range rtSites {
			if hasCoding(site, known.Code) {
				s = known.Site
			}
		}
		r.set("rt_site", candidate{v: data.String(s), ref: x.ref})
		break
	}
	return c, nil
}

// readConditions reads the histology from the NSCLC diagnosis.
func (r *reader) readConditions(conds []resource) error {
	for _, x := range conds {
		c, err := r4.UnmarshalCondition(x.raw)
		if err != nil {
			return &Error{Resource: x.ref, Detail: "not an R4 Condition: " + jsonProblem(err), Code: "structure"}
		}
		concepts := []r4.CodeableConcept{}
		for _, e := range c.Extension {
			if e.Url == mcodeHistology && e.ValueCodeableConcept != nil {
				concepts = append(concepts, *e.ValueCodeableConcept)
			}
		}
		if c.Code != nil {
			concepts = append(concepts, *c.Code)
		}
		found, histology := false, ""
		for _, cc := range concepts {
			for _, h := range histologies {
				if hasCoding(cc, h.Code) {
					found = true
					if histology == "" {
						histology = h.Histology
					}
				}
			}
		}
		if !found {
			continue
		}
		if histology == "" {
			histology = "other"
		}
		if prev := r.chart.Patient.Histology; prev != nil && *prev != histology {
			return &Error{Resource: x.ref, Element: "code", Code: "conflict",
				Detail: fmt.Sprintf("histology %s here, %s in %s: send the one diagnosis", histology, *prev, r.chart.Sources["histology"])}
		}
		r.set("histology", candidate{v: data.String(histology), ref: x.ref})
	}
	return nil
}

// readObservations reads every column of observations: the values of
// each, then the one its rule picks.
func (r *reader) readObservations(obs []resource, start time.Time, c *course) error {
	found := make([][]candidate, len(observations))
	var lymphocytes []candidate
	for _, x := range obs {
		o, err := r4.UnmarshalObservation(x.raw)
		if err != nil {
			return &Error{Resource: x.ref, Detail: "not an R4 Observation: " + jsonProblem(err), Code: "structure"}
		}
		if st := o.Status.Code(); st == "entered-in-error" || st == "cancelled" || st == "registered" {
			continue
		}
		k := -1
		for i, m := range observations {
			for _, code := range m.Codes {
				if hasCoding(o.Code, code) {
					k = i
				}
			}
		}
		if k < 0 {
			continue // not an input
		}
		m := observations[k]
		if m.kind == variant && !studies(o, m.gene) {
			continue // a variant of another gene
		}
		v, note, rerr := readValue(o, m)
		if rerr != nil {
			rerr.Resource = x.ref
			return rerr
		}
		if !v.Valid {
			continue // dataAbsentReason
		}
		at, element := time.Time{}, "effectiveDateTime"
		date := o.EffectiveDateTime
		if date == nil && o.EffectivePeriod != nil {
			date, element = o.EffectivePeriod.Start, "effectivePeriod.start"
		}
		if date != nil {
			t, err := parseDate(*date)
			if err != nil {
				return &Error{Resource: x.ref, Element: element, Detail: err.Error(), Code: "invalid"}
			}
			at = t
		}
		if note != "" {
			note = m.Column + " from " + x.ref + ": " + note
		}
		cand := candidate{v: v, at: at, ref: x.ref, note: note}
		found[k] = append(found[k], cand)
		if m.Column == "alc" {
			lymphocytes = append(lymphocytes, cand)
		}
	}
	for k, cands := range found {
		m := observations[k]
		if len(cands) == 0 {
			continue
		}
		before := strings.HasSuffix(m.Rule, latestBefore)
		best, err := pick(m.Column, cands, start, before)
		if err != nil {
			return err
		}
		if best == nil {
			r.chart.Notes = append(r.chart.Notes, fmt.Sprintf("%s: every value is dated after the treatment start (%s): not used", m.Column, start.Format(time.DateOnly)))
			continue
		}
		r.set(m.Column, *best)
	}
	// The nadir: the lowest count within the course.
	if c != nil && !c.start.IsZero() && !c.end.IsZero() {
		var low *candidate
		for i, l := range lymphocytes {
			if l.at.IsZero() || l.at.Before(c.start) || l.at.After(c.end) {
				continue
			}
			if low == nil || l.v.Num < low.v.Num {
				low = &lymphocytes[i]
			}
		}
		if low != nil {
			r.set("alc_nadir", candidate{v: low.v, ref: low.ref})
		}
	}
	return nil
}

// pick chooses among a column's values: the latest (on or before start
// when before and start is known); undated ones only when none is dated.
// Two different values on the chosen date are a conflict; nil means every
// value was after the start.
func pick(col string, cands []candidate, start time.Time, before bool) (*candidate, error) {
	var eligible []candidate
	dated := false
	for _, c := range cands {
		if !c.at.IsZero() {
			dated = true
		}
	}
	for _, c := range cands {
		switch {
		case dated && c.at.IsZero():
			continue
		case before && !start.IsZero() && c.at.After(start):
			continue
		}
		eligible = append(eligible, c)
	}
	if len(eligible) == 0 {
		return nil, nil
	}
	sort.SliceStable(eligible, func(a, b int) bool { return eligible[a].at.After(eligible[b].at) })
	best := eligible[0]
	for _, c := range eligible[1:] {
		if !c.at.Equal(best.at) {
			break
		}
		if c.v != best.v {
			return nil, &Error{Resource: c.ref, Code: "conflict",
				Detail: fmt.Sprintf("%s differs from %s's on the same date (%s): the chart must say which holds", col, best.ref, dateOrUndated(best.at))}
		}
	}
	return &best, nil
}

func dateOrUndated(t time.Time) string {
	if t.IsZero() {
		return "undated"
	}
	return t.Format(time.DateOnly)
}

// readValue reads an Observation's value as m says; a null value for an
// Observation that says its value is absent (dataAbsentReason).
func readValue(o r4.Observation, m observation) (data.Value, string, *Error) {
	if o.DataAbsentReason != nil {
		return data.Null, "", nil
	}
	switch m.kind {
	case quantity:
		if o.ValueQuantity == nil {
			return data.Null, "", &Error{Element: "value[x]", Detail: fmt.Sprintf("%s: want a valueQuantity", m.Column), Code: "invalid"}
		}
		v, err := quantityIn(*o.ValueQuantity, m.Units)
		if err != nil {
			return data.Null, "", &Error{Element: "valueQuantity", Detail: m.Column + ": " + err.Error(), Code: "invalid"}
		}
		note := ""
		if u := unitOf(*o.ValueQuantity); u != m.Units[0].UCUM {
			note = "converted from " + u
		}
		return data.Float(v), note, nil
	case integer:
		if o.ValueInteger != nil {
			return data.Float(float64(*o.ValueInteger)), "", nil
		}
		if o.ValueCodeableConcept != nil {
			for _, c := range o.ValueCodeableConcept.Coding {
				if c.System != nil && *c.System == LOINC && c.Code != nil {
					if n, ok := ecogAnswers[*c.Code]; ok {
						return data.Float(float64(n)), "", nil
					}
				}
			}
		}
		return data.Null, "", &Error{Element: "value[x]", Detail: m.Column + ": want a valueInteger or a LOINC answer LA9622-7 to LA9626-8", Code: "code-invalid"}
	case boolean:
		if o.ValueBoolean == nil {
			return data.Null, "", &Error{Element: "value[x]", Detail: m.Column + ": want a valueBoolean", Code: "invalid"}
		}
		return data.Bool(*o.ValueBoolean), "", nil
	case variant:
		if o.ValueCodeableConcept != nil {
			for _, c := range o.ValueCodeableConcept.Coding {
				if c.Code != nil && (*c.Code == "LA9633-4" || *c.Code == "LA9634-2") {
					return data.Bool(*c.Code == "LA9633-4"), "", nil
				}
			}
		}
		return data.Null, "", &Error{Element: "valueCodeableConcept", Detail: m.Column + ": want LOINC LA9633-4 (present) or LA9634-2 (absent)", Code: "code-invalid"}
	}
	// category
	if o.ValueCodeableConcept == nil {
		return data.Null, "", &Error{Element: "value[x]", Detail: m.Column + ": want a valueCodeableConcept", Code: "invalid"}
	}
	f, _ := data.CohortField(m.Column)
	if m.Column == "stage" {
		cc := *o.ValueCodeableConcept
		texts := []string{}
		for _, c := range cc.Coding {
			if c.Code != nil {
				texts = append(texts, *c.Code)
			}
		}
		if cc.Text != nil {
			texts = append(texts, *cc.Text)
		}
		for _, t := range texts {
			if g := stageGroup(t); g != "" {
				return data.String(g), "", nil
			}
		}
		return data.Null, "", &Error{Element: "valueCodeableConcept", Detail: "stage: want an AJCC stage group (I to IV, with or without a letter)", Code: "code-invalid"}
	}
	for _, c := range o.ValueCodeableConcept.Coding {
		if c.System != nil && *c.System == Abscopal && c.Code != nil && slices.Contains(f.Levels, *c.Code) {
			return data.String(*c.Code), "", nil
		}
	}
	return data.Null, "", &Error{Element: "valueCodeableConcept", Detail: fmt.Sprintf("%s: want an abscopal code, one of %s", m.Column, strings.Join(f.Levels, ", ")), Code: "code-invalid"}
}

// stageGroup reads an AJCC stage group's group: "IIIB", "3A", "Stage IV"
// are III, III and IV.
func stageGroup(s string) string {
	s = strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "Stage")))
	s = strings.TrimSpace(strings.TrimPrefix(s, "STAGE"))
	for _, g := range []struct{ roman, arabic, group string }{{"IV", "4", "IV"}, {"III", "3", "III"}, {"II", "2", "II"}, {"I", "1", "I"}} {
		for _, p := range []string{g.roman, g.arabic} {
			if rest, ok := strings.CutPrefix(s, p); ok && (rest == "" || strings.Trim(rest, "ABC") == "") {
				return g.group
			}
		}
	}
	return ""
}

// studies reports whether a variant assessment names the gene studied.
func studies(o r4.Observation, gene Code) bool {
	for _, c := range o.Component {
		if hasCoding(c.Code, Code{LOINC, "48018-6", ""}) && c.ValueCodeableConcept != nil && hasCoding(*c.ValueCodeableConcept, gene) {
			return true
		}
	}
	return false
}

// quantityIn reads a quantity in one of units, converted to the first.
func quantityIn(q r4.Quantity, units []Unit) (float64, error) {
	if q.Value == nil {
		return 0, errors.New("a quantity without a value")
	}
	if q.Comparator != nil {
		return 0, fmt.Errorf("a value with the comparator %q: the model takes a measured value", q.Comparator.Code())
	}
	v, err := strconv.ParseFloat(string(*q.Value), 64)
	if err != nil {
		return 0, fmt.Errorf("value %q is not a decimal", string(*q.Value))
	}
	u := unitOf(q)
	var names []string
	for _, x := range units {
		if x.UCUM == u {
			if x.Factor == 1 {
				return v, nil // no product: the value's bits as sent
			}
			return v * x.Factor, nil
		}
		names = append(names, x.UCUM)
	}
	return 0, fmt.Errorf("unit %q cannot be converted: want UCUM %s", u, strings.Join(names, ", "))
}

// unitOf is a quantity's UCUM code, or its unit when it has none.
func unitOf(q r4.Quantity) string {
	if q.Code != nil && (q.System == nil || *q.System == UCUM) {
		return *q.Code
	}
	if q.Unit != nil {
		return *q.Unit
	}
	return ""
}

// hasCoding reports whether cc holds the coding c (system and code).
func hasCoding(cc r4.CodeableConcept, c Code) bool {
	for _, x := range cc.Coding {
		if x.System != nil && x.Code != nil && *x.System == c.System && *x.Code == c.Code {
			return true
		}
	}
	return false
}

// parseDate reads a FHIR date or dateTime (a year, a month, a day, or an
// instant with its zone).
func parseDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly, "2006-01", "2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a FHIR date or dateTime", s)
}

// jsonProblem says what is wrong with JSON without echoing its values.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s holds a JSON %s", orDefault(te.Field, "the value"), te.Value)
	}
	return "malformed"
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
