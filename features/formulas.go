// Package features turns cohort records into model inputs: the built-in
// radioimmunotherapy (iRT) features (BED, EQD2, EDIC, lymphopenia grades,
// ...), feature specs that name the columns of any Parquet file, the fitted
// pipeline (category levels, imputation, scaling) that is learned on
// training rows and serialized with a model, and export for notebooks.
//
// The fitted pipeline is the one code path from a record to a feature
// vector, for a single patient at serving time and for a whole cohort at
// training time.
package features

import "math"

// DefaultAlphaBetaGy is the alpha/beta ratio of tumour tissue used for BED and
// EQD2 unless a spec says otherwise.
const DefaultAlphaBetaGy = 10

// DosePerFraction returns d = D/n in Gy, or 0 when there was no radiotherapy
// (D = 0 or n = 0).
func DosePerFraction(doseGy float64, fractions int) float64 {
	if doseGy <= 0 || fractions <= 0 {
		return 0
	}
	return doseGy / float64(fractions)
}

// BED returns the biologically effective dose of D Gy in n fractions,
// D (1 + d/(alpha/beta)) with d = D/n (linear-quadratic model; Fowler,
// Br J Radiol 1989). It is 0 without radiotherapy.
func BED(doseGy float64, fractions int, alphaBetaGy float64) float64 {
	d := DosePerFraction(doseGy, fractions)
	if d == 0 {
		return 0
	}
	return doseGy * (1 + d/alphaBetaGy)
}

// EQD2 returns the equivalent dose in 2-Gy fractions, D (d + alpha/beta) /
// (2 + alpha/beta). It is 0 without radiotherapy.
func EQD2(doseGy float64, fractions int, alphaBetaGy float64) float64 {
	d := DosePerFraction(doseGy, fractions)
	if d == 0 {
		return 0
	}
	return doseGy * (d + alphaBetaGy) / (2 + alphaBetaGy)
}

// Thresholds of the dose flags.
const (
	HypofractionatedMinGy = 5   // dose per fraction
	AblativeMinBED10Gy    = 100 // BED at alpha/beta = 10 Gy
	SingleHighDoseMinGy   = 15  // a single fraction of at least this dose
)

// EDIC returns the effective dose to immune cells in Gy (Jin et al., Int J
// Radiat Oncol Biol Phys 2021, from RTOG 0617):
// 0.12 MLD + 0.08 MHD + [0.45 + 0.35 x 0.85 x sqrt(n/45)] MBD, with the mean
// lung, heart and body doses in Gy and n fractions.
func EDIC(meanLungGy, meanHeartGy, meanBodyGy float64, fractions int) float64 {
	return 0.12*meanLungGy + 0.08*meanHeartGy + (0.45+0.35*0.85*math.Sqrt(float64(fractions)/45))*meanBodyGy
}

// LymphopeniaGrade returns the CTCAE v5 grade of "lymphocyte count decreased"
// for an absolute lymphocyte count in 10^9/L: 0 for >= 1.0 (taking 1.0 as
// the lower limit of normal), 1 for [0.8, 1.0), 2 for [0.5, 0.8), 3 for
// [0.2, 0.5), 4 below 0.2.
func LymphopeniaGrade(alc float64) int {
	switch {
	case alc >= 1.0:
		return 0
	case alc >= 0.8:
		return 1
	case alc >= 0.5:
		return 2
	case alc >= 0.2:
		return 3
	default:
		return 4
	}
}
