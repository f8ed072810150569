package features

import (
	"github.com/abscopal/abscopal/data"
)

// Record is one row of input: a patient of the cohort schema, or a row of
// any table. Value returns the named column's value; a null or an absent
// column is a Value with Valid false.
type Record interface {
	Value(column string) data.Value
}

// cohortFields indexes the cohort schema by name; it is read-only.
var cohortFields = func() map[string]*data.Field {
	m := map[string]*data.Field{}
	fs := data.CohortFields()
	for i := range fs {
		m[fs[i].Name] = &fs[i]
	}
	return m
}()

// PatientRecord adapts a cohort patient to Record.
type PatientRecord struct{ P *data.Patient }

func (r PatientRecord) patient() *data.Patient { return r.P }

// PatientOf returns the cohort patient behind r, when r is one (a row of a
// cohort file, with or without columns read along, or an API request).
func PatientOf(r Record) (*data.Patient, bool) {
	if pr, ok := r.(interface{ patient() *data.Patient }); ok {
		return pr.patient(), true
	}
	return nil, false
}

// Value implements Record.
func (r PatientRecord) Value(column string) data.Value {
	f, ok := cohortFields[column]
	if !ok {
		return data.Null
	}
	return f.Get(r.P)
}

// patientExtra is a cohort patient with the values of columns outside the
// schema read along (a centre to group by); names is shared by the rows.
type patientExtra struct {
	PatientRecord
	names  []string
	values []data.Value
}

// Value implements Record.
func (r patientExtra) Value(column string) data.Value {
	if _, ok := cohortFields[column]; ok {
		return r.PatientRecord.Value(column)
	}
	for i, n := range r.names {
		if n == column {
			return r.values[i]
		}
	}
	return data.Null
}

// BatchRecords adapts the rows of a table batch to Records.
type BatchRecords struct {
	b   *data.Batch
	idx map[string]int
}

// NewBatchRecords indexes the batch's columns by name.
func NewBatchRecords(b *data.Batch) *BatchRecords {
	idx := make(map[string]int, len(b.Columns))
	for i, c := range b.Columns {
		idx[c.Name] = i
	}
	return &BatchRecords{b: b, idx: idx}
}

// Len returns the number of rows.
func (br *BatchRecords) Len() int { return br.b.Len }

// Row returns row i (counted from 0) as a Record.
func (br *BatchRecords) Row(i int) Record { return batchRow{br, i} }

type batchRow struct {
	br  *BatchRecords
	row int
}

// Numbered is implemented by the records read from a table: RowNumber is the
// record's row in its file, counted from 1, for messages.
type Numbered interface {
	RowNumber() int64
}

// RowNumber implements Numbered.
func (r batchRow) RowNumber() int64 { return r.br.b.FirstRow + int64(r.row) }

func (r batchRow) Value(column string) data.Value {
	i, ok := r.br.idx[column]
	if !ok {
		return data.Null
	}
	return r.br.b.Columns[i].Value(r.row)
}
