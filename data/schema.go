// Package data holds the abscopal cohort schema, reads and writes cohort files
// (Parquet; CSV too for reading), validates them, and reads any Parquet or CSV
// table column by column for files that do not follow the cohort schema.
//
// The cohort schema is declared once, in [CohortFields]: name (Parquet column
// and JSON field), kind, unit, allowed range or levels, and whether a value is
// required. The reader, the validator, the writer, the API and the generated
// schema documentation (docs/cohort-schema.md) all read that one table.
package data

import (
	"math"
	"strconv"
	"strings"
)

// Kind is the kind of value a column holds.
type Kind int

// The kinds of column. A categorical (enum) field is a KindString field with
// Levels.
const (
	KindUnsupported Kind = iota
	KindFloat
	KindInt
	KindBool
	KindString
)

// String returns the name used in errors and documentation.
func (k Kind) String() string {
	switch k {
	case KindFloat:
		return "float"
	case KindInt:
		return "int"
	case KindBool:
		return "bool"
	case KindString:
		return "string"
	default:
		return "unsupported"
	}
}

// Field describes one column of the cohort schema.
type Field struct {
	Name        string   // Parquet column name and JSON field name
	Group       string   // "id", "tumour immunity", "blood", ...
	Kind        Kind     // KindFloat, KindInt, KindBool or KindString
	Unit        string   // "Gy", "10^9/L", ... ; empty when unitless
	Description string   // one line
	Required    bool     // a null is an error (see also RequiredWhenRT)
	Min, Max    float64  // inclusive range for numeric fields, when HasRange
	HasRange    bool     // Min and Max apply
	Levels      []string // allowed values of a categorical field
	// RequiredWhenRT marks fields that must be present when the patient had
	// radiotherapy (rt_dose_gy > 0): without them BED and EQD2 are undefined.
	RequiredWhenRT bool
	// Outcome marks outcome columns: they are labels, never model inputs.
	Outcome bool
	// Synthetic marks ground-truth columns that only synthetic cohorts carry.
	Synthetic bool

	get func(*Patient) Value
	set func(*Patient, Value, *slab)
	// at is the accessor get and set are made of, for a reader that sets
	// a column's values without making each a Value: its type says the
	// field's kind (func(*Patient) **float64, **int, **bool, **string for
	// a categorical field, *string for the id).
	at any
}

// idAt returns the accessor of the id field, the one whose Patient field
// is a string rather than a pointer (it is required), and false for any
// other.
func (f *Field) idAt() (func(*Patient) *string, bool) {
	at, ok := f.at.(func(*Patient) *string)
	return at, ok
}

// KindName names the field's kind for people: "category" for a string field
// with levels, otherwise the Kind.
func (f *Field) KindName() string {
	if f.Categorical() {
		return "category"
	}
	return f.Kind.String()
}

// Categorical reports whether the field takes one of a fixed set of levels.
func (f *Field) Categorical() bool { return len(f.Levels) > 0 }

// Allowed describes the allowed values in words, as errors and docs print it:
// "[0, 50] 10^9/L", "one of high, low, loss", "true or false".
func (f *Field) Allowed() string {
	switch {
	case f.Categorical():
		return "one of " + strings.Join(f.Levels, ", ")
	case f.Kind == KindBool:
		return "true or false"
	case f.HasRange:
		s := "[" + formatNumber(f.Min) + ", " + formatNumber(f.Max) + "]"
		if f.Unit != "" {
			s += " " + f.Unit
		}
		return s
	case f.Kind == KindString:
		return "any non-empty string"
	default:
		return "any finite number"
	}
}

