package data

import (
	"errors"
	"fmt"
	"strings"
)

// Reason classifies why a value or a file was rejected. Reports count
// invalid rows per Reason.
type Reason string

// The reasons a value, a row or a file is rejected.
const (
	ReasonNull          Reason = "null in required field"
	ReasonRange         Reason = "out of range"
	ReasonLevel         Reason = "unknown level"
	ReasonType          Reason = "wrong type"
	ReasonInconsistent  Reason = "inconsistent fields"
	ReasonMissingColumn Reason = "missing column"
	ReasonMisnamed      Reason = "misnamed column"
	ReasonDuplicateID   Reason = "duplicate id"
)

// Sentinel errors. Every error this package returns for bad input wraps one
// of them, so callers can test with errors.Is.
var (
	// ErrNotParquet: the file is not Parquet (bad magic bytes or footer).
	ErrNotParquet = errors.New("not a Parquet file")
	// ErrCorrupt: the file claims to be Parquet but its contents cannot be decoded.
	ErrCorrupt = errors.New("corrupt Parquet file")
	// ErrSchema: a required column is missing, or a column has the wrong type.
	ErrSchema = errors.New("schema mismatch")
	// ErrInvalidValue: a row holds a value that the cohort schema does not allow.
	ErrInvalidValue = errors.New("invalid value")
)

// FieldError says why one value of one field is not allowed.
type FieldError struct {
	Field   string // column / JSON field name
	Reason  Reason
	Value   string // the offending value as text; empty for a null
	Allowed string // the allowed range or levels, in words
	Detail  string // for ReasonInconsistent: the rule that was broken
}

// Error implements error.
func (e *FieldError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "field %s: %s", e.Field, e.Reason)
	if e.Value != "" {
		fmt.Fprintf(&b, ": %s", e.Value)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	if e.Allowed != "" {
		fmt.Fprintf(&b, " (allowed: %s)", e.Allowed)
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrInvalidValue) match.
func (e *FieldError) Unwrap() error { return ErrInvalidValue }

// RowError locates a FieldError in a file.
type RowError struct {
	File string
	Row  int64 // data row number, counted from 1
	*FieldError
}

// Error implements error: "cohort.parquet: row 17, column alc: out of range: 500 (allowed: [0, 50] 10^9/L)".
func (e *RowError) Error() string {
	msg := e.FieldError.Error()
	msg = strings.Replace(msg, "field ", "column ", 1)
	return fmt.Sprintf("%s: row %d, %s", e.File, e.Row, msg)
}

// Unwrap returns the FieldError, which itself wraps ErrInvalidValue.
func (e *RowError) Unwrap() error { return e.FieldError }

// SchemaError says that a file's columns do not fit what is asked of them.
type SchemaError struct {
	File   string
	Column string
	Reason Reason // ReasonMissingColumn or ReasonType
	Found  string // the Parquet type found, for ReasonType; the file's name, for ReasonMisnamed
	Want   string // what is accepted
	Hint   string // how to fix it, when there is an obvious way
	// Foreign is set for a missing column of a file that has at most half
	// the cohort schema's columns: likely a file of other columns, not a
	// cohort file, which a caller may tell how to read.
	Foreign bool
}

// Error implements error.
func (e *SchemaError) Error() string {
	var msg string
	switch e.Reason {
	case ReasonMissingColumn:
		msg = fmt.Sprintf("%s: column %s: missing (required, %s)", e.File, e.Column, e.Want)
	case ReasonMisnamed:
		msg = fmt.Sprintf("%s: column %q: not in the cohort schema, but %s is: rename it to %s (column names are exact: it would be ignored, and %s read as missing)", e.File, e.Found, e.Column, e.Column, e.Column)
	default:
		msg = fmt.Sprintf("%s: column %s: wrong type %s (want %s)", e.File, e.Column, e.Found, e.Want)
	}
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrSchema) match.
func (e *SchemaError) Unwrap() error { return ErrSchema }
