package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/gin-gonic/gin"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Request bodies are decoded strictly, by encoding/json/v2's semantics (the
// go-json-experiment module, pinned, until the standard library's leaves its
// experiment): a member matches a field by its exact name, so {"ALC": 30}
// is an unknown field rather than alc; a member given twice is an error
// rather than the last one winning; an unknown member is an error. A 200
// then means that exactly what the client sent was scored.

// decodeStrict decodes one JSON value b into v.
func decodeStrict(b []byte, v any) error { return jsonv2.Unmarshal(b, v, strictOptions) }

// strictOptions are decodeStrict's, made once and never changed: the
// unmarshalers cache which of them applies to each Go type met, and a set
// made afresh for every call filled a new cache for every patient (a
// third of decoding one).
var strictOptions = jsonv2.JoinOptions(jsonv2.RejectUnknownMembers(true), jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(wholeInt)))

// wholeInt reads a JSON number into an int when its value is whole. JSON
// has one kind of number (RFC 8259): 4, 4.0 and 4e0 are the same, JSON
// Schema's "integer" takes each, and pandas writes an integer column with a
// gap as 4.0. A fraction (3.9 fractions) is refused, never truncated, and so
// is a number past 2^53, beyond which a float64 holds no fractions to tell.
// The value is judged as the float64 it parses to, as a client's own
// number was.
func wholeInt(dec *jsontext.Decoder, v *int) error {
	if dec.PeekKind() != '0' {
		return errors.ErrUnsupported // null or another kind: decoded (or refused) as before
	}
	val, err := dec.ReadValue()
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(string(val), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return &jsonv2.SemanticError{JSONKind: '0', JSONValue: val.Clone(), GoType: reflect.TypeFor[int](), Err: errNotWhole}
	}
	*v = int(f)
	return nil
}

// errNotWhole is a number given for an integer field that is not whole.
var errNotWhole = errors.New("not a whole number")

// contentTypeJSON refuses, with 415, a request with a body that is not
// declared application/json (a charset, if given, must be UTF-8, as JSON
// is): a form or a text/plain body is not read as if it were JSON, which a
// browser may send cross-site without asking first.
func contentTypeJSON(c *gin.Context) {
	if checkContentTypeJSON(c) {
		c.Next()
	}
}

// checkContentTypeJSON answers 415 and reports false unless the request is
// sent as application/json (charset utf-8, if any).
func checkContentTypeJSON(c *gin.Context) bool {
	ct := c.GetHeader("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	cs, hasCharset := params["charset"]
	if err != nil || mt != "application/json" || (hasCharset && !strings.EqualFold(cs, "utf-8")) || len(params) > 1 || (len(params) == 1 && !hasCharset) {
		got := "no Content-Type"
		if ct != "" {
			got = "Content-Type " + strconv.Quote(ct)
		}
		abort(c, http.StatusUnsupportedMediaType, apiError{Code: codeMediaType,
			Message: got + ": the body must be sent as application/json (charset utf-8, if any)"})
		return false
	}
	return true
}

// readRaw reads the request body, answering 413 past the limit. The bytes
// are the request's own: decoded values never alias a reused buffer.
func readRaw(c *gin.Context) ([]byte, bool) {
	var (
		b   []byte
		err error
	)
	if n := c.Request.ContentLength; n > 0 && n <= 1<<20 {
		// One allocation of the announced size. net/http ends the body there,
		// and the body limit's reader fails a read past the limit.
		b = make([]byte, n)
		_, err = io.ReadFull(c.Request.Body, b)
	} else {
		b, err = io.ReadAll(c.Request.Body)
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			abort(c, http.StatusRequestEntityTooLarge, apiError{Code: codeTooLarge, Message: fmt.Sprintf("the body exceeds %d bytes", tooBig.Limit)})
			return nil, false
		}
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the body could not be read"})
		return nil, false
	}
	return b, true
}

// checkObject answers 400 unless b is one JSON object (what every body of
// the API is), with one message for each way it is not: null, another
// kind of value, nothing, a syntax error, or a value after the object.
func checkObject(c *gin.Context, b []byte) bool {
	// Duplicate names are left to decodeStrict, which names the field.
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	k := dec.PeekKind()
	if err := dec.SkipValue(); err != nil {
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the body must be one JSON object: " + syntaxProblem(err)})
		return false
	}
	if k != '{' {
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the body must be one JSON object, got " + kindName(k)})
		return false
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the body must be one JSON object: found more than one value"})
		return false
	}
	return true
}

