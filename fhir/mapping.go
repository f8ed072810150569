package fhir

import (
	"sort"

	"fmt"
	"strings"

	"github.com/abscopal/abscopal/data"
)

// Mapping says where one cohort column comes from in a FHIR chart.
type Mapping struct {
	Column   string
	Resource string // the resource type read
	Element  string // the element that holds the value
	Codes    []Code // the resource is one of these (any coding matches)
	Units    []Unit // the units accepted, with their factors; none: no unit
	Rule     string // which value wins among several, and what is derived
}

// valueKind is how an Observation's value is read.
type valueKind int

const (
	quantity valueKind = iota // valueQuantity in one of the Units
	integer                   // valueInteger, or a LOINC answer (ECOG)
	boolean                   // valueBoolean
	category                  // valueCodeableConcept: an abscopal code or, for the stage, an AJCC stage group
	variant                   // LOINC 69548-6 with the gene studied: present or absent
)

// observation is a Mapping read from Observations.
type observation struct {
	Mapping
	kind valueKind
	gene Code // for variant: the gene studied (component 48018-6)
}

// latestBefore is the rule for a value measured before treatment.
const latestBefore = "the latest before the treatment start†"

// latestBeforeNote explains latestBefore under the table.
const latestBeforeNote = "† The latest value dated on or before the treatment start: the first checkpoint-inhibitor date or the radiotherapy course's start, whichever is first. Undated values count only when none is dated; two different values on that latest date are refused (422, an OperationOutcome of type conflict naming both resources). \"The latest\" alone takes the latest value whatever its date."

var cellsPerLitre = []Unit{{"10*9/L", 1}, {"10*3/uL", 1}, {"/uL", 0.001}, {"{cells}/uL", 0.001}, {"/mm3", 0.001}}

// observations are the columns read from Observations, in the schema's
// order.
var observations = []observation{
	{Mapping: Mapping{Column: "mhc1_status", Codes: []Code{{Abscopal, "mhc1-status", "Tumour MHC class I expression"}},
		Rule: "abscopal code high, low or loss; " + latestBefore}, kind: category},
	{Mapping: Mapping{Column: "hla_loh", Codes: []Code{{Abscopal, "hla-loh", "Loss of heterozygosity at the HLA class I loci"}},
		Rule: latestBefore}, kind: boolean},
	{Mapping: Mapping{Column: "ifn_pathway_defect", Codes: []Code{{Abscopal, "ifn-pathway-defect", "Interferon-gamma pathway defect (JAK1/2, B2M, ...)"}},
		Rule: latestBefore}, kind: boolean},
	{Mapping: Mapping{Column: "pdl1_tps", Codes: []Code{{LOINC, "83053-9", "PD-L1 by clone 22C3 cells/100 viable tumor cells in Tissue by Immune stain"}},
		Units: []Unit{{"%", 1}}, Rule: latestBefore}, kind: quantity},
	{Mapping: Mapping{Column: "tmb", Codes: []Code{{LOINC, "94076-7", "Mutations/Megabase [# Ratio] in Tumor"}},
		Units: []Unit{{"1/1000000{Base}", 1}, {"{mutations}/1000000{Base}", 1}}, Rule: latestBefore}, kind: quantity},
	{Mapping: Mapping{Column: "alc", Codes: []Code{{LOINC, "731-0", "Lymphocytes [#/volume] in Blood by Automated count"}, {LOINC, "26474-7", "Lymphocytes [#/volume] in Blood"}},
		Units: cellsPerLitre, Rule: latestBefore}, kind: quantity},
	{Mapping: Mapping{Column: "anc", Codes: []Code{{LOINC, "751-8", "Neutrophils [#/volume] in Blood by Automated count"}, {LOINC, "26499-4", "Neutrophils [#/volume] in Blood"}},
		Units: cellsPerLitre, Rule: latestBefore}, kind: quantity},
	{Mapping: Mapping{Column: "albumin", Codes: []Code{{LOINC, "1751-7", "Albumin [Mass/volume] in Serum or Plasma"}},
		Units: []Unit{{"g/dL", 1}, {"g/L", 0.1}}, Rule: latestBefore}, kind: quantity},
	{Mapping: Mapping{Column: "rt_nodal", Codes: []Code{{Abscopal, "rt-nodal", "Draining lymph nodes inside the radiotherapy field"}},
		Rule: latestBefore}, kind: boolean},
	{Mapping: Mapping{Column: "rt_ici_sequence", Codes: []Code{{Abscopal, "rt-ici-sequence", "Order of radiotherapy and checkpoint inhibitor"}},
		Rule: "abscopal code rt_before_ici, concurrent or ici_before_rt; without it, derived from the dates: the course ended before the first checkpoint-inhibitor date, rt_before_ici; started after it, ici_before_rt; else concurrent"}, kind: category},
	{Mapping: Mapping{Column: "mean_lung_dose_gy", Codes: []Code{{Abscopal, "mean-lung-dose", "Mean lung dose of the radiotherapy plan"}},
		Units: []Unit{{"Gy", 1}, {"cGy", 0.01}}, Rule: "the latest"}, kind: quantity},
	{Mapping: Mapping{Column: "mean_heart_dose_gy", Codes: []Code{{Abscopal, "mean-heart-dose", "Mean heart dose of the radiotherapy plan"}},
		Units: []Unit{{"Gy", 1}, {"cGy", 0.01}}, Rule: "the latest"}, kind: quantity},
	{Mapping: Mapping{Column: "mean_body_dose_gy", Codes: []Code{{Abscopal, "mean-body-dose", "Mean body dose of the radiotherapy plan"}},
		Units: []Unit{{"Gy", 1}, {"cGy", 0.01}}, Rule: "the latest"}, kind: quantity},
	{Mapping: Mapping{Column: "age", Codes: []Code{{LOINC, "30525-0", "Age"}},
		Units: []Unit{{"a", 1}, {"mo", 1.0 / 12}}, Rule: "the latest; without it, Patient.birthDate to the treatment start in years of 365.25 days"}, kind: quantity},
	{Mapping: Mapping{Column: "ecog", Codes: []Code{{LOINC, "89247-1", "ECOG Performance Status score"}},
		Rule: "an integer (mCODE) or a LOINC answer LA9622-7 (0) to LA9626-8 (4); " + latestBefore}, kind: integer},
	{Mapping: Mapping{Column: "stage", Codes: []Code{{LOINC, "21908-9", "Stage group.clinical Cancer"}, {LOINC, "21902-2", "Stage group.pathology Cancer"}},
		Rule: "an AJCC stage group (I, IA, 1A, ... IVB: its group I to IV, from the code or the text); " + latestBefore}, kind: category},
	{Mapping: Mapping{Column: "egfr_mutant", Codes: []Code{{LOINC, "69548-6", "Genetic variant assessment"}},
		Rule: "with component 48018-6 (gene studied) HGNC:3236 (EGFR): LOINC answer LA9633-4 (present) or LA9634-2 (absent); " + latestBefore}, kind: variant, gene: Code{HGNC, "HGNC:3236", "EGFR"}},
	{Mapping: Mapping{Column: "prior_systemic_therapy", Codes: []Code{{Abscopal, "prior-systemic-therapy", "Systemic therapy before the checkpoint inhibitor"}},
		Rule: latestBefore}, kind: boolean},
}

