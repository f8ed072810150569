package synth

import (
	"math"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/radiobiology"
	"github.com/abscopal/abscopal/stats"
)

// Coefficients of the outcome model, on the log-odds scale. Odds ratios from
// ANCHORS.md are noted where they set a value; the intercepts and the two RT
// priming strengths were tuned so that the arm-level rates land on the
// published ones (TestAnchors checks them on 40,000 patients).
const (
	responseIntercept = -1.22 // objective response, PD-1 alone, reference patient
	abscopalIntercept = -2.29 // abscopal response after RT with no priming benefit
	rtResponse        = 1.65  // RT priming effect on objective response, multi-fraction SBRT
	rtAbscopal        = 3.07  // RT priming effect on abscopal response, multi-fraction SBRT

	// Priming relative to multi-fraction SBRT (8x3, 12.5x4, 10x5): a single
	// fraction >= 15 Gy raises Tregs (smaller benefit); 2-3 Gy daily fractions
	// prime little.
	primingSingleHigh   = 0.60
	primingConventional = 0.40

	mhc1LowLogOR  = -0.60 // between high and loss
	mhc1LossLogOR = -1.25 // OR 0.29 (ANCHORS: about 0.3; B2M loss)
	ifnLogOR      = -1.25 // OR 0.29 (Shin, Cancer Discov 2017)
	hlaLOHLogOR   = -0.12 // weak in NSCLC (Chowell cohort)
	tps1to49LogOR = 0.45
	tps50LogOR    = 1.10 // PD-L1 TPS >= 50%
	tmbPerLog     = 0.30 // per natural-log unit of TMB around 7 mut/Mb
	alcPerLog     = 0.55 // per natural-log unit of baseline ALC around 1.4
	nlrHighLogOR  = -0.50
	albuminPerGdL = 0.40
	ecog1LogOR    = -0.20
	ecog2LogOR    = -0.60
	egfrLogOR     = -0.70
	priorSysLogOR = -0.15
	pdl1ICILogOR  = -0.10
	ctla4LogOR    = -0.80
	dualLogOR     = 0.15

	severeLymphopeniaLogOR = -0.588 // nadir ALC < 0.23: OR 1.8 for a worse outcome
	nodalLogOR             = -0.35  // draining nodes in the field (response)
	nodalAbscopalLogOR     = -0.45  // and abscopal response
	edicPerGy              = -0.04  // response, per Gy of EDIC
	edicAbscopalPerGy      = -0.05  // abscopal, per Gy of EDIC

	// Multipliers of the RT priming effect.
	iciBeforeRTPriming = 0.70 // ICI before RT (KEYNOTE-001: prior RT did better)
	ctla4Priming       = 0.60 // CTLA-4 alone with SBRT does worse than PD-(L)1
	tpsNegPriming      = 1.40 // RT adds most in PD-L1 < 1% (PEMBRO-RT)
	tpsHighPriming     = 0.60

	// Share of RT patients with a nadir ALC < 0.23 x 10^9/L, used when the
	// nadir is missing (measured on a 200,000-patient draw, seed 1).
	severeLymphopeniaShare = 0.087
)

// Probabilities returns the probabilities of abscopal and of objective
// response that the generator draws outcomes from, as a function of the
// observed record only. pAbscopal is NaN for a patient without RT. It is
// meaningful for any valid cohort record, not only generated ones, which
// lets tests ask what the truth is for a patient they build.
func Probabilities(p *data.Patient) (pAbscopal, pResponse float64) {
	base := immuneTerms(p)

	// PD-L1 acts mostly on response to ICI; it modifies the RT benefit.
	tpsEff, tpsMult := 0.0, 1.0
	switch {
	case p.PDL1TPS == nil:
		tpsEff = (0 + tps1to49LogOR + tps50LogOR) / 3
		tpsMult = (tpsNegPriming + 1 + tpsHighPriming) / 3
	case *p.PDL1TPS >= 50:
		tpsEff, tpsMult = tps50LogOR, tpsHighPriming
	case *p.PDL1TPS >= 1:
		tpsEff = tps1to49LogOR
	default:
		tpsMult = tpsNegPriming
	}
	ici := ""
	if p.ICIClass != nil {
		ici = *p.ICIClass
	}
	iciEff := 0.0
	switch ici {
	case data.ICIPDL1:
		iciEff = pdl1ICILogOR
	case data.ICICTLA4:
		iciEff = ctla4LogOR
	case data.ICIPD1CTLA4:
		iciEff = dualLogOR
	}

	zr := responseIntercept + base + tpsEff + iciEff
	if !p.HadRT() {
		return math.NaN(), stats.Sigmoid(zr)
	}

	priming := primingOf(*p.RTDoseGy, *p.RTFractions)
	if p.RTICISequence != nil && *p.RTICISequence == data.SeqICIBeforeRT {
		priming *= iciBeforeRTPriming
	} else if p.RTICISequence == nil {
		priming *= 0.20*iciBeforeRTPriming + 0.80
	}
	if ici == data.ICICTLA4 {
		priming *= ctla4Priming
	}
	harm := edicOf(p)*edicPerGy + lymphopeniaTerm(p)
	harmA := edicOf(p)*edicAbscopalPerGy + lymphopeniaTerm(p)
	nodal := 0.0
	switch {
	case p.RTNodal == nil:
		nodal = 0.3 // about the share of courses with nodes in the field
	case *p.RTNodal:
		nodal = 1
	}
	zr += rtResponse*priming*tpsMult + harm + nodal*nodalLogOR
	za := abscopalIntercept + base + tpsEff/2 + iciEff + rtAbscopal*priming + harmA + nodal*nodalAbscopalLogOR
	return stats.Sigmoid(za), stats.Sigmoid(zr)
}