// Check reports whether v is an allowed value of the field. A null value is
// allowed unless the field is Required; RequiredWhenRT is a cross-field rule
// checked by [Patient.Validate].
func (f *Field) Check(v Value) error {
	if !v.Valid {
		if f.Required {
			return &FieldError{Field: f.Name, Reason: ReasonNull, Allowed: f.Allowed()}
		}
		return nil
	}
	switch f.Kind {
	case KindFloat, KindInt:
		if math.IsInf(v.Num, 0) || math.IsNaN(v.Num) {
			return &FieldError{Field: f.Name, Reason: ReasonRange, Value: formatNumber(v.Num), Allowed: f.Allowed()}
		}
		if f.Kind == KindInt && v.Num != math.Trunc(v.Num) {
			allowed := "a whole number"
			if f.HasRange {
				allowed += " in " + f.Allowed()
			}
			return &FieldError{Field: f.Name, Reason: ReasonType, Value: formatNumber(v.Num), Allowed: allowed}
		}
		if f.HasRange && (v.Num < f.Min || v.Num > f.Max) {
			return &FieldError{Field: f.Name, Reason: ReasonRange, Value: formatNumber(v.Num), Allowed: f.Allowed()}
		}
	case KindString:
		if f.Categorical() && !contains(f.Levels, v.Str) {
			return &FieldError{Field: f.Name, Reason: ReasonLevel, Value: strconv.Quote(v.Str), Allowed: f.Allowed()}
		}
		if f.Required && v.Str == "" {
			return &FieldError{Field: f.Name, Reason: ReasonNull, Value: `""`, Allowed: f.Allowed()}
		}
	}
	return nil
}

// Get returns the field's value in p.
func (f *Field) Get(p *Patient) Value { return f.get(p) }

// Set stores v (which must be of the field's kind) in p.
func (f *Field) Set(p *Patient, v Value) { f.set(p, v, nil) }

// Value is one cell of a cohort: a number (float or int), a string, a boolean,
// or null (Valid false).
//
// Its fields are ordered so that it is 32 bytes: the compiler keeps a
// struct of at most four words and four fields in registers
// (cmd/compile/internal/ssa.CanSSA), and at 40, with padding after a bool
// ahead of the float, every Value returned or passed went through memory;
// the feature pipeline took 1.6 times as long (TestValueSize).
type Value struct {
	Num   float64
	Str   string
	Valid bool
	Bool  bool
}

// Null is the null value.
var Null = Value{}

// Float returns a valid numeric value.
func Float(x float64) Value { return Value{Valid: true, Num: x} }

// String returns a valid string value.
func String(s string) Value { return Value{Valid: true, Str: s} }

// Bool returns a valid boolean value.
func Bool(b bool) Value { return Value{Valid: true, Bool: b} }

// Format renders v for messages and CSV: "null", a number, a string, a boolean.
func (v Value) Format(k Kind) string {
	if !v.Valid {
		return "null"
	}
	switch k {
	case KindFloat, KindInt:
		return formatNumber(v.Num)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	default:
		return v.Str
	}
}

