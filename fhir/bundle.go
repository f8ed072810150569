package fhir

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/abscopal/abscopal/data"
	r4 "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// BundleOf writes a cohort row as the FHIR R4 Bundle (type collection)
// that PatientOf reads back to the same inputs: the Patient, the
// Observations in the schema's units, the NSCLC Condition, the checkpoint
// inhibitors' MedicationAdministrations on start, and an mCODE
// radiotherapy course summary whose dates say the sequence. Baseline
// values are dated a week before the treatment start; the lymphocyte nadir
// within the course. Outcomes are not written: they are not inputs. It is
// for test patients (abscopal synth --format fhir), so that integrators
// have charts to send: the Bundle and the Patient carry HL7's security
// label HTEST (test health data).
func BundleOf(p *data.Patient, start time.Time) ([]byte, error) {
	w := &writer{p: p, subject: r4.Reference{Reference: ptr("Patient/" + p.PatientID)}}
	ici, rtStart, rtEnd := start, time.Time{}, time.Time{}
	hadRT := p.HadRT()
	if hadRT {
		days := time.Duration(max(1, intOf(p.RTFractions))) * 24 * time.Hour
		seq := ""
		if p.RTICISequence != nil {
			seq = *p.RTICISequence
		}
		switch seq {
		case "rt_before_ici":
			rtStart = start.Add(-days - 14*24*time.Hour)
		case "ici_before_rt":
			rtStart = start.Add(28 * 24 * time.Hour)
		default:
			rtStart = start
		}
		// A course of one fraction still ends a day after it starts: the
		// nadir is dated within the course and after the treatment start
		// (a value on the start date is a baseline one).
		rtEnd = rtStart.Add(max(days, 48*time.Hour) - 24*time.Hour)
	}
	first := ici
	if hadRT && rtStart.Before(first) {
		first = rtStart
	}
	baseline := first.Add(-7 * 24 * time.Hour)

	gender := map[string]r4.AdministrativeGender{"female": r4.AdministrativeGenderFemale, "male": r4.AdministrativeGenderMale}
	pat := r4.Patient{Id: ptr(p.PatientID), Meta: testData()}
	if p.Sex != nil {
		g := gender[*p.Sex]
		pat.Gender = &g
	}
	w.add(pat)
	for _, m := range observations {
		f, _ := data.CohortField(m.Column)
		v := f.Get(p)
		if !v.Valid || (m.Column == "rt_ici_sequence" && hadRT) {
			continue // the course's dates say the sequence
		}
		at := &baseline
		if m.Rule == "the latest" || m.Column == "age" {
			at = nil
		}
		w.observation(m, v, at)
	}
	if p.ALCNadir != nil && hadRT {
		m := observations[indexOf("alc")]
		at := rtStart.Add(24 * time.Hour)
		w.observation(m, data.Float(*p.ALCNadir), &at)
	}
	if p.Histology != nil {
		code := histologies[len(histologies)-1].Code
		for _, h := range histologies {
			if h.Histology == *p.Histology {
				code = h.Code
				break
			}
		}
		w.add(r4.Condition{Id: ptr(w.id("condition")), Subject: w.subject, Code: concept(code)})
	}
	if p.ICIClass != nil {
		drugs := map[string][]string{"pd1": {"pembrolizumab"}, "pdl1": {"atezolizumab"}, "ctla4": {"ipilimumab"}, "pd1_ctla4": {"nivolumab", "ipilimumab"}}[*p.ICIClass]
		for _, d := range drugs {
			for _, c := range checkpointInhibitors {
				if c.Display == d {
					w.medication(c.Code, ici)
				}
			}
		}
	}
	if hadRT {
		w.course(rtStart, rtEnd)
	}
	return json.Marshal(r4.Bundle{Meta: testData(), Type: r4.BundleTypeCollection, Entry: w.entries})
}

// testData labels a resource as test data, not a real patient's: HL7's
// security label HTEST.
func testData() *r4.Meta {
	return &r4.Meta{Security: []r4.Coding{{System: ptr("http://terminology.hl7.org/CodeSystem/v3-ActReason"), Code: ptr("HTEST"), Display: ptr("test health data")}}}
}

// writer gathers a Bundle's entries.
type writer struct {
	p       *data.Patient
	subject r4.Reference
	entries []r4.BundleEntry
	n       int
}