// immuneTerms sums the effects shared by both outcomes: host and tumour
// immune competence.
func immuneTerms(p *data.Patient) float64 {
	z := 0.0
	switch {
	case p.MHC1Status == nil:
		z += 0.25*mhc1LowLogOR + 0.15*mhc1LossLogOR
	case *p.MHC1Status == data.MHC1Low:
		z += mhc1LowLogOR
	case *p.MHC1Status == data.MHC1Loss:
		z += mhc1LossLogOR
	}
	z += boolEffect(p.IFNPathwayDefect, ifnLogOR, 0.08)
	z += boolEffect(p.HLALOH, hlaLOHLogOR, 0.22)
	z += boolEffect(p.EGFRMutant, egfrLogOR, 0.085)
	z += boolEffect(p.PriorSystemicTherapy, priorSysLogOR, 0.45)
	if p.TMB != nil {
		z += tmbPerLog * math.Log(math.Max(*p.TMB, 0.1)/7)
	}
	if p.ALC != nil {
		z += alcPerLog * math.Log(math.Max(*p.ALC, 0.05)/1.4)
	}
	if p.ALC != nil && p.ANC != nil && *p.ALC > 0 {
		if *p.ANC / *p.ALC >= 6.4 {
			z += nlrHighLogOR
		}
	} else {
		z += nlrHighLogOR * nlrHighShare()
	}
	if p.Albumin != nil {
		z += albuminPerGdL * (*p.Albumin - 3.8)
	}
	switch {
	case p.ECOG == nil:
		z += 0.55*ecog1LogOR + 0.10*ecog2LogOR
	case *p.ECOG == 1:
		z += ecog1LogOR
	case *p.ECOG >= 2:
		z += ecog2LogOR
	}
	return z
}

// nlrHighShare is P(ANC/ALC >= 6.4) under the generator's lognormal ALC and
// ANC: log NLR ~ Normal(ln(4.6/1.4), sqrt(0.45^2 + 0.4^2)).
func nlrHighShare() float64 {
	sd := math.Hypot(0.45, 0.4)
	z := (math.Log(6.4) - math.Log(4.6/1.4)) / sd
	return 0.5 * math.Erfc(z/math.Sqrt2)
}

func boolEffect(b *bool, logOR, share float64) float64 {
	switch {
	case b == nil:
		return share * logOR
	case *b:
		return logOR
	}
	return 0
}

// primingOf is the RT priming strength of a regimen relative to
// multi-fraction SBRT.
func primingOf(doseGy float64, fractions int) float64 {
	d := doseGy / float64(fractions)
	switch {
	case d < 5:
		return primingConventional
	case fractions == 1 && d >= 15:
		return primingSingleHigh
	default:
		return 1
	}
}

// edicOf returns the EDIC of the record, or, when the mean doses are missing,
// the EDIC of the middle of the generator's organ-dose ranges for the
// regimen and site.
func edicOf(p *data.Patient) float64 {
	n := *p.RTFractions
	if p.MeanLungDoseGy != nil && p.MeanHeartDoseGy != nil && p.MeanBodyDoseGy != nil {
		return radiobiology.EDIC(*p.MeanLungDoseGy, *p.MeanHeartDoseGy, *p.MeanBodyDoseGy, n)
	}
	thoracic := p.RTSite != nil && (*p.RTSite == "lung" || *p.RTSite == "mediastinum")
	conventional := *p.RTDoseGy/float64(n) < 5
	l, h, b := organDoseFractions(thoracic, conventional)
	mid := func(r [2]float64) float64 { return *p.RTDoseGy * (r[0] + r[1]) / 2 }
	return radiobiology.EDIC(mid(l), mid(h), mid(b), n)
}

func lymphopeniaTerm(p *data.Patient) float64 {
	switch {
	case p.ALCNadir == nil:
		return severeLymphopeniaShare * severeLymphopeniaLogOR
	case *p.ALCNadir < 0.23:
		return severeLymphopeniaLogOR
	}
	return 0
}
