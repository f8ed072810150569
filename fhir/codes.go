package fhir

// Code systems.
const (
	LOINC  = "http://loinc.org"
	SNOMED = "http://snomed.info/sct"
	RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
	UCUM   = "http://unitsofmeasure.org"
	HGNC   = "http://www.genenames.org/geneId"
	AJCC   = "http://cancerstaging.org"
	// Abscopal is abscopal's own CodeSystem, for the inputs no standard
	// code names (MHC-I status, an IFN-pathway defect, HLA LOH, ...) and
	// for the outcomes it predicts; docs/fhir.md lists its codes.
	Abscopal = "https://github.com/abscopal/abscopal/fhir/CodeSystem/abscopal"
	// AbscopalExtension prefixes abscopal's extensions' URLs.
	AbscopalExtension = "https://github.com/abscopal/abscopal/fhir/StructureDefinition/"
)

// mCODE's profile and extensions of a radiotherapy course summary (mCODE
// STU2 and later).
const (
	mcodeRTCourse     = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-course-summary"
	mcodeRTSessions   = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-sessions"
	mcodeDoseToVolume = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume"
	mcodeHistology    = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
	// snomedRTCourse is "Radiotherapy course of treatment (regime/therapy)",
	// the course summary's code.
	snomedRTCourse = "1217123003"
)

// Code is a coding: a system and a code, with its display.
type Code struct {
	System, Code, Display string
}

// Unit is a UCUM unit a value may come in, and the factor that takes it
// to the cohort schema's unit.
type Unit struct {
	UCUM   string
	Factor float64
}

// checkpoint inhibitors by RxNorm ingredient code, and the class each
// belongs to: an anti-PD-1 or anti-PD-L1 antibody with an anti-CTLA-4 one
// is the combination, pd1_ctla4.
var checkpointInhibitors = []struct {
	Code
	Class string
}{
	{Code{RxNorm, "1547545", "pembrolizumab"}, "pd1"},
	{Code{RxNorm, "1597876", "nivolumab"}, "pd1"},
	{Code{RxNorm, "2058826", "cemiplimab"}, "pd1"},
	{Code{RxNorm, "1792776", "atezolizumab"}, "pdl1"},
	{Code{RxNorm, "1919503", "durvalumab"}, "pdl1"},
	{Code{RxNorm, "1875534", "avelumab"}, "pdl1"},
	{Code{RxNorm, "1094833", "ipilimumab"}, "ctla4"},
}

// rtSites are the radiotherapy target sites of the cohort schema by
// SNOMED CT body structure; any other body site is "other".
var rtSites = []struct {
	Code
	Site string
}{
	{Code{SNOMED, "39607008", "Lung structure"}, "lung"},
	{Code{SNOMED, "72410000", "Mediastinal structure"}, "mediastinum"},
	{Code{SNOMED, "12738006", "Brain structure"}, "brain"},
	{Code{SNOMED, "272673000", "Bone structure"}, "bone"},
	{Code{SNOMED, "10200004", "Liver structure"}, "liver"},
	{Code{SNOMED, "23451007", "Adrenal gland structure"}, "adrenal"},
}

// histologies by SNOMED CT: the diagnosis (a disorder) or mCODE's
// histology-morphology-behavior extension (a morphology).
var histologies = []struct {
	Code
	Histology string
}{
	{Code{SNOMED, "254626006", "Adenocarcinoma of lung (disorder)"}, "adenocarcinoma"},
	{Code{SNOMED, "35917007", "Adenocarcinoma, no subtype (morphologic abnormality)"}, "adenocarcinoma"},
	{Code{SNOMED, "254634000", "Squamous cell carcinoma of lung (disorder)"}, "squamous"},
	{Code{SNOMED, "28899001", "Squamous cell carcinoma, no ICD-O subtype (morphologic abnormality)"}, "squamous"},
	{Code{SNOMED, "254637007", "Non-small cell lung cancer (disorder)"}, ""},
}

// ecogAnswers are LOINC's answers to 89247-1 (ECOG performance status).
var ecogAnswers = map[string]int{"LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4}

// Outcome codes of the predictions.
var (
	outcomeAbscopal    = Code{Abscopal, "abscopal-response", "Abscopal response: a non-irradiated lesion responds"}
	outcomeObjective   = Code{Abscopal, "objective-response", "Objective response (RECIST complete or partial response)"}
	outcomePneumonitis = Code{Abscopal, "pneumonitis-grade-2-or-more", "Pneumonitis of CTCAE grade 2 or more"}
	outcomeDeath       = Code{SNOMED, "419620001", "Death (event)"}
	outcomeProgression = Code{Abscopal, "progression-or-death", "Disease progression or death"}
)