// Mappings lists where every input column comes from, in the cohort
// schema's order, for docs/fhir.md: those read from Observations and
// those read from the Patient, the Condition, the medication and the
// radiotherapy course.
func Mappings() []Mapping {
	var out []Mapping
	out = append(out, Mapping{Column: "patient_id", Resource: "Patient", Element: "id", Rule: "exactly one Patient in the Bundle"})
	for _, o := range observations {
		m := o.Mapping
		m.Resource = "Observation"
		switch o.kind {
		case quantity:
			m.Element = "valueQuantity"
		case integer:
			m.Element = "valueInteger or valueCodeableConcept"
		case boolean:
			m.Element = "valueBoolean"
		default:
			m.Element = "valueCodeableConcept"
		}
		out = append(out, m)
		if m.Column == "alc" {
			out = append(out, Mapping{Column: "alc_nadir", Resource: "Observation", Element: "valueQuantity", Codes: m.Codes, Units: m.Units,
				Rule: "the lowest lymphocyte count dated within the radiotherapy course's performedPeriod"})
		}
		if m.Column == "albumin" {
			out = append(out,
				Mapping{Column: "rt_dose_gy", Resource: "Procedure", Element: "extension[mcode-radiotherapy-dose-delivered-to-volume].extension[totalDoseDelivered].valueQuantity",
					Codes: []Code{{SNOMED, snomedRTCourse, "Radiotherapy course of treatment (regime/therapy)"}}, Units: []Unit{{"Gy", 1}, {"cGy", 0.01}},
					Rule: "mCODE's RadiotherapyCourseSummary (its profile or code); the volume given the highest dose; no course in the Bundle: no radiotherapy (0 Gy); two courses are refused"},
				Mapping{Column: "rt_fractions", Resource: "Procedure", Element: "extension[mcode-radiotherapy-dose-delivered-to-volume].extension[fractionsDelivered].valueUnsignedInt",
					Codes: []Code{{SNOMED, snomedRTCourse, "Radiotherapy course of treatment (regime/therapy)"}},
					Rule:  "that volume's fractions; without them, extension[mcode-radiotherapy-sessions].valueUnsignedInt"},
				Mapping{Column: "rt_site", Resource: "Procedure", Element: "bodySite",
					Codes: rtSiteCodes(), Rule: "the course's body site by SNOMED CT; any other site: other"})
		}
		if m.Column == "rt_ici_sequence" {
			// Its columns follow in the schema; nothing to add.
			continue
		}
		if m.Column == "mean_body_dose_gy" {
			out = append(out, Mapping{Column: "ici_class", Resource: "MedicationAdministration or MedicationRequest", Element: "medicationCodeableConcept",
				Codes: iciCodes(), Rule: "every checkpoint inhibitor given (administrations, completed or in progress) or ordered (requests: active, completed, or draft, an order being written): anti-PD-1, anti-PD-L1, anti-CTLA-4, or an anti-PD-(L)1 with an anti-CTLA-4 antibody (pd1_ctla4); none is refused (the column is required); the first date (effective[x] or authoredOn) is the treatment start"})
		}
	}
	out = append(out,
		Mapping{Column: "sex", Resource: "Patient", Element: "gender", Rule: "female or male; other or unknown: missing"},
		Mapping{Column: "histology", Resource: "Condition", Element: "code, or extension[mcode-histology-morphology-behavior].valueCodeableConcept",
			Codes: histologyCodes(), Rule: "the NSCLC diagnosis: adenocarcinoma or squamous by the codes listed; non-small cell lung cancer without either: other"})
	order := map[string]int{}
	for i, f := range schemaOrder() {
		order[f] = i
	}
	sortMappings(out, order)
	return out
}

