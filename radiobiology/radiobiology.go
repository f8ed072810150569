// Package radiobiology holds the dose arithmetic of radiotherapy that the
// features, the synthetic generator and the API share: dose per fraction,
// the biologically effective dose (BED) and the equivalent dose in 2-Gy
// fractions (EQD2) of the linear-quadratic model, the effective dose to
// immune cells (EDIC), and the constants they are read with. It imports
// nothing of abscopal's: every package that needs a dose asks it.
package radiobiology

import "math"

// TumourAlphaBetaGy is the alpha/beta ratio of tumour tissue (Gy), which
// BED and EQD2 take unless a spec says otherwise, and the API's regimen
// comparison reports them at.
const TumourAlphaBetaGy = 10

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
	AblativeMinBED10Gy    = 100 // BED at alpha/beta = TumourAlphaBetaGy
	SingleHighDoseMinGy   = 15  // a single fraction of at least this dose
)

// EDIC returns the effective dose to immune cells in Gy (Jin et al., Int J
// Radiat Oncol Biol Phys 2021, from RTOG 0617):
// 0.12 MLD + 0.08 MHD + [0.45 + 0.35 x 0.85 x sqrt(n/45)] MBD, with the mean
// lung, heart and body doses in Gy and n fractions.
func EDIC(meanLungGy, meanHeartGy, meanBodyGy float64, fractions int) float64 {
	return 0.12*meanLungGy + 0.08*meanHeartGy + (0.45+0.35*0.85*math.Sqrt(float64(fractions)/45))*meanBodyGy
}
