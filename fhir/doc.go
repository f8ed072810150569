// Package fhir maps HL7 FHIR R4 to abscopal and back: a patient's chart (a
// Bundle of Patient, Condition, Observations, the checkpoint inhibitor's
// MedicationRequest or MedicationAdministration and mCODE's radiotherapy
// course summary) to a cohort row (PatientOf), and a prediction to a
// RiskAssessment (RiskAssessmentOf). The resources are those of
// github.com/samply/golang-fhir-models, generated from the R4
// StructureDefinitions: plain structs that encoding/json reads and writes,
// where Google's FHIR model is protocol buffers with a JSON layer of its
// own. Mappings lists every column's source for docs/fhir.md.
package fhir