// formatNumber writes a number as a person reads it: a whole one in plain
// digits (9223372036854775807, not 9.223372036854776e+18), another in
// the shortest form that reads back the same.
func formatNumber(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e21 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// The levels of the categorical fields.
var (
	MHC1Levels       = []string{MHC1High, MHC1Low, MHC1Loss}
	RTSiteLevels     = []string{"lung", "mediastinum", "brain", "bone", "liver", "adrenal", "other"}
	SequenceLevels   = []string{SeqRTBeforeICI, SeqConcurrent, SeqICIBeforeRT}
	ICIClassLevels   = []string{ICIPD1, ICIPDL1, ICICTLA4, ICIPD1CTLA4}
	SexLevels        = []string{"female", "male"}
	StageLevels      = []string{"I", "II", "III", "IV"}
	HistologyLevels  = []string{"adenocarcinoma", "squamous", "other"}
	ThoracicRTSites  = []string{"lung", "mediastinum"}
	cohortFieldsList = buildCohortFields()
)

// Levels of mhc1_status, rt_ici_sequence and ici_class, named for code that
// branches on them.
const (
	MHC1High = "high"
	MHC1Low  = "low"
	MHC1Loss = "loss"

	SeqRTBeforeICI = "rt_before_ici"
	SeqConcurrent  = "concurrent"
	SeqICIBeforeRT = "ici_before_rt"

	ICIPD1      = "pd1"
	ICIPDL1     = "pdl1"
	ICICTLA4    = "ctla4"
	ICIPD1CTLA4 = "pd1_ctla4"
)

// CohortFields returns the cohort schema, in column order. The slice is a
// fresh copy; the Field values share their Levels slices, which callers must
// not modify.
func CohortFields() []Field {
	out := make([]Field, len(cohortFieldsList))
	copy(out, cohortFieldsList)
	return out
}

// CohortField returns the schema field with the given name.
func CohortField(name string) (Field, bool) {
	if i, ok := cohortFieldIndex[name]; ok {
		return cohortFieldsList[i], true
	}
	return Field{}, false
}

// cohortFieldIndex maps names to positions in cohortFieldsList; read-only.
var cohortFieldIndex = func() map[string]int {
	m := make(map[string]int, len(cohortFieldsList))
	for i, f := range cohortFieldsList {
		m[f.Name] = i
	}
	return m
}()

func buildCohortFields() []Field {
	rng := func(f Field, lo, hi float64) Field { f.Min, f.Max, f.HasRange = lo, hi, true; return f }
	req := func(f Field) Field { f.Required = true; return f }
	rt := func(f Field) Field { f.RequiredWhenRT = true; return f }
	outcome := func(f Field) Field { f.Outcome = true; return f }
	synthetic := func(f Field) Field { f.Synthetic = true; return f }
	levels := func(f Field, l []string) Field { f.Levels = l; return f }

	return []Field{
		req(stringAt("patient_id", "id", "", "patient identifier (no names, no dates)", func(p *Patient) *string { return &p.PatientID })),

		levels(enumAt("mhc1_status", "tumour immunity", "", "MHC class I status by IHC, or B2M/HLA-I genomic loss", func(p *Patient) **string { return &p.MHC1Status }), MHC1Levels),
		boolAt("hla_loh", "tumour immunity", "somatic HLA class I loss of heterozygosity", func(p *Patient) **bool { return &p.HLALOH }),
		boolAt("ifn_pathway_defect", "tumour immunity", "loss of function in JAK1, JAK2, STAT1, IFNGR1 or IRF1", func(p *Patient) **bool { return &p.IFNPathwayDefect }),
		rng(floatAt("pdl1_tps", "tumour immunity", "%", "PD-L1 tumour proportion score", func(p *Patient) **float64 { return &p.PDL1TPS }), 0, 100),
		rng(floatAt("tmb", "tumour immunity", "mutations/Mb", "tumour mutational burden", func(p *Patient) **float64 { return &p.TMB }), 0, 500),

		rng(floatAt("alc", "blood", "10^9/L", "absolute lymphocyte count before treatment", func(p *Patient) **float64 { return &p.ALC }), 0, 50),
		rng(floatAt("alc_nadir", "blood", "10^9/L", "lowest absolute lymphocyte count during radiotherapy", func(p *Patient) **float64 { return &p.ALCNadir }), 0, 50),
		rng(floatAt("anc", "blood", "10^9/L", "absolute neutrophil count before treatment", func(p *Patient) **float64 { return &p.ANC }), 0, 100),
		rng(floatAt("albumin", "blood", "g/dL", "serum albumin before treatment", func(p *Patient) **float64 { return &p.Albumin }), 1, 6),

		rng(floatAt("rt_dose_gy", "radiotherapy", "Gy", "total physical dose; 0 or null means no radiotherapy", func(p *Patient) **float64 { return &p.RTDoseGy }), 0, 150),
		rt(rng(intAt("rt_fractions", "radiotherapy", "fractions", "number of fractions", func(p *Patient) **int { return &p.RTFractions }), 0, 60)),
		rt(levels(enumAt("rt_site", "radiotherapy", "", "irradiated site", func(p *Patient) **string { return &p.RTSite }), RTSiteLevels)),
		boolAt("rt_nodal", "radiotherapy", "draining lymph nodes inside the radiotherapy field", func(p *Patient) **bool { return &p.RTNodal }),
		levels(enumAt("rt_ici_sequence", "radiotherapy", "", "order of radiotherapy and checkpoint inhibitor", func(p *Patient) **string { return &p.RTICISequence }), SequenceLevels),
		rng(floatAt("mean_lung_dose_gy", "radiotherapy", "Gy", "mean lung dose (for EDIC)", func(p *Patient) **float64 { return &p.MeanLungDoseGy }), 0, 100),
		rng(floatAt("mean_heart_dose_gy", "radiotherapy", "Gy", "mean heart dose (for EDIC)", func(p *Patient) **float64 { return &p.MeanHeartDoseGy }), 0, 100),
		rng(floatAt("mean_body_dose_gy", "radiotherapy", "Gy", "mean body (integral) dose (for EDIC)", func(p *Patient) **float64 { return &p.MeanBodyDoseGy }), 0, 100),

		req(levels(enumAt("ici_class", "immunotherapy", "", "checkpoint inhibitor class", func(p *Patient) **string { return &p.ICIClass }), ICIClassLevels)),

		rng(floatAt("age", "clinical", "years", "age at the start of immunotherapy", func(p *Patient) **float64 { return &p.Age }), 18, 110),
		levels(enumAt("sex", "clinical", "", "sex", func(p *Patient) **string { return &p.Sex }), SexLevels),
		rng(intAt("ecog", "clinical", "", "ECOG performance status", func(p *Patient) **int { return &p.ECOG }), 0, 4),
		levels(enumAt("stage", "clinical", "", "stage at the start of immunotherapy", func(p *Patient) **string { return &p.Stage }), StageLevels),
		levels(enumAt("histology", "clinical", "", "histology", func(p *Patient) **string { return &p.Histology }), HistologyLevels),
		boolAt("egfr_mutant", "clinical", "activating EGFR mutation", func(p *Patient) **bool { return &p.EGFRMutant }),
		boolAt("prior_systemic_therapy", "clinical", "systemic therapy before the checkpoint inhibitor", func(p *Patient) **bool { return &p.PriorSystemicTherapy }),

		outcome(boolAt(AbscopalResponse, "outcomes", "a non-irradiated lesion responded; null without radiotherapy or without a measurable non-irradiated lesion", func(p *Patient) **bool { return &p.AbscopalResponse })),
		outcome(boolAt(ObjectiveResponse, "outcomes", "best overall response CR or PR by RECIST 1.1", func(p *Patient) **bool { return &p.ObjectiveResponse })),
		outcome(rng(floatAt("pfs_months", "outcomes", "months", "progression-free survival time", func(p *Patient) **float64 { return &p.PFSMonths }), 0, 600)),
		outcome(boolAt("pfs_event", "outcomes", "progression or death observed (false: censored)", func(p *Patient) **bool { return &p.PFSEvent })),
		outcome(rng(floatAt("os_months", "outcomes", "months", "overall survival time", func(p *Patient) **float64 { return &p.OSMonths }), 0, 600)),
		outcome(boolAt("os_event", "outcomes", "death observed (false: censored)", func(p *Patient) **bool { return &p.OSEvent })),
		outcome(rng(intAt(PneumonitisGrade, "outcomes", "CTCAE grade", "worst pneumonitis grade (CTCAE v5)", func(p *Patient) **int { return &p.PneumonitisGrade }), 0, 5)),

		synthetic(rng(floatAt("true_p_abscopal", "synthetic ground truth", "probability", "probability of abscopal_response the generator drew it from", func(p *Patient) **float64 { return &p.TruePAbscopal }), 0, 1)),
		synthetic(rng(floatAt("true_p_response", "synthetic ground truth", "probability", "probability of objective_response the generator drew it from", func(p *Patient) **float64 { return &p.TruePResponse }), 0, 1)),
	}
}

// The constructors below tie a schema entry to its Patient field with one
// accessor, so that getting and setting cannot drift apart.

func stringAt(name, group, unit, desc string, at func(*Patient) *string) Field {
	return Field{Name: name, Group: group, Kind: KindString, Unit: unit, Description: desc, at: at,
		get: func(p *Patient) Value {
			s := *at(p)
			return Value{Valid: s != "", Str: s}
		},
		set: func(p *Patient, v Value, _ *slab) { *at(p) = v.Str },
	}
}

func enumAt(name, group, unit, desc string, at func(*Patient) **string) Field {
	return Field{Name: name, Group: group, Kind: KindString, Unit: unit, Description: desc, at: at,
		get: func(p *Patient) Value {
			if s := *at(p); s != nil {
				return String(*s)
			}
			return Null
		},
		set: func(p *Patient, v Value, s *slab) {
			if !v.Valid {
				*at(p) = nil
				return
			}
			*at(p) = s.string(v.Str)
		},
	}
}

func floatAt(name, group, unit, desc string, at func(*Patient) **float64) Field {
	return Field{Name: name, Group: group, Kind: KindFloat, Unit: unit, Description: desc, at: at,
		get: func(p *Patient) Value {
			if x := *at(p); x != nil {
				return Float(*x)
			}
			return Null
		},
		set: func(p *Patient, v Value, s *slab) {
			if !v.Valid {
				*at(p) = nil
				return
			}
			*at(p) = s.float(v.Num)
		},
	}
}

func intAt(name, group, unit, desc string, at func(*Patient) **int) Field {
	return Field{Name: name, Group: group, Kind: KindInt, Unit: unit, Description: desc, at: at,
		get: func(p *Patient) Value {
			if x := *at(p); x != nil {
				return Float(float64(*x))
			}
			return Null
		},
		set: func(p *Patient, v Value, s *slab) {
			if !v.Valid {
				*at(p) = nil
				return
			}
			*at(p) = s.int(int(v.Num))
		},
	}
}

func boolAt(name, group, desc string, at func(*Patient) **bool) Field {
	return Field{Name: name, Group: group, Kind: KindBool, Description: desc, at: at,
		get: func(p *Patient) Value {
			if b := *at(p); b != nil {
				return Bool(*b)
			}
			return Null
		},
		set: func(p *Patient, v Value, s *slab) {
			if !v.Valid {
				*at(p) = nil
				return
			}
			*at(p) = s.bool(v.Bool)
		},
	}
}

// slab hands out addresses in shared arrays, so that decoding a batch of
// patients costs a few allocations instead of one per value. A nil slab
// allocates each value on its own.
type slab struct {
	f []float64
	i []int
	b []bool
	s []string
}

const slabChunk = 4096

// put stores x in the current chunk of *chunks and returns its address; a
// full chunk is left to the patients that point into it.
func put[T any](chunks *[]T, x T) *T {
	if len(*chunks) == cap(*chunks) {
		*chunks = make([]T, 0, slabChunk)
	}
	*chunks = append(*chunks, x)
	return &(*chunks)[len(*chunks)-1]
}

// own returns the address of a copy of x; new(T), not &x, which would move
// x to the heap on every call, slab or not.
func own[T any](x T) *T {
	v := new(T)
	*v = x
	return v
}

func (s *slab) float(x float64) *float64 {
	if s == nil {
		return own(x)
	}
	return put(&s.f, x)
}

func (s *slab) int(x int) *int {
	if s == nil {
		return own(x)
	}
	return put(&s.i, x)
}

func (s *slab) bool(x bool) *bool {
	if s == nil {
		return own(x)
	}
	return put(&s.b, x)
}

func (s *slab) string(x string) *string {
	if s == nil {
		return own(x)
	}
	return put(&s.s, x)
}
