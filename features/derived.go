package features

import (
	"sort"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/radiobiology"
)

// Kind is the kind of a feature's value before encoding.
type Kind string

// Feature kinds.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
	Boolean     Kind = "boolean"
)

// Derived describes a built-in iRT feature computed from cohort columns.
type Derived struct {
	Name       string // the name in a spec ("bed") and, for bed/eqd2, the stem of the output name
	Kind       Kind
	Unit       string
	Definition string
	Source     string
	Inputs     []string // cohort columns it reads
	// Requires lists the inputs without which the feature is always null;
	// the others may be absent (e.g. nadir grade falls back on baseline).
	Requires []string
	Levels   []string // for categorical features: the levels it can take
	// UsesAlphaBeta marks bed and eqd2: their output name carries alpha/beta
	// ("bed10_gy") and a spec may set it.
	UsesAlphaBeta bool
	// Whole marks a numeric feature whose values are whole numbers (a
	// grade): an export writes it as integers.
	Whole   bool
	compute func(r row, alphaBeta float64) data.Value
}

// Value computes the feature for r.
func (d *Derived) Value(r Record, alphaBeta float64) data.Value {
	return d.compute(readRow(r), alphaBeta)
}

// OutputName returns the feature's column name for the given alpha/beta:
// "bed10_gy", "eqd2_10_gy", "bed3_gy", "bed2p5_gy" (alpha/beta 2.5).
func (d *Derived) OutputName(alphaBeta float64) string {
	if !d.UsesAlphaBeta {
		return d.Name
	}
	ab := strings.ReplaceAll(strconv.FormatFloat(alphaBeta, 'f', -1, 64), ".", "p")
	sep := "" // bed10_gy, but eqd2_10_gy: digits must not run together
	if c := d.Name[len(d.Name)-1]; c >= '0' && c <= '9' {
		sep = "_"
	}
	return d.Name + sep + ab + "_gy"
}

// The cohort columns the derived features read, each with its field found
// once: a derived feature of a cohort patient reads the field straight from
// the patient, where looking each column up by name was most of the time a
// patient's features took (a map lookup for every input of every feature).
var (
	colAlc              = cohortColumn("alc")
	colAlcNadir         = cohortColumn("alc_nadir")
	colAnc              = cohortColumn("anc")
	colHlaLoh           = cohortColumn("hla_loh")
	colIfnPathwayDefect = cohortColumn("ifn_pathway_defect")
	colMeanBodyDoseGy   = cohortColumn("mean_body_dose_gy")
	colMeanHeartDoseGy  = cohortColumn("mean_heart_dose_gy")
	colMeanLungDoseGy   = cohortColumn("mean_lung_dose_gy")
	colMhc1Status       = cohortColumn("mhc1_status")
	colRtDoseGy         = cohortColumn("rt_dose_gy")
	colRtFractions      = cohortColumn("rt_fractions")
	colRtIciSequence    = cohortColumn("rt_ici_sequence")
	colRtNodal          = cohortColumn("rt_nodal")
	colRtSite           = cohortColumn("rt_site")
)

// column is a cohort column and its field.
type column struct {
	name  string
	field *data.Field
}

// cohortColumn is the cohort column name; it panics for a name the cohort
// schema lacks, a bug of this package caught as it starts.
func cohortColumn(name string) column {
	f, ok := cohortFields[name]
	if !ok {
		panic("features: no cohort column " + name)
	}
	return column{name, f}
}

// row is a record as the derived features read it: the cohort patient
// behind it, if any, and its course of radiotherapy, read once where a
// dozen features each read it again.
type row struct {
	r Record
	p *data.Patient // the cohort patient behind r, or nil
	// rt is false without RT (rt_dose_gy 0 or null), which the schema
	// defines as "no radiotherapy"; dose is then 0. n is the number of
	// fractions, 0 when it is missing.
	dose float64
	n    int
	rt   bool
}

// readRow reads what the derived features share from r.
func readRow(r Record) row {
	rw := row{r: r}
	rw.p, _ = PatientOf(r)
	d := colRtDoseGy.of(rw)
	if !d.Valid || d.Num <= 0 {
		return rw
	}
	rw.dose, rw.rt = d.Num, true
	if f := colRtFractions.of(rw); f.Valid {
		rw.n = int(f.Num)
	}
	return rw
}

// of returns r's value of c: from the patient's field for a cohort
// record, by name otherwise.
func (c column) of(r row) data.Value {
	if r.p != nil {
		return c.field.Get(r.p)
	}
	return r.r.Value(c.name)
}