func (w *writer) id(kind string) string {
	w.n++
	return fmt.Sprintf("%s-%s-%d", w.p.PatientID, kind, w.n)
}

func (w *writer) add(res any) {
	raw, err := json.Marshal(res)
	if err != nil {
		panic(err) // the resources are ours: a failure is a bug
	}
	w.entries = append(w.entries, r4.BundleEntry{Resource: raw})
}

func (w *writer) observation(m observation, v data.Value, at *time.Time) {
	o := r4.Observation{Id: ptr(w.id("obs")), Status: r4.ObservationStatusFinal, Code: *concept(m.Codes[0]), Subject: &w.subject}
	if at != nil {
		o.EffectiveDateTime = ptr(at.Format(time.DateOnly))
	}
	switch m.kind {
	case quantity:
		o.ValueQuantity = &r4.Quantity{Value: number(v.Num), Unit: ptr(m.Units[0].UCUM), System: ptr(UCUM), Code: ptr(m.Units[0].UCUM)}
	case integer:
		n := int(v.Num)
		o.ValueInteger = &n
	case boolean:
		o.ValueBoolean = ptr(v.Bool)
	case variant:
		answer := Code{LOINC, "LA9634-2", "Absent"}
		if v.Bool {
			answer = Code{LOINC, "LA9633-4", "Present"}
		}
		o.ValueCodeableConcept = concept(answer)
		o.Component = []r4.ObservationComponent{{Code: *concept(Code{LOINC, "48018-6", "Gene studied [ID]"}), ValueCodeableConcept: concept(m.gene)}}
	default:
		system := Abscopal
		if m.Column == "stage" {
			system = AJCC
		}
		o.ValueCodeableConcept = concept(Code{system, v.Str, ""})
	}
	w.add(o)
}

func (w *writer) medication(c Code, at time.Time) {
	// A map, not r4.MedicationAdministration: that struct writes an empty
	// medicationReference and effectivePeriod beside the coded medication
	// and the date, which breaks R4's one-of rule for medication[x] and
	// effective[x].
	w.add(map[string]any{
		"resourceType":              "MedicationAdministration",
		"id":                        w.id("ici"),
		"status":                    "completed",
		"medicationCodeableConcept": concept(c),
		"subject":                   w.subject,
		"effectiveDateTime":         at.Format(time.DateOnly),
	})
}

func (w *writer) course(start, end time.Time) {
	p := w.p
	dose := []r4.Extension{{Url: "totalDoseDelivered", ValueQuantity: &r4.Quantity{Value: number(*p.RTDoseGy), Unit: ptr("Gy"), System: ptr(UCUM), Code: ptr("Gy")}}}
	if p.RTFractions != nil {
		dose = append(dose, r4.Extension{Url: "fractionsDelivered", ValueUnsignedInt: ptr(*p.RTFractions)})
	}
	proc := r4.Procedure{
		Id:              ptr(w.id("rt")),
		Meta:            &r4.Meta{Profile: []string{mcodeRTCourse}},
		Status:          r4.EventStatusCompleted,
		Code:            concept(Code{SNOMED, snomedRTCourse, "Radiotherapy course of treatment (regime/therapy)"}),
		Subject:         w.subject,
		PerformedPeriod: &r4.Period{Start: ptr(start.Format(time.DateOnly)), End: ptr(end.Format(time.DateOnly))},
		Extension:       []r4.Extension{{Url: mcodeDoseToVolume, Extension: dose}},
	}
	if p.RTSite != nil {
		site := Code{Abscopal, "other-site", "Another body site"}
		for _, s := range rtSites {
			if s.Site == *p.RTSite {
				site = s.Code
			}
		}
		proc.BodySite = []r4.CodeableConcept{*concept(site)}
	}
	w.add(proc)
}

func indexOf(col string) int {
	for i, m := range observations {
		if m.Column == col {
			return i
		}
	}
	panic("no observation of " + col)
}

func concept(c Code) *r4.CodeableConcept {
	cd := r4.Coding{System: ptr(c.System), Code: ptr(c.Code)}
	if c.Display != "" {
		cd.Display = ptr(c.Display)
	}
	return &r4.CodeableConcept{Coding: []r4.Coding{cd}}
}

// number writes x as a FHIR decimal, the shortest that reads back to x.
func number(x float64) *json.Number {
	n := json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	return &n
}

func intOf(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
