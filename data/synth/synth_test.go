package synth

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/radiobiology"
	"github.com/abscopal/abscopal/stats"
)

// anchorN is the size of the draw the anchors are checked on (ANCHORS.md asks
// for n >= 20,000). At 40,000 the smallest checked group (CTLA-4 + SBRT,
// about 1,100 patients) has a standard error under 1.5 points.
const anchorN = 40000

type rate struct{ hit, n float64 }

func (r *rate) add(hit bool) {
	r.n++
	if hit {
		r.hit++
	}
}
func (r rate) p() float64 { return r.hit / r.n }

func arm(p *data.Patient) string {
	switch {
	case !p.HadRT():
		return "ici"
	case *p.RTDoseGy/float64(*p.RTFractions) >= 5:
		return "sbrt"
	default:
		return "conventional"
	}
}

func isRegimen(p *data.Patient, dose float64, n int) bool {
	return p.HadRT() && *p.RTDoseGy == dose && *p.RTFractions == n
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.4f, want in [%.4g, %.4g]", what, got, lo, hi)
	} else {
		t.Logf("%s = %.4f (allowed [%.4g, %.4g])", what, got, lo, hi)
	}
}

func greater(t *testing.T, what string, a, b float64) {
	t.Helper()
	if !(a > b) {
		t.Errorf("%s: %.4f should exceed %.4f", what, a, b)
	} else {
		t.Logf("%s: %.4f > %.4f", what, a, b)
	}
}

// oddsRatio returns the crude odds ratio of outcome for exposed vs unexposed.
func oddsRatio(exposed, unexposed rate) float64 {
	return (exposed.hit / (exposed.n - exposed.hit)) / (unexposed.hit / (unexposed.n - unexposed.hit))
}

// crudeHazardRatio is the ratio of event rates per person-month, the maximum
// likelihood hazard ratio under exponential survival.
func crudeHazardRatio(ps []data.Patient, exposed, unexposed func(*data.Patient) bool, os bool) float64 {
	var ev, time [2]float64
	for i := range ps {
		p := &ps[i]
		g := -1
		switch {
		case exposed(p):
			g = 0
		case unexposed(p):
			g = 1
		}
		if g < 0 {
			continue
		}
		if os {
			time[g] += *p.OSMonths
			if *p.OSEvent {
				ev[g]++
			}
		} else {
			time[g] += *p.PFSMonths
			if *p.PFSEvent {
				ev[g]++
			}
		}
	}
	return (ev[0] / time[0]) / (ev[1] / time[1])
}