func rtSiteCodes() []Code {
	var out []Code
	for _, s := range rtSites {
		out = append(out, s.Code)
	}
	return out
}

func iciCodes() []Code {
	var out []Code
	for _, c := range checkpointInhibitors {
		out = append(out, c.Code)
	}
	return out
}

func histologyCodes() []Code {
	var out []Code
	for _, h := range histologies {
		out = append(out, h.Code)
	}
	return out
}

// Markdown renders the mappings as docs/fhir.md's table, followed by the
// codes of abscopal's CodeSystem.
func Markdown(ms []Mapping) string {
	var b strings.Builder
	defer func() {
		b.WriteString("\n" + latestBeforeNote + "\n")
		b.WriteString("\nabscopal's CodeSystem, `" + Abscopal + "`, for what no standard code names:\n\n| code | meaning |\n|---|---|\n")
		seen := map[string]bool{}
		add := func(c Code) {
			if c.System == Abscopal && !seen[c.Code] {
				seen[c.Code] = true
				fmt.Fprintf(&b, "| `%s` | %s |\n", c.Code, c.Display)
			}
		}
		for _, m := range ms {
			for _, c := range m.Codes {
				add(c)
			}
		}
		for _, c := range []Code{outcomeAbscopal, outcomeObjective, outcomePneumonitis, outcomeProgression} {
			add(c)
		}
	}()
	b.WriteString("| column | resource | element | codes | units (factor to the schema's) | which value |\n|---|---|---|---|---|---|\n")
	for _, m := range ms {
		var codes, units []string
		for _, c := range m.Codes {
			codes = append(codes, fmt.Sprintf("%s `%s` %s", systemName(c.System), c.Code, c.Display))
		}
		for _, u := range m.Units {
			units = append(units, fmt.Sprintf("`%s` (x%.4g)", u.UCUM, u.Factor))
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s | %s |\n", m.Column, m.Resource, m.Element, strings.Join(codes, "; "), strings.Join(units, ", "), m.Rule)
	}
	return b.String()
}

func systemName(s string) string {
	switch s {
	case LOINC:
		return "LOINC"
	case SNOMED:
		return "SNOMED CT"
	case RxNorm:
		return "RxNorm"
	case Abscopal:
		return "abscopal"
	case HGNC:
		return "HGNC"
	}
	return s
}

// schemaOrder is the cohort schema's column order.
func schemaOrder() []string {
	var out []string
	for _, f := range data.CohortFields() {
		out = append(out, f.Name)
	}
	return out
}

func sortMappings(ms []Mapping, order map[string]int) {
	sort.SliceStable(ms, func(a, b int) bool { return order[ms[a].Column] < order[ms[b].Column] })
}

// PrefetchTemplates are the FHIR queries that gather what Mappings reads,
// by key, for a CDS Hooks service's discovery: the patient, the
// Observations of the codes read, the Conditions, the medications and the
// radiotherapy courses.
func PrefetchTemplates() map[string]string {
	var codes []string
	seen := map[string]bool{}
	for _, o := range observations {
		for _, c := range o.Codes {
			if tc := c.System + "|" + c.Code; !seen[tc] {
				seen[tc] = true
				codes = append(codes, tc)
			}
		}
	}
	const p = "?patient={{context.patientId}}"
	return map[string]string{
		"patient":                   "Patient/{{context.patientId}}",
		"observations":              "Observation" + p + "&code=" + strings.Join(codes, ","),
		"conditions":                "Condition" + p,
		"medicationAdministrations": "MedicationAdministration" + p,
		"medicationRequests":        "MedicationRequest" + p,
		"radiotherapy":              "Procedure" + p + "&code=" + SNOMED + "|" + snomedRTCourse,
	}
}