// doseFeature computes a dose quantity that is 0 without RT and null when RT
// was given but the number of fractions is unknown.
func doseFeature(f func(dose float64, n int, alphaBeta float64) data.Value) func(row, float64) data.Value {
	return func(r row, alphaBeta float64) data.Value {
		switch {
		case !r.rt:
			return f(0, 0, alphaBeta)
		case r.n < 1:
			return data.Null
		}
		return f(r.dose, r.n, alphaBeta)
	}
}

var rtInputs = []string{"rt_dose_gy", "rt_fractions"}

// derivedCatalogue is the set of built-in iRT features, by name.
var derivedCatalogue = func() map[string]*Derived {
	list := []*Derived{
		{Name: "had_rt", Kind: Boolean, Definition: "radiotherapy given (rt_dose_gy > 0)", Source: "cohort schema",
			Inputs:  []string{"rt_dose_gy"},
			compute: func(r row, _ float64) data.Value { return data.Bool(r.rt) }},
		{Name: "dose_per_fraction_gy", Kind: Numeric, Unit: "Gy", Definition: "d = D/n; 0 without radiotherapy", Source: "definition",
			Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, _ float64) data.Value {
				return data.Float(radiobiology.DosePerFraction(dose, n))
			})},
		{Name: "bed", Kind: Numeric, Unit: "Gy", UsesAlphaBeta: true,
			Definition: "biologically effective dose D(1 + d/(alpha/beta)); 0 without radiotherapy",
			Source:     "linear-quadratic model (Fowler, Br J Radiol 1989)", Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, ab float64) data.Value { return data.Float(radiobiology.BED(dose, n, ab)) })},
		{Name: "eqd2", Kind: Numeric, Unit: "Gy", UsesAlphaBeta: true,
			Definition: "equivalent dose in 2-Gy fractions D(d + alpha/beta)/(2 + alpha/beta); 0 without radiotherapy",
			Source:     "linear-quadratic model (Withers 1983)", Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, ab float64) data.Value { return data.Float(radiobiology.EQD2(dose, n, ab)) })},
		{Name: "hypofractionated", Kind: Boolean, Definition: "dose per fraction >= 5 Gy; false without radiotherapy", Source: "SBRT convention",
			Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, _ float64) data.Value {
				return data.Bool(radiobiology.DosePerFraction(dose, n) >= radiobiology.HypofractionatedMinGy)
			})},
		{Name: "ablative", Kind: Boolean, Definition: "BED at alpha/beta 10 Gy >= 100 Gy; false without radiotherapy", Source: "Onishi et al., Cancer 2004",
			Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, _ float64) data.Value {
				return data.Bool(radiobiology.BED(dose, n, radiobiology.TumourAlphaBetaGy) >= radiobiology.AblativeMinBED10Gy)
			})},
		{Name: "single_high_dose", Kind: Boolean, Definition: "one fraction of >= 15 Gy (raises Tregs); false without radiotherapy",
			Source: "Dewan et al., Clin Cancer Res 2009;15:5379; Schaue et al., Int J Radiat Oncol Biol Phys 2012;83:1306; Vanpouille-Box et al., Nat Commun 2017;8:15618", Inputs: rtInputs,
			compute: doseFeature(func(dose float64, n int, _ float64) data.Value {
				return data.Bool(n == 1 && dose >= radiobiology.SingleHighDoseMinGy)
			})},
		{Name: "edic_gy", Kind: Numeric, Unit: "Gy",
			Definition: "effective dose to immune cells 0.12 MLD + 0.08 MHD + [0.45 + 0.35 x 0.85 x sqrt(n/45)] MBD; 0 without radiotherapy",
			Source:     "Jin et al., Int J Radiat Oncol Biol Phys 2021 (RTOG 0617)",
			Inputs:     []string{"rt_dose_gy", "rt_fractions", "mean_lung_dose_gy", "mean_heart_dose_gy", "mean_body_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				if !r.rt {
					return data.Float(0)
				}
				l, h, b := colMeanLungDoseGy.of(r), colMeanHeartDoseGy.of(r), colMeanBodyDoseGy.of(r)
				if r.n < 1 || !l.Valid || !h.Valid || !b.Valid {
					return data.Null
				}
				return data.Float(radiobiology.EDIC(l.Num, h.Num, b.Num, r.n))
			}},
		{Name: "lung_dose_gy", Kind: Numeric, Unit: "Gy",
			Definition: "mean lung dose; 0 without radiotherapy (null when RT was given and its mean lung dose is unknown)",
			Source:     "Marks et al., QUANTEC, Int J Radiat Oncol Biol Phys 2010;76:S70-6",
			Inputs:     []string{"rt_dose_gy", "mean_lung_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				if !r.rt {
					return data.Float(0)
				}
				return colMeanLungDoseGy.of(r)
			}},
		{Name: "lymphopenia_grade_baseline", Kind: Numeric, Unit: "CTCAE grade", Whole: true,
			Definition: "CTCAE v5 grade of the baseline ALC: >= 1.0 0, 0.8-1.0 1, 0.5-0.8 2, 0.2-0.5 3, < 0.2 4 (10^9/L)",
			Source:     "CTCAE v5.0", Inputs: []string{"alc"},
			compute: func(r row, _ float64) data.Value {
				if a := colAlc.of(r); a.Valid {
					return data.Float(float64(LymphopeniaGrade(a.Num)))
				}
				return data.Null
			}},
		{Name: "lymphopenia_grade_nadir", Kind: Numeric, Unit: "CTCAE grade", Whole: true,
			Definition: "CTCAE v5 grade of the ALC nadir during radiotherapy; without radiotherapy, the baseline grade",
			Source:     "CTCAE v5.0", Inputs: []string{"alc_nadir", "alc", "rt_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				v := colAlcNadir.of(r)
				if !r.rt {
					v = colAlc.of(r)
				}
				if v.Valid {
					return data.Float(float64(LymphopeniaGrade(v.Num)))
				}
				return data.Null
			}},
		{Name: "nlr", Kind: Numeric, Definition: "neutrophil-to-lymphocyte ratio ANC/ALC", Source: "definition",
			Inputs: []string{"anc", "alc"}, Requires: []string{"anc", "alc"},
			compute: func(r row, _ float64) data.Value {
				n, a := colAnc.of(r), colAlc.of(r)
				if !n.Valid || !a.Valid || a.Num <= 0 {
					return data.Null
				}
				return data.Float(n.Num / a.Num)
			}},
		{Name: "immune_evasion", Kind: Boolean,
			Definition: "MHC-I loss, HLA LOH or IFN-pathway defect; null when none is known true and one is unknown",
			Source:     "Sade-Feldman 2017; Shin 2017; Montesion 2021",
			Inputs:     []string{"mhc1_status", "hla_loh", "ifn_pathway_defect"},
			compute: func(r row, _ float64) data.Value {
				m, h, i := colMhc1Status.of(r), colHlaLoh.of(r), colIfnPathwayDefect.of(r)
				if (m.Valid && m.Str == data.MHC1Loss) || (h.Valid && h.Bool) || (i.Valid && i.Bool) {
					return data.Bool(true)
				}
				if m.Valid && h.Valid && i.Valid {
					return data.Bool(false)
				}
				return data.Null
			}},
		{Name: "irradiated_site", Kind: Categorical, Levels: append([]string{"none"}, data.RTSiteLevels...),
			Definition: "rt_site, or \"none\" without radiotherapy", Source: "cohort schema", Inputs: []string{"rt_site", "rt_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				if !r.rt {
					return data.String("none")
				}
				return colRtSite.of(r)
			}},
		{Name: "rt_sequence", Kind: Categorical, Levels: append([]string{"none"}, data.SequenceLevels...),
			Definition: "rt_ici_sequence, or \"none\" without radiotherapy", Source: "cohort schema",
			Inputs: []string{"rt_ici_sequence", "rt_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				if !r.rt {
					return data.String("none")
				}
				return colRtIciSequence.of(r)
			}},
		{Name: "nodal_rt", Kind: Boolean, Definition: "draining lymph nodes irradiated; false without radiotherapy", Source: "cohort schema",
			Inputs: []string{"rt_nodal", "rt_dose_gy"},
			compute: func(r row, _ float64) data.Value {
				if !r.rt {
					return data.Bool(false)
				}
				return colRtNodal.of(r)
			}},
	}
	m := map[string]*Derived{}
	for _, d := range list {
		m[d.Name] = d
	}
	return m
}()

// LookupDerived returns the built-in feature with the given name.
func LookupDerived(name string) (*Derived, bool) {
	d, ok := derivedCatalogue[name]
	return d, ok
}

// DerivedNames lists the built-in features, sorted.
func DerivedNames() []string {
	out := make([]string, 0, len(derivedCatalogue))
	for n := range derivedCatalogue {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