// hasMember reports whether the JSON object b has a member named name at
// its top level (b must be a valid object: checkObject).
func hasMember(b []byte, name string) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return false
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return false
		}
		if tok.String() == name {
			return true
		}
		if dec.SkipValue() != nil {
			return false
		}
	}
	return false
}

// kindName names a JSON kind as a client writes of it: "a JSON string".
func kindName(k jsontext.Kind) string {
	switch k {
	case 'n':
		return "null"
	case 't', 'f':
		return "a JSON boolean"
	case '"':
		return "a JSON string"
	case '0':
		return "a JSON number"
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	}
	return "nothing"
}

// syntaxProblem says what is wrong with a body that is not JSON, without
// the library's words.
func syntaxProblem(err error) string {
	var se *jsontext.SyntacticError
	switch {
	case errors.Is(err, io.EOF) && !errors.As(err, &se):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case errors.As(err, &se):
		if errors.Is(se.Err, io.ErrUnexpectedEOF) {
			return "truncated JSON"
		}
		return fmt.Sprintf("syntax error at byte %d", se.ByteOffset)
	}
	return "not JSON"
}

// fieldPath writes a JSON pointer ("/patients/2/alc") as the API's errors
// name a field ("patients[2].alc"), below prefix (a patient's "patient.").
func fieldPath(prefix string, p jsontext.Pointer) string {
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(prefix, "."))
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// lastName is the last member name of a JSON pointer: the field itself.
func lastName(p jsontext.Pointer) string {
	name := ""
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err != nil {
			name = tok
		}
	}
	return name
}

// decodeProblem is the error answer to a body that decodeStrict refused,
// below prefix: a member given twice, an unknown one (naming the field it
// differs from in case only, if there is one), a value of the wrong kind
// (in want's words for the field: "a number (Gy)"), or malformed JSON.
// known lists the names the object takes, and hint follows the message of
// an unknown one that is no case variant of them.
func decodeProblem(err error, prefix string, want func(field string) string, known []string, hint string) (apiError, int) {
	var (
		se  *jsonv2.SemanticError
		syn *jsontext.SyntacticError
	)
	switch {
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		path := fieldPath(prefix, syn.JSONPointer)
		return apiError{Code: codeDuplicate, Message: lastName(syn.JSONPointer) + " is given twice: give each field once", Field: path}, http.StatusBadRequest
	case errors.As(err, &se) && errors.Is(se.Err, jsonv2.ErrUnknownName):
		name := lastName(se.JSONPointer)
		msg := "unknown field " + name
		if exact := caseVariant(name, known); exact != "" {
			msg += "; field names are case-sensitive: " + exact
		} else {
			msg += hint
		}
		return apiError{Code: codeUnknownField, Message: msg, Field: fieldPath(prefix, se.JSONPointer)}, http.StatusUnprocessableEntity
	case errors.As(err, &se) && len(se.JSONPointer) > 0:
		path := fieldPath(prefix, se.JSONPointer)
		got := kindName(se.JSONKind)
		if se.JSONKind == '0' && len(se.JSONValue) > 0 {
			got += " " + string(se.JSONValue)
		}
		return apiError{Code: codeInvalid, Message: fmt.Sprintf("%s must be %s, got %s", path, want(lastName(se.JSONPointer)), got), Field: path}, http.StatusUnprocessableEntity
	case errors.As(err, &se):
		// A value of the wrong kind where an object belongs: the body
		// itself was checked to be one (checkObject), so this is a patient
		// or a regimen inside it.
		what := strings.TrimSuffix(prefix, ".")
		if what == "" {
			what = "the body"
		}
		return apiError{Code: codeInvalid, Message: what + " must be a JSON object, got " + kindName(se.JSONKind), Field: strings.TrimSuffix(prefix, ".")}, http.StatusUnprocessableEntity
	}
	return apiError{Code: codeMalformed, Message: "not a JSON object: " + syntaxProblem(err), Field: strings.TrimSuffix(prefix, ".")}, http.StatusBadRequest
}

// caseVariant returns the name of known that name spells with other
// cases, or "".
func caseVariant(name string, known []string) string {
	for _, k := range known {
		if k != name && strings.EqualFold(k, name) {
			return k
		}
	}
	return ""
}

// patientFields names every field of a patient (outcomes too: a client
// sending one is told it is an outcome, not that it is unknown).
var patientFields = func() []string {
	var names []string
	for _, f := range data.CohortFields() {
		names = append(names, f.Name)
	}
	return names
}()