func TestAnchors(t *testing.T) {
	ps := Generate(anchorN, 1)

	t.Run("survival medians by arm", func(t *testing.T) {
		median := func(keep func(*data.Patient) bool, os bool) float64 {
			var tm []float64
			var ev []bool
			for i := range ps {
				p := &ps[i]
				if !keep(p) {
					continue
				}
				if os {
					tm, ev = append(tm, *p.OSMonths), append(ev, *p.OSEvent)
				} else {
					tm, ev = append(tm, *p.PFSMonths), append(ev, *p.PFSEvent)
				}
			}
			m, ok := stats.KaplanMeierOf(tm, ev).Quantile(0.5)
			if !ok {
				t.Fatal("a median not reached")
			}
			return m
		}
		ici := func(p *data.Patient) bool { return !p.HadRT() }
		sbrt8x3 := func(p *data.Patient) bool { return isRegimen(p, 24, 3) }
		anyRT := func(p *data.Patient) bool { return p.HadRT() }
		responder := func(p *data.Patient) bool { return *p.ObjectiveResponse }
		nonResponder := func(p *data.Patient) bool { return !*p.ObjectiveResponse }
		// PEMBRO-RT (Theelen, JAMA Oncol 2019), each Kaplan-Meier median
		// within 30% (ANCHORS.md).
		for _, a := range []struct {
			what      string
			keep      func(*data.Patient) bool
			os        bool
			published float64
		}{
			{"median PFS, ICI alone (PEMBRO-RT 1.9)", ici, false, 1.9},
			{"median OS, ICI alone (PEMBRO-RT 7.6)", ici, true, 7.6},
			{"median PFS, 8 Gy x 3 + ICI (PEMBRO-RT 6.6)", sbrt8x3, false, 6.6},
			{"median OS, 8 Gy x 3 + ICI (PEMBRO-RT 15.9)", sbrt8x3, true, 15.9},
		} {
			within(t, a.what, median(a.keep, a.os), 0.7*a.published, 1.3*a.published)
		}
		// The directions of the pooled analysis and KEYNOTE-001: any RT
		// with ICI longer than ICI alone; responders longer than the rest.
		for _, os := range []bool{false, true} {
			greater(t, "median, any RT + ICI vs ICI alone", median(anyRT, os), median(ici, os))
			greater(t, "median, responders vs non-responders", median(responder, os), median(nonResponder, os))
		}
	})

	t.Run("response rates by arm", func(t *testing.T) {
		orr := map[string]*rate{"ici": {}, "sbrt": {}, "conventional": {}}
		abs := map[string]*rate{"ici": {}, "sbrt": {}, "conventional": {}}
		for i := range ps {
			p := &ps[i]
			a := arm(p)
			orr[a].add(*p.ObjectiveResponse)
			if p.AbscopalResponse != nil {
				abs[a].add(*p.AbscopalResponse)
			}
		}
		// PEMBRO-RT / pooled analysis (Theelen 2019, 2021); MDACC phase I/II.
		within(t, "ORR, ICI alone", orr["ici"].p(), 0.16, 0.24)
		within(t, "ORR, SBRT + ICI", orr["sbrt"].p(), 0.36, 0.50)
		within(t, "abscopal, SBRT + ICI", abs["sbrt"].p(), 0.38, 0.42)
		within(t, "ORR, conventional RT + ICI", orr["conventional"].p(), 0.18, 0.24)
		within(t, "abscopal, conventional RT + ICI", abs["conventional"].p(), 0.05, 0.15)
		if abs["ici"].n != 0 {
			t.Errorf("%v patients without RT have an abscopal label; want null", abs["ici"].n)
		}
	})

	t.Run("tumour immunity", func(t *testing.T) {
		mhc := map[string]*rate{data.MHC1High: {}, data.MHC1Low: {}, data.MHC1Loss: {}}
		var ifn, noIFN, loh, noLOH rate
		var lossInResp, lossInNonResp rate
		for i := range ps {
			p := &ps[i]
			y := *p.ObjectiveResponse
			if p.MHC1Status != nil {
				mhc[*p.MHC1Status].add(y)
				if y {
					lossInResp.add(*p.MHC1Status == data.MHC1Loss)
				} else {
					lossInNonResp.add(*p.MHC1Status == data.MHC1Loss)
				}
			}
			if p.IFNPathwayDefect != nil {
				if *p.IFNPathwayDefect {
					ifn.add(y)
				} else {
					noIFN.add(y)
				}
			}
			if p.HLALOH != nil {
				if *p.HLALOH {
					loh.add(y)
				} else {
					noLOH.add(y)
				}
			}
		}
		// Crude ORs are slightly attenuated from the conditional ones (0.29).
		within(t, "OR response, MHC-I loss vs high", oddsRatio(*mhc[data.MHC1Loss], *mhc[data.MHC1High]), 0.2, 0.45)
		lowOR := oddsRatio(*mhc[data.MHC1Low], *mhc[data.MHC1High])
		within(t, "OR response, MHC-I low vs high (between loss and 1)", lowOR, oddsRatio(*mhc[data.MHC1Loss], *mhc[data.MHC1High]), 1)
		// Sade-Feldman 2017: B2M loss about three times as common in non-responders.
		within(t, "MHC-I loss share, non-responders / responders", lossInNonResp.p()/lossInResp.p(), 2, 4)
		within(t, "OR response, IFN-pathway defect", oddsRatio(ifn, noIFN), 0.2, 0.45)
		within(t, "|log OR| response, HLA LOH (weak)", math.Abs(math.Log(oddsRatio(loh, noLOH))), 0, 0.3)
		if oddsRatio(loh, noLOH) >= 1 {
			t.Errorf("HLA LOH OR = %.3f; want a small harm (< 1)", oddsRatio(loh, noLOH))
		}
	})

	t.Run("PD-L1", func(t *testing.T) {
		var ici, sbrt [3]rate // by TPS < 1, 1-49, >= 50
		for i := range ps {
			p := &ps[i]
			if p.PDL1TPS == nil {
				continue
			}
			c := 0
			switch {
			case *p.PDL1TPS >= 50:
				c = 2
			case *p.PDL1TPS >= 1:
				c = 1
			}
			switch arm(p) {
			case "ici":
				ici[c].add(*p.ObjectiveResponse)
			case "sbrt":
				sbrt[c].add(*p.ObjectiveResponse)
			}
		}
		greater(t, "ORR on ICI alone, TPS >= 50% vs < 1%", ici[2].p(), ici[0].p())
		// PEMBRO-RT subgroup: RT adds most in PD-L1-negative tumours.
		greater(t, "RT benefit (odds ratio) TPS < 1% vs >= 50%", oddsRatio(sbrt[0], ici[0]), oddsRatio(sbrt[2], ici[2]))
		greater(t, "RT benefit (points) TPS < 1% vs >= 50%", sbrt[0].p()-ici[0].p(), sbrt[2].p()-ici[2].p())
	})

	t.Run("lymphocytes", func(t *testing.T) {
		var alcs []float64
		for i := range ps {
			if ps[i].ALC != nil {
				alcs = append(alcs, *ps[i].ALC)
			}
		}
		sort.Float64s(alcs)
		q1, q3 := alcs[len(alcs)/4], alcs[3*len(alcs)/4]
		var low, high rate
		for i := range ps {
			p := &ps[i]
			if p.ALC == nil {
				continue
			}
			if *p.ALC <= q1 {
				low.add(*p.ObjectiveResponse)
			} else if *p.ALC >= q3 {
				high.add(*p.ObjectiveResponse)
			}
		}
		greater(t, "ORR, highest vs lowest ALC quartile", high.p(), low.p())
		hr := crudeHazardRatio(ps, func(p *data.Patient) bool { return p.ALC != nil && *p.ALC >= q3 },
			func(p *data.Patient) bool { return p.ALC != nil && *p.ALC <= q1 }, false)
		within(t, "PFS HR, highest vs lowest ALC quartile (published 0.28)", hr, 0.2, 0.6)

		// Severe RT-induced lymphopenia, OR about 1.8 for a worse outcome,
		// within conventional courses (where it occurs) to avoid confounding
		// by regimen.
		var sev, notSev rate
		for i := range ps {
			p := &ps[i]
			if arm(p) != "conventional" || p.ALCNadir == nil {
				continue
			}
			if *p.ALCNadir < 0.23 {
				sev.add(!*p.ObjectiveResponse)
			} else {
				notSev.add(!*p.ObjectiveResponse)
			}
		}
		within(t, "OR no response, nadir ALC < 0.23 (conventional RT)", oddsRatio(sev, notSev), 1.3, 3.0)

		nlr := func(p *data.Patient) (float64, bool) {
			if p.ALC == nil || p.ANC == nil {
				return 0, false
			}
			return *p.ANC / *p.ALC, true
		}
		hrNLR := crudeHazardRatio(ps, func(p *data.Patient) bool { v, ok := nlr(p); return ok && v >= 6.4 },
			func(p *data.Patient) bool { v, ok := nlr(p); return ok && v < 6.4 }, true)
		within(t, "OS HR, NLR >= 6.4 (published 2.3)", hrNLR, 1.5, 4)
	})

	t.Run("dose and fractionation", func(t *testing.T) {
		abscopal := func(keep func(*data.Patient) bool) rate {
			var r rate
			for i := range ps {
				p := &ps[i]
				if p.AbscopalResponse != nil && keep(p) {
					r.add(*p.AbscopalResponse)
				}
			}
			return r
		}
		r8x3 := abscopal(func(p *data.Patient) bool { return isRegimen(p, 24, 3) })
		r50x4 := abscopal(func(p *data.Patient) bool { return isRegimen(p, 50, 4) })
		r45x15 := abscopal(func(p *data.Patient) bool { return isRegimen(p, 45, 15) })
		r60x30 := abscopal(func(p *data.Patient) bool { return isRegimen(p, 60, 30) })
		single := abscopal(func(p *data.Patient) bool { return p.HadRT() && *p.RTFractions == 1 && *p.RTDoseGy >= 15 })
		greater(t, "abscopal, 8 Gy x 3 vs 45 Gy / 15", r8x3.p(), r45x15.p())
		greater(t, "abscopal, 50 Gy / 4 vs 60 Gy / 30", r50x4.p(), r60x30.p())
		greater(t, "abscopal, 8 Gy x 3 vs a single fraction >= 15 Gy", r8x3.p(), single.p())
		greater(t, "abscopal, single fraction >= 15 Gy vs 45 Gy / 15", single.p(), r45x15.p())
	})

	t.Run("nodes, EDIC, sequence, ICI class", func(t *testing.T) {
		var nodal, noNodal rate
		for i := range ps {
			p := &ps[i]
			if arm(p) == "sbrt" && p.AbscopalResponse != nil && p.RTNodal != nil {
				if *p.RTNodal {
					nodal.add(*p.AbscopalResponse)
				} else {
					noNodal.add(*p.AbscopalResponse)
				}
			}
		}
		greater(t, "abscopal (SBRT), nodes outside vs inside the field", noNodal.p(), nodal.p())

		// EDIC: within 60 Gy / 30 courses, compare the extreme thirds.
		var edics []float64
		edic := func(p *data.Patient) (float64, bool) {
			if !isRegimen(p, 60, 30) || p.MeanLungDoseGy == nil {
				return 0, false
			}
			return radiobiology.EDIC(*p.MeanLungDoseGy, *p.MeanHeartDoseGy, *p.MeanBodyDoseGy, 30), true
		}
		for i := range ps {
			if e, ok := edic(&ps[i]); ok {
				edics = append(edics, e)
			}
		}
		sort.Float64s(edics)
		lo, hi := edics[len(edics)/3], edics[2*len(edics)/3]
		hr := crudeHazardRatio(ps, func(p *data.Patient) bool { e, ok := edic(p); return ok && e >= hi },
			func(p *data.Patient) bool { e, ok := edic(p); return ok && e <= lo }, true)
		greater(t, "OS HR, highest vs lowest EDIC third (60 Gy / 30)", hr, 1)

		seq := map[string]*rate{}
		seqORR := map[string]*rate{}
		classORR := map[string]*rate{}
		for i := range ps {
			p := &ps[i]
			if arm(p) != "sbrt" {
				continue
			}
			if p.RTICISequence != nil {
				s := *p.RTICISequence
				if seq[s] == nil {
					seq[s], seqORR[s] = &rate{}, &rate{}
				}
				seqORR[s].add(*p.ObjectiveResponse)
				if p.AbscopalResponse != nil {
					seq[s].add(*p.AbscopalResponse)
				}
			}
			c := *p.ICIClass
			if classORR[c] == nil {
				classORR[c] = &rate{}
			}
			classORR[c].add(*p.ObjectiveResponse)
		}
		for _, s := range []string{data.SeqRTBeforeICI, data.SeqConcurrent} {
			greater(t, "abscopal (SBRT), "+s+" vs ici_before_rt", seq[s].p(), seq[data.SeqICIBeforeRT].p())
			greater(t, "ORR (SBRT), "+s+" vs ici_before_rt", seqORR[s].p(), seqORR[data.SeqICIBeforeRT].p())
		}
		greater(t, "ORR with SBRT, PD-1 vs CTLA-4", classORR[data.ICIPD1].p(), classORR[data.ICICTLA4].p())
		greater(t, "ORR with SBRT, PD-L1 vs CTLA-4", classORR[data.ICIPDL1].p(), classORR[data.ICICTLA4].p())
	})

	t.Run("toxicity", func(t *testing.T) {
		var none, thoracicConv, thoracicAny, pd1, dual rate
		for i := range ps {
			p := &ps[i]
			g3 := *p.PneumonitisGrade >= 3
			thoracic := p.HadRT() && (*p.RTSite == "lung" || *p.RTSite == "mediastinum")
			switch {
			case !thoracic:
				none.add(g3)
			default:
				thoracicAny.add(g3)
				if arm(p) == "conventional" {
					thoracicConv.add(g3)
				}
			}
			switch *p.ICIClass {
			case data.ICIPD1:
				pd1.add(g3)
			case data.ICIPD1CTLA4:
				dual.add(g3)
			}
		}
		within(t, "grade >= 3 pneumonitis without thoracic RT", none.p(), 0.02, 0.04)
		greater(t, "grade >= 3 pneumonitis, thoracic RT vs none", thoracicAny.p(), none.p())
		within(t, "grade >= 3 pneumonitis, conventional thoracic RT (14.3% real world)", thoracicConv.p(), 0.10, 0.18)
		greater(t, "grade >= 3 pneumonitis, PD-1 + CTLA-4 vs PD-1", dual.p(), pd1.p())
	})

	t.Run("marginals", func(t *testing.T) {
		var ages, alcs []float64
		var male, tpsNeg, tpsMid, tpsHigh, pdl1Missing, mhcMissing rate
		ecogs := map[int]bool{}
		regimens := map[Regimen]bool{}
		sites, seqs := map[string]bool{}, map[string]bool{}
		for i := range ps {
			p := &ps[i]
			ages = append(ages, *p.Age)
			male.add(*p.Sex == "male")
			if p.ECOG != nil {
				ecogs[*p.ECOG] = true
			}
			pdl1Missing.add(p.PDL1TPS == nil)
			mhcMissing.add(p.MHC1Status == nil)
			if p.PDL1TPS != nil {
				tpsNeg.add(*p.PDL1TPS < 1)
				tpsMid.add(*p.PDL1TPS >= 1 && *p.PDL1TPS < 50)
				tpsHigh.add(*p.PDL1TPS >= 50)
			}
			if p.ALC != nil {
				alcs = append(alcs, *p.ALC)
			}
			if p.HadRT() {
				regimens[Regimen{*p.RTDoseGy, *p.RTFractions}] = true
				sites[*p.RTSite] = true
				seqs[*p.RTICISequence] = true
			}
		}
		sort.Float64s(ages)
		sort.Float64s(alcs)
		within(t, "min age", ages[0], 45, 85)
		within(t, "max age", ages[len(ages)-1], 45, 85)
		within(t, "median age", ages[len(ages)/2], 64.5, 67.5)
		within(t, "share male", male.p(), 0.58, 0.62)
		if !reflect.DeepEqual(ecogs, map[int]bool{0: true, 1: true, 2: true}) {
			t.Errorf("ECOG values %v, want exactly 0, 1 and 2", ecogs)
		}
		for name, r := range map[string]rate{"TPS < 1%": tpsNeg, "TPS 1-49%": tpsMid, "TPS >= 50%": tpsHigh} {
			within(t, "share "+name, r.p(), 0.29, 0.37)
		}
		within(t, "median ALC (10^9/L)", alcs[len(alcs)/2], 1.3, 1.5)
		// Lognormal: log ALC is symmetric, so mean and median of the logs agree.
		var sumLog float64
		for _, a := range alcs {
			sumLog += math.Log(a)
		}
		within(t, "mean log ALC - log median ALC", sumLog/float64(len(alcs))-math.Log(alcs[len(alcs)/2]), -0.03, 0.03)
		within(t, "PD-L1 missing", pdl1Missing.p(), 0.10, 0.30)
		within(t, "MHC-I status missing", mhcMissing.p(), 0.10, 0.30)
		for _, r := range append(slices.Clone(SBRTRegimens), ConventionalRegimens...) {
			if !regimens[r] {
				t.Errorf("regimen %v Gy / %d never drawn", r.DoseGy, r.Fractions)
			}
		}
		if len(sites) != len(data.RTSiteLevels) || len(seqs) != len(data.SequenceLevels) {
			t.Errorf("sites %v, sequences %v: want every level", sites, seqs)
		}
	})

	t.Run("ground truth columns", func(t *testing.T) {
		// Outcomes are drawn from true_p: their means must agree within
		// sampling error (3 standard errors).
		var sumP, sumY, n, sumPA, sumYA, nA float64
		for i := range ps {
			p := &ps[i]
			if p.TruePResponse == nil {
				t.Fatalf("%s: true_p_response missing", p.PatientID)
			}
			if p.HadRT() != (p.TruePAbscopal != nil) {
				t.Fatalf("%s: true_p_abscopal present=%v, had RT=%v", p.PatientID, p.TruePAbscopal != nil, p.HadRT())
			}
			sumP += *p.TruePResponse
			sumY += b2f(*p.ObjectiveResponse)
			n++
			if p.AbscopalResponse != nil {
				sumPA += *p.TruePAbscopal
				sumYA += b2f(*p.AbscopalResponse)
				nA++
			}
			pa, pr := Probabilities(p)
			if pr != *p.TruePResponse || (p.HadRT() && pa != *p.TruePAbscopal) {
				t.Fatalf("%s: Probabilities of the observed record (%v, %v) differ from the stored truth", p.PatientID, pa, pr)
			}
		}
		within(t, "mean objective response - mean true_p_response", (sumY-sumP)/n, -3*math.Sqrt(0.25/n), 3*math.Sqrt(0.25/n))
		within(t, "mean abscopal response - mean true_p_abscopal", (sumYA-sumPA)/nA, -3*math.Sqrt(0.25/nA), 3*math.Sqrt(0.25/nA))
	})

	t.Run("every patient is valid", func(t *testing.T) {
		for i := range ps {
			if errs := ps[i].Validate(); len(errs) > 0 {
				t.Fatalf("%s: %v", ps[i].PatientID, errs[0])
			}
		}
	})
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(500, 7), Generate(500, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different cohorts")
	}
	if reflect.DeepEqual(a, Generate(500, 8)) {
		t.Fatal("different seeds gave the same cohort")
	}
	// The first patients do not depend on n.
	if !reflect.DeepEqual(a[:100], Generate(100, 7)) {
		t.Fatal("the first 100 patients changed with n")
	}
}

func TestWriteFileIsByteIdentical(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	p1, p2 := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	for _, p := range []string{p1, p2} {
		if err := WriteFile(ctx, p, 3000, 11, data.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if !sameFile(t, p1, p2) {
		t.Fatal("two files written with the same seed differ")
	}
	got, err := data.ReadCohort(ctx, p1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Generate(3000, 11)) {
		t.Fatal("the file does not read back as the generated patients")
	}
	r, err := data.OpenTable(ctx, p1, data.TableOptions{Columns: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Metadata()["abscopal.synthetic"] != "true" {
		t.Errorf("file metadata %v does not label the cohort synthetic", r.Metadata())
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}
