package fhir_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/data/synth"
	"github.com/abscopal/abscopal/fhir"
)

var start = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// inputsOf is a patient without its outcomes and synthetic ground truth:
// what a chart can say.
func inputsOf(p data.Patient) data.Patient {
	for _, f := range data.CohortFields() {
		if f.Outcome || f.Synthetic {
			f.Set(&p, data.Null)
		}
	}
	return p
}

// TestRoundTrip: every synthetic patient written as a Bundle reads back to
// the same inputs, value for value and bit for bit, whatever its
// radiotherapy sequence, missing values and treatment.
func TestRoundTrip(t *testing.T) {
	seqs := map[string]int{}
	for _, p := range synth.Generate(300, 7) {
		want := inputsOf(p)
		raw, err := fhir.BundleOf(&want, start)
		if err != nil {
			t.Fatal(err)
		}
		c, err := fhir.PatientOf(raw)
		if err != nil {
			t.Fatalf("%s: %v", p.PatientID, err)
		}
		for _, f := range data.CohortFields() {
			if g, w := f.Get(&c.Patient), f.Get(&want); g != w {
				t.Errorf("%s: %s read %+v, written %+v", p.PatientID, f.Name, g, w)
			}
		}
		if p.RTICISequence != nil {
			seqs[*p.RTICISequence]++
		}
		if c.Subject != "Patient/"+p.PatientID || len(c.Basis) < 3 {
			t.Errorf("%s: subject %q, basis %v", p.PatientID, c.Subject, c.Basis)
		}
	}
	if len(seqs) != 3 {
		t.Errorf("sequences drawn: %v, want all three", seqs)
	}
}

// chart builds a Bundle from resources in JSON.
func chart(resources ...string) []byte {
	return []byte(`{"resourceType": "Bundle", "type": "collection", "entry": [` + entries(resources) + `]}`)
}

func entries(rs []string) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, `{"resource": `+r+`}`)
	}
	return strings.Join(parts, ",")
}

const (
	patient = `{"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1956-03-01"}`
	pembro  = `{"resourceType": "MedicationAdministration", "id": "m1", "status": "completed", "subject": {"reference": "Patient/p1"},
		"medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1547545"}]}, "effectiveDateTime": "2026-03-02"}`
	ipi = `{"resourceType": "MedicationRequest", "id": "m2", "status": "active", "intent": "order", "subject": {"reference": "Patient/p1"},
		"medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1094833"}]}, "authoredOn": "2026-03-01"}`
	course = `{"resourceType": "Procedure", "id": "rt1", "status": "completed", "subject": {"reference": "Patient/p1"},
		"code": {"coding": [{"system": "http://snomed.info/sct", "code": "1217123003"}]},
		"performedPeriod": {"start": "2026-02-02", "end": "2026-02-06"},
		"bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "39607008"}]}],
		"extension": [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-sessions", "valueUnsignedInt": 5},
			{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume", "extension": [
				{"url": "totalDoseDelivered", "valueQuantity": {"value": 5000, "unit": "cGy", "system": "http://unitsofmeasure.org", "code": "cGy"}}]}]}`
)

func lab(id, loinc, date string, value float64, unit string) string {
	v, _ := json.Marshal(value)
	return `{"resourceType": "Observation", "id": "` + id + `", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "` + loinc + `"}]},
		"subject": {"reference": "Patient/p1"}, "effectiveDateTime": "` + date + `",
		"valueQuantity": {"value": ` + string(v) + `, "unit": "` + unit + `", "system": "http://unitsofmeasure.org", "code": "` + unit + `"}}`
}

