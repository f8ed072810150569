package api

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/buildinfo"
	"github.com/abscopal/abscopal/models"
	"github.com/gin-gonic/gin"
	"github.com/go-json-experiment/json/jsontext"
)

// The Open Inference Protocol v2 (KServe, Triton, MLServer), with tabular
// input as MLServer's "pd" content type sends it: one input per column, each
// a 1-D tensor of the batch's values; null is a missing value.

type v2Tensor struct {
	Name       string           `json:"name"`
	Datatype   string           `json:"datatype"`
	Shape      []int            `json:"shape"`
	Data       []jsontext.Value `json:"data,omitempty"`
	Parameters map[string]any   `json:"parameters,omitempty"`
}

type v2InferRequest struct {
	ID         string              `json:"id,omitempty"`
	Inputs     []v2Tensor          `json:"inputs"`
	Outputs    []v2RequestedOutput `json:"outputs,omitempty"`
	Parameters map[string]any      `json:"parameters,omitempty"`
}

// v2RequestedOutput names an output the client wants: "probability", or
// "interval_95" from a model that kept its bootstrap models.
type v2RequestedOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

type v2Output struct {
	Name       string         `json:"name"`
	Datatype   string         `json:"datatype"`
	Shape      []int          `json:"shape"`
	Data       []*float64     `json:"data"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// v2Interval is the name of the interval output: the central 95% of the
// bootstrap models' probabilities, two numbers a row.
const v2Interval = "interval_95"

func (s *Server) v2Server(c *gin.Context) {
	c.PureJSON(http.StatusOK, gin.H{"name": "abscopal", "version": buildinfo.Read().Version, "extensions": []string{}})
}

func (s *Server) v2Ready(c *gin.Context) {
	ready, _ := s.ready(s.models())
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	c.PureJSON(status, gin.H{"ready": ready})
}

// v2Lookup finds the model in set and checks the version, if the URL names
// one: only the version being served answers.
func v2Lookup(c *gin.Context, set *modelSet) (*models.Model, bool) {
	m, ok := set.byName[c.Param("name")]
	if !ok {
		notFound(c, "model "+c.Param("name"))
		return nil, false
	}
	if v := c.Param("version"); v != "" && v != m.Version {
		abort(c, http.StatusNotFound, apiError{Code: codeNotFound, Message: fmt.Sprintf("model %s version %s is not served (serving %s)", m.Bundle.Name, v, m.Version)})
		return nil, false
	}
	return m, true
}

// inputColumns lists the columns a model reads, with their OIP datatypes.
func inputColumns(m *models.Model) []v2Tensor {
	spec := m.Bundle.Pipeline.Spec
	var out []v2Tensor
	seen := map[string]bool{spec.Target.Column: true}
	for _, k := range spec.Keep {
		seen[k] = true
	}
	add := func(col string, k data.Kind) {
		if seen[col] {
			return
		}
		seen[col] = true
		out = append(out, v2Tensor{Name: col, Datatype: oipType(k), Shape: []int{-1}})
	}
	if spec.ID != "" {
		k := data.KindString
		if m.Bundle.Pipeline.IDNumeric {
			k = data.KindFloat // FP64 takes INT64 and INT32 too
		}
		add(spec.ID, k)
	}
	for _, f := range m.Bundle.Pipeline.Features {
		if d, ok := features.LookupDerived(f.Derived); ok {
			for _, in := range d.Inputs {
				cf, _ := data.CohortField(in)
				add(in, cf.Kind)
			}
			continue
		}
		k := data.KindFloat
		switch {
		case f.Kind == features.Categorical && f.Codes:
			k = data.KindInt
		case f.Kind == features.Categorical:
			k = data.KindString
		case f.Kind == features.Boolean:
			k = data.KindBool
		}
		if cf, ok := data.CohortField(f.Column); ok && spec.ReadsPatients() {
			k = cf.Kind
		}
		add(f.Column, k)
	}
	if spec.ReadsPatients() {
		for _, req := range data.TreatmentInputs() {
			cf, _ := data.CohortField(req)
			add(req, cf.Kind)
		}
	}
	return out
}

func oipType(k data.Kind) string {
	switch k {
	case data.KindInt:
		return "INT64"
	case data.KindBool:
		return "BOOL"
	case data.KindString:
		return "BYTES"
	}
	return "FP64"
}

func (s *Server) v2Model(c *gin.Context) {
	m, ok := v2Lookup(c, s.models())
	if !ok {
		return
	}
	outputs := []v2Tensor{{Name: "probability", Datatype: "FP64", Shape: []int{-1}}}
	if len(m.Bootstrap) > 0 {
		outputs = append(outputs, v2Tensor{Name: v2Interval, Datatype: "FP64", Shape: []int{-1, 2}})
	}
	if m.Survival != nil {
		outputs = outputs[:0]
		for _, name := range survivalOutputs(m) {
			outputs = append(outputs, v2Tensor{Name: name, Datatype: "FP64", Shape: []int{-1}})
		}
	}
	c.PureJSON(http.StatusOK, gin.H{"name": m.Bundle.Name, "versions": []string{m.Version}, "platform": "abscopal-" + m.Bundle.Algo,
		"inputs": inputColumns(m), "outputs": outputs})
}

func (s *Server) v2ModelReady(c *gin.Context) {
	m, ok := v2Lookup(c, s.models())
	if !ok {
		return
	}
	c.PureJSON(http.StatusOK, gin.H{"name": m.Bundle.Name, "ready": true})
}

// v2Row is one row of an inference request's columns.
type v2Row struct {
	cols map[string][]data.Value
	i    int
}

func (r v2Row) Value(col string) data.Value {
	if v, ok := r.cols[col]; ok {
		return v[r.i]
	}
	return data.Null
}

func (s *Server) v2Infer(c *gin.Context) {
	set := s.models() // one set throughout, though a reload swaps another in meanwhile
	m, ok := v2Lookup(c, set)
	if !ok {
		return
	}
	b, ok := readRaw(c)
	if !ok || !checkObject(c, b) {
		return
	}
	var req v2InferRequest
	if err := decodeStrict(b, &req); err != nil {
		e, _ := decodeProblem(err, "", v2Want, v2Fields, "")
		abort(c, http.StatusBadRequest, apiError{Code: e.Code, Message: "not an inference request: " + e.Message, Field: e.Field})
		return
	}
	// The interval is returned when asked for by name only, unlike the
	// protocol's default of every output: it costs a prediction per
	// bootstrap model.
	intervals := false
	for _, o := range req.Outputs {
		switch {
		case m.Survival != nil:
			if !slices.Contains(survivalOutputs(m), o.Name) {
				abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("unknown output %q: the model's outputs are %s", o.Name, strings.Join(survivalOutputs(m), ", ")), Field: "outputs"})
				return
			}
		case o.Name == "probability":
		case o.Name == v2Interval && len(m.Bootstrap) > 0:
			intervals = true
		case o.Name == v2Interval:
			abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("output %s: %s:%s kept no bootstrap models (train --instability 200 --intervals)", v2Interval, m.Bundle.Name, m.Version), Field: "outputs"})
			return
		default:
			names := "one output is probability"
			if len(m.Bootstrap) > 0 {
				names = "outputs are probability and " + v2Interval
			}
			abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("unknown output %q: the model's %s", o.Name, names), Field: "outputs"})
			return
		}
	}
	cols, n, e := decodeColumns(req.Inputs, inputColumns(m))
	if e != nil {
		abort(c, http.StatusBadRequest, *e)
		return
	}
	if n > s.cfg.MaxBatch {
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("at most %d rows, got %d", s.cfg.MaxBatch, n)})
		return
	}
	if intervals && n > maxIntervalPatients {
		abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("output %s for at most %d rows a request, got %d", v2Interval, maxIntervalPatients, n), Field: "outputs"})
		return
	}
	var interval v2Output
	if intervals {
		interval = v2Output{Name: v2Interval, Datatype: "FP64", Shape: []int{n, 2}, Data: make([]*float64, 2*n)}
	}
	spec := m.Bundle.Pipeline.Spec
	out := v2Output{Name: "probability", Datatype: "FP64", Shape: []int{n}, Data: make([]*float64, n)}
	// A time-to-event model's outputs: its median, then its survival at
	// each of its times.
	var survOut []v2Output
	var survTimes []float64
	if m.Survival != nil {
		survTimes = m.Bundle.SurvivalTimes()
		for _, name := range survivalOutputs(m) {
			survOut = append(survOut, v2Output{Name: name, Datatype: "FP64", Shape: []int{n}, Data: make([]*float64, n)})
		}
	}
	var fieldCols []fieldColumn
	for name, vals := range cols {
		if f, ok := data.CohortField(name); ok {
			fieldCols = append(fieldCols, fieldColumn{f, vals})
		}
	}
	if !spec.ReadsPatients() {
		if e := checkSpecInputs(spec, cols, fieldCols, n); e != nil {
			abort(c, http.StatusBadRequest, *e)
			return
		}
	}
	var (
		undefined  []int // rows (from 1) whose target is undefined
		nullReason string
		notes      v2Notes
	)
	sc := s.scratch.Get().(*models.Scratch)
	defer s.scratch.Put(sc)
	mon := set.monitors[m]
	for i := 0; i < n; i++ {
		var rec features.Record = v2Row{cols, i}
		if spec.ReadsPatients() {
			// Cohort-schema inputs are validated like /v1's.
			var p data.Patient
			for _, fc := range fieldCols {
				// Checked before it is set: setting an integer field
				// truncates, and the patient's own check would then see 2
				// for 2.99.
				if err := fc.field.Check(fc.vals[i]); err != nil {
					abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("row %d: %v", i+1, err), Field: fc.field.Name})
					return
				}
				fc.field.Set(&p, fc.vals[i])
			}
			if p.PatientID == "" {
				p.PatientID = fmt.Sprintf("row-%d", i+1)
			}
			if errs := p.Validate(); len(errs) > 0 {
				abort(c, http.StatusBadRequest, apiError{Code: codeInvalid, Message: fmt.Sprintf("row %d: %v", i+1, errs[0])})
				return
			}
			if why := p.Undefined(m.Bundle.Target); why != "" {
				undefined, nullReason = append(undefined, i+1), why
				continue
			}
			rec = features.PatientRecord{P: &p}
		}
		if m.Survival != nil {
			sp := m.PredictSurvival(rec, survTimes, sc)
			notes.add(i+1, &sp.Notes)
			if sp.HasMedian {
				med := sp.Median
				survOut[0].Data[i] = &med
			}
			for k := range sp.Survival {
				v := sp.Survival[k]
				survOut[1+k].Data[i] = &v
			}
			continue
		}
		pr := m.ScoreWith(rec, sc)
		mon.observe(pr.Probability, &pr.Notes)
		notes.add(i+1, &pr.Notes)
		prob := pr.Probability
		out.Data[i] = &prob
		if intervals {
			lo, hi, _ := m.Interval(rec, sc)
			interval.Data[2*i], interval.Data[2*i+1] = &lo, &hi
		}
	}
	if len(undefined) > 0 {
		out.Parameters = map[string]any{"null_rows": undefined, "null_reason": nullReason}
	}
	out.Parameters = notes.set(out.Parameters)
	c.Set(logModels, m.Bundle.Name+":"+m.Version)
	outputs := []v2Output{out}
	if m.Survival != nil {
		survOut[0].Parameters = notes.set(nil)
		outputs = survOut
	}
	if intervals {
		outputs = append(outputs, interval)
	}
	resp := gin.H{"model_name": m.Bundle.Name, "model_version": m.Version, "outputs": outputs}
	if m.Bundle.Synthetic() {
		resp["parameters"] = gin.H{"trained_on_synthetic_data": true}
	}
	if req.ID != "" {
		resp["id"] = req.ID
	}
	c.PureJSON(http.StatusOK, resp)
}

// v2Notes gathers over an inference request's rows what /v1/predict says
// patient by patient: the features imputed, the levels never seen in
// training and the values outside the training range. Output tensors carry
// numbers only, so these go in the probability output's parameters, where
// a client finds that "NSCLC" was not one of a model's cancer types, which
// the model then gave no weight, rather than trusting the probability blind.
type v2Notes struct {
	imputed    map[string]int // feature: rows whose value was imputed
	unseen     []v2Unseen
	outOfRange []v2OutOfRange
}

// v2Unseen is a categorical value a model did not see in training.
type v2Unseen struct {
	Row     int    `json:"row"`
	Feature string `json:"feature"`
	Value   string `json:"value"`
}

// v2OutOfRange is a numeric value outside a model's training range.
type v2OutOfRange struct {
	Row     int     `json:"row"`
	Feature string  `json:"feature"`
	Value   float64 `json:"value"`
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
}

// add records row's notes (row counted from 1).
func (n *v2Notes) add(row int, notes *features.Notes) {
	for _, f := range notes.Imputed {
		if n.imputed == nil {
			n.imputed = map[string]int{}
		}
		n.imputed[f]++
	}
	for _, u := range notes.Unseen {
		n.unseen = append(n.unseen, v2Unseen{row, u.Feature, u.Value})
	}
	for _, o := range notes.OutOfRange {
		n.outOfRange = append(n.outOfRange, v2OutOfRange{row, o.Feature, o.Value, o.Min, o.Max})
	}
}

// set adds the notes there are to an output's parameters.
func (n *v2Notes) set(params map[string]any) map[string]any {
	put := func(k string, v any) {
		if params == nil {
			params = map[string]any{}
		}
		params[k] = v
	}
	if len(n.imputed) > 0 {
		put("imputed_rows", n.imputed)
	}
	if len(n.unseen) > 0 {
		put("unseen", n.unseen)
	}
	if len(n.outOfRange) > 0 {
		put("out_of_range", n.outOfRange)
	}
	return params
}

// fieldColumn is an input column that is a cohort field, found once rather
// than per row.
type fieldColumn struct {
	field data.Field
	vals  []data.Value
}

// checkSpecInputs checks the inputs of a model with a spec of its own, which
// the cohort schema does not validate as a whole (as a patient): a cohort
// field's value against the field's range, and every numeric value against
// the domain of the spec's transforms (the log1p of -5 would be imputed as
// if missing). The first problem by row, then by input name, is named with
// its row, from 1.
func checkSpecInputs(spec *features.Spec, cols map[string][]data.Value, fieldCols []fieldColumn, n int) *apiError {
	fields := map[string]data.Field{}
	for _, fc := range fieldCols {
		fields[fc.field.Name] = fc.field
	}
	names := slices.Sorted(maps.Keys(cols))
	for i := 0; i < n; i++ {
		for _, name := range names {
			v := cols[name][i]
			if !v.Valid {
				continue
			}
			var err error
			if f, ok := fields[name]; ok {
				err = f.Check(v)
			}
			// A value of a string column has Num 0, inside every domain.
			if fe := spec.CheckValue(name, v.Num); err == nil && fe != nil {
				err = fe
			}
			if err != nil {
				return &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s, row %d: %v", name, i+1, err), Field: name}
			}
		}
	}
	return nil
}

// decodeColumns reads the input tensors into columns of Values, checking
// names, datatypes and lengths.
func decodeColumns(inputs []v2Tensor, want []v2Tensor) (map[string][]data.Value, int, *apiError) {
	types := map[string]string{}
	for _, w := range want {
		types[w.Name] = w.Datatype
	}
	if len(inputs) == 0 {
		return nil, 0, &apiError{Code: codeInvalid, Message: "no inputs"}
	}
	cols := map[string][]data.Value{}
	n := -1
	for _, in := range inputs {
		wantType, ok := types[in.Name]
		if !ok {
			return nil, 0, &apiError{Code: codeUnknownField, Message: fmt.Sprintf("unknown input %q; GET the model's metadata for its inputs", in.Name), Field: in.Name}
		}
		if _, dup := cols[in.Name]; dup {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s given twice", in.Name), Field: in.Name}
		}
		if len(in.Shape) == 0 || len(in.Shape) > 2 || (len(in.Shape) == 2 && in.Shape[1] != 1) {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s: shape %v; a column is [rows] or [rows, 1]", in.Name, in.Shape), Field: in.Name}
		}
		var err error
		if in.Data, err = flatten(in.Data); err != nil {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s: data must be a flat list of values, or one list of one value per row", in.Name), Field: in.Name}
		}
		if in.Datatype != wantType && !(wantType == "FP64" && (in.Datatype == "FP32" || in.Datatype == "INT64" || in.Datatype == "INT32")) &&
			!(wantType == "INT64" && in.Datatype == "INT32") {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s: datatype %s, want %s", in.Name, in.Datatype, wantType), Field: in.Name}
		}
		if n >= 0 && len(in.Data) != n {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s has %d values, others %d", in.Name, len(in.Data), n), Field: in.Name}
		}
		n = len(in.Data)
		if prod(in.Shape) != n {
			return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s: shape %v does not hold %d values", in.Name, in.Shape, n), Field: in.Name}
		}
		// An integer tensor holds whole numbers: 2.99 for ecog is refused,
		// not scored as 2, and so is a number past 2^53, which a float64
		// cannot hold exactly.
		integer := in.Datatype == "INT64" || in.Datatype == "INT32"
		vals := make([]data.Value, n)
		for i, raw := range in.Data {
			if raw.Kind() == 'n' {
				continue
			}
			var err error
			switch wantType {
			case "BYTES":
				err = decodeStrict(raw, &vals[i].Str)
			case "BOOL":
				err = decodeStrict(raw, &vals[i].Bool)
			default:
				err = decodeStrict(raw, &vals[i].Num)
				if x := vals[i].Num; err == nil && integer && (x != math.Trunc(x) || math.Abs(x) > 1<<53) {
					return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s, row %d: %s is not a whole number, as datatype %s holds", in.Name, i+1, raw, in.Datatype), Field: in.Name}
				}
			}
			if err != nil {
				return nil, 0, &apiError{Code: codeInvalid, Message: fmt.Sprintf("input %s, row %d: %s is not a %s value", in.Name, i+1, raw, wantType), Field: in.Name}
			}
			vals[i].Valid = true
		}
		cols[in.Name] = vals
	}
	return cols, n, nil
}

// flatten gives the elements of data in row-major order: the protocol lets
// a [rows, 1] tensor's data come nested, one array per row. Only one level
// of nesting is taken, as a column has at most two dimensions.
func flatten(data []jsontext.Value) ([]jsontext.Value, error) {
	nested := false
	for _, raw := range data {
		if raw.Kind() == '[' {
			nested = true
			break
		}
	}
	if !nested {
		return data, nil
	}
	var out []jsontext.Value
	for _, raw := range data {
		var row []jsontext.Value
		if err := decodeStrict(raw, &row); err != nil {
			return nil, err
		}
		for _, v := range row {
			if v.Kind() == '[' {
				return nil, errors.New("nested twice")
			}
		}
		out = append(out, row...)
	}
	return out, nil
}

// v2Fields are the member names of an inference request and its tensors,
// for errors.
var v2Fields = []string{"id", "inputs", "outputs", "parameters", "name", "datatype", "shape", "data"}

// v2Want says what a member of an inference request takes.
func v2Want(field string) string {
	switch field {
	case "inputs", "outputs":
		return "a JSON array of tensors"
	case "shape":
		return "a JSON array of whole numbers"
	case "data":
		return "a JSON array"
	case "parameters":
		return "a JSON object"
	}
	return "a JSON string"
}

func prod(shape []int) int {
	p := 1
	for _, d := range shape {
		p *= d
	}
	return p
}

// survivalOutputs names a time-to-event model's outputs: the median time
// to the event (null where the predicted curve stays above one half), and
// the survival at each of its times (survival_6, survival_12, ...).
func survivalOutputs(m *models.Model) []string {
	out := []string{"median_months"}
	if !m.Bundle.Pipeline.Spec.ReadsPatients() {
		out[0] = "median_" + m.Bundle.Pipeline.Spec.Target.Time
	}
	for _, t := range m.Bundle.SurvivalTimes() {
		out = append(out, models.SurvivalColumn(t))
	}
	return out
}
