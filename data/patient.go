package data

import (
	"fmt"
)

// Patient is one row of a cohort: the inputs of DESIGN.md's cohort schema, the
// outcomes, and (synthetic cohorts only) the true outcome probabilities. A nil
// pointer is a missing value. JSON names equal the Parquet column names.
type Patient struct {
	PatientID string `json:"patient_id"`

	MHC1Status       *string  `json:"mhc1_status,omitempty"`
	HLALOH           *bool    `json:"hla_loh,omitempty"`
	IFNPathwayDefect *bool    `json:"ifn_pathway_defect,omitempty"`
	PDL1TPS          *float64 `json:"pdl1_tps,omitempty"`
	TMB              *float64 `json:"tmb,omitempty"`

	ALC      *float64 `json:"alc,omitempty"`
	ALCNadir *float64 `json:"alc_nadir,omitempty"`
	ANC      *float64 `json:"anc,omitempty"`
	Albumin  *float64 `json:"albumin,omitempty"`

	RTDoseGy        *float64 `json:"rt_dose_gy,omitempty"`
	RTFractions     *int     `json:"rt_fractions,omitempty"`
	RTSite          *string  `json:"rt_site,omitempty"`
	RTNodal         *bool    `json:"rt_nodal,omitempty"`
	RTICISequence   *string  `json:"rt_ici_sequence,omitempty"`
	MeanLungDoseGy  *float64 `json:"mean_lung_dose_gy,omitempty"`
	MeanHeartDoseGy *float64 `json:"mean_heart_dose_gy,omitempty"`
	MeanBodyDoseGy  *float64 `json:"mean_body_dose_gy,omitempty"`

	ICIClass *string `json:"ici_class,omitempty"`

	Age                  *float64 `json:"age,omitempty"`
	Sex                  *string  `json:"sex,omitempty"`
	ECOG                 *int     `json:"ecog,omitempty"`
	Stage                *string  `json:"stage,omitempty"`
	Histology            *string  `json:"histology,omitempty"`
	EGFRMutant           *bool    `json:"egfr_mutant,omitempty"`
	PriorSystemicTherapy *bool    `json:"prior_systemic_therapy,omitempty"`

	AbscopalResponse  *bool    `json:"abscopal_response,omitempty"`
	ObjectiveResponse *bool    `json:"objective_response,omitempty"`
	PFSMonths         *float64 `json:"pfs_months,omitempty"`
	PFSEvent          *bool    `json:"pfs_event,omitempty"`
	OSMonths          *float64 `json:"os_months,omitempty"`
	OSEvent           *bool    `json:"os_event,omitempty"`
	PneumonitisGrade  *int     `json:"pneumonitis_grade,omitempty"`

	TruePAbscopal *float64 `json:"true_p_abscopal,omitempty"`
	TruePResponse *float64 `json:"true_p_response,omitempty"`
}

// MaxDosePerFractionGy bounds rt_dose_gy / rt_fractions. The largest single
// fractions in clinical use are about 34 Gy (lung SBRT, RTOG 0915).
const MaxDosePerFractionGy = 35

// HadRT reports whether the patient received radiotherapy (rt_dose_gy > 0).
func (p *Patient) HadRT() bool { return p.RTDoseGy != nil && *p.RTDoseGy > 0 }

// Undefined returns why the outcome column has no meaning for p, or "" when
// it has one. An abscopal response is a response outside the irradiated
// field: without radiotherapy there is none to have (the column must then be
// null), so a model has nothing to predict either, whatever its inputs.
func (p *Patient) Undefined(outcome string) string {
	if outcome == AbscopalResponse && !p.HadRT() {
		return "an abscopal response needs radiotherapy: rt_dose_gy is 0 or missing"
	}
	return ""
}

// Validate checks every field against the schema, then the rules that tie
// fields together. It returns all problems found (nil when there are none),
// each a *FieldError.
func (p *Patient) Validate() []*FieldError {
	var errs []*FieldError
	for i := range cohortFieldsList {
		f := &cohortFieldsList[i]
		if err := f.Check(f.get(p)); err != nil {
			errs = append(errs, err.(*FieldError))
		}
	}
	if len(errs) > 0 {
		// Cross-field rules assume each field is valid on its own.
		return errs
	}
	return p.checkConsistency()
}

func (p *Patient) checkConsistency() []*FieldError {
	var errs []*FieldError
	inconsistent := func(field, detail string) {
		errs = append(errs, &FieldError{Field: field, Reason: ReasonInconsistent, Detail: detail})
	}
	if p.HadRT() {
		for i := range cohortFieldsList {
			f := &cohortFieldsList[i]
			if f.RequiredWhenRT && !f.get(p).Valid {
				errs = append(errs, &FieldError{Field: f.Name, Reason: ReasonNull,
					Detail: "required when rt_dose_gy > 0", Allowed: f.Allowed()})
			}
		}
		if p.RTFractions != nil && *p.RTFractions < 1 {
			inconsistent("rt_fractions", fmt.Sprintf("%d fractions with rt_dose_gy %g; must be at least 1 when rt_dose_gy > 0", *p.RTFractions, *p.RTDoseGy))
		} else if p.RTFractions != nil {
			if d := *p.RTDoseGy / float64(*p.RTFractions); d > MaxDosePerFractionGy {
				inconsistent("rt_dose_gy", fmt.Sprintf("dose per fraction %g Gy exceeds %d Gy", d, MaxDosePerFractionGy))
			}
		}
		return errs
	}
	if p.RTFractions != nil && *p.RTFractions > 0 {
		inconsistent("rt_fractions", fmt.Sprintf("%d fractions but rt_dose_gy is 0 or null", *p.RTFractions))
	}
	if p.AbscopalResponse != nil {
		inconsistent(AbscopalResponse, "must be null when rt_dose_gy is 0 or null (nothing was irradiated)")
	}
	return errs
}