// TestPatientOf: what a hand-written chart says, read by the rules of
// docs/fhir.md: units converted (cells/uL to 10^9/L, g/L to g/dL, cGy to
// Gy), the latest value before the treatment start, the nadir within the
// course, the sequence and the class from the dates and drugs, the age
// from the birth date.
func TestPatientOf(t *testing.T) {
	c, err := fhir.PatientOf(chart(patient, pembro, ipi, course,
		lab("alc-old", "731-0", "2025-12-01", 2.1, "10*9/L"),
		lab("alc-base", "731-0", "2026-01-30", 1500, "/uL"),
		lab("alc-low", "26474-7", "2026-02-05", 0.4, "10*9/L"),
		lab("alc-after", "731-0", "2026-03-20", 0.9, "10*9/L"),
		lab("alb", "1751-7", "2026-01-30", 38, "g/L"),
	))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Patient
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	check("patient_id", p.PatientID, "p1")
	check("sex", *p.Sex, "male")
	check("alc (1500/uL, the latest before the start)", *p.ALC, 1.5)
	check("alc_nadir (within the course)", *p.ALCNadir, 0.4)
	check("albumin (38 g/L)", *p.Albumin, 3.8000000000000003) // 38 x 0.1 in float64
	check("rt_dose_gy (5000 cGy)", *p.RTDoseGy, 50.0)
	check("rt_fractions (sessions)", *p.RTFractions, 5)
	check("rt_site", *p.RTSite, "lung")
	check("rt_ici_sequence (course before the first dose)", *p.RTICISequence, "rt_before_ici")
	check("ici_class (pembrolizumab and ipilimumab)", *p.ICIClass, "pd1_ctla4")
	// Born 1956-03-01, treated from 2026-02-02 (the course): 69.9 years.
	check("age", *p.Age, 69.9)
	check("start", c.Start.Format(time.DateOnly), "2026-02-02")
	if c.Sources["alc"] != "Observation/alc-base" || c.Sources["alc_nadir"] != "Observation/alc-low" {
		t.Errorf("sources %v", c.Sources)
	}
	for _, r := range []string{"Observation/alc-old", "Observation/alc-after"} {
		for _, b := range c.Basis {
			if b == r {
				t.Errorf("basis holds %s, a value not used", r)
			}
		}
	}

	// No course: checkpoint inhibitor alone, 0 Gy, no sequence.
	c, err = fhir.PatientOf(chart(patient, pembro))
	if err != nil || *c.Patient.RTDoseGy != 0 || c.Patient.RTICISequence != nil || *c.Patient.ICIClass != "pd1" {
		t.Errorf("no course: %+v, %v", c, err)
	}
}

// TestPatientOfRefuses: charts that cannot be read, each refused naming the
// resource and the element.
func TestPatientOfRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, body, resource, element, says string
	}{
		{"not JSON", `{"resourceType": "Bundle", `, "Bundle", "", "not FHIR R4 JSON"},
		{"not a Bundle", patient, "Patient", "resourceType", "want a Bundle"},
		{"no patient", string(chart(pembro)), "Bundle", "entry", "no Patient resource"},
		{"two patients", string(chart(patient, strings.Replace(patient, `"p1"`, `"p2"`, 1), pembro)), "Patient/p2", "", "a second Patient"},
		{"no inhibitor", string(chart(patient)), "Bundle", "entry", "no checkpoint inhibitor"},
		{"a unit with no conversion", string(chart(patient, pembro, lab("a", "1751-7", "2026-01-01", 3.5, "mmol/L"))), "Observation/a", "valueQuantity",
			`unit "mmol/L" cannot be converted: want UCUM g/dL, g/L`},
		{"two values on one date", string(chart(patient, pembro, lab("a", "731-0", "2026-01-01", 1.2, "10*9/L"), lab("b", "731-0", "2026-01-01", 1.4, "10*9/L"))),
			"Observation/b", "", "alc differs from Observation/a's on the same date"},
		{"a code we do not know", string(chart(patient, pembro, `{"resourceType": "Observation", "id": "s", "status": "final",
			"code": {"coding": [{"system": "http://loinc.org", "code": "21908-9"}]}, "valueCodeableConcept": {"text": "limited"}}`)), "Observation/s", "valueCodeableConcept", "want an AJCC stage group"},
		{"a date that is not one", string(chart(patient, strings.Replace(pembro, "2026-03-02", "March 2", 1))), "MedicationAdministration/m1", "effectiveDateTime", "is not a FHIR date"},
		{"a course without its dose", string(chart(patient, pembro, strings.Replace(course, "mcode-radiotherapy-dose-delivered-to-volume", "other", 1))), "Procedure/rt1", "extension", "without a totalDoseDelivered"},
	} {
		_, err := fhir.PatientOf([]byte(tc.body))
		var fe *fhir.Error
		if !errors.As(err, &fe) || !errors.Is(err, fhir.ErrInput) || fe.Resource != tc.resource || fe.Element != tc.element || !strings.Contains(fe.Error(), tc.says) {
			t.Errorf("%s: %v (resource %q element %q), want %s.%s saying %q", tc.name, err, res(fe), el(fe), tc.resource, tc.element, tc.says)
		}
	}
}

func res(e *fhir.Error) string {
	if e == nil {
		return ""
	}
	return e.Resource
}

func el(e *fhir.Error) string {
	if e == nil {
		return ""
	}
	return e.Element
}
