package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// apiError is the one error envelope of /v1:
// {"error": {"code": ..., "message": ..., "field": ...}}.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error codes.
const (
	codeMalformed    = "malformed_json"
	codeUnknownField = "unknown_field"
	codeInvalid      = "invalid_value"
	codeTooLarge     = "body_too_large"
	codeNotFound     = "not_found"
	codeUnauthorized = "unauthorized"
	codeUnavailable  = "no_model"
	codeInternal     = "internal"
	codeRateLimited  = "rate_limited"
	codeDuplicate    = "duplicate_field"
	codeMediaType    = "unsupported_media_type"
	codePrecondition = "precondition_failed" // CDS Hooks: the patient's data could not be obtained
)

// abort answers with the error and stops the handlers. Like every answer
// here, it is written by PureJSON: gin's JSON escapes <, > and & for HTML,
// which an application/json answer (with nosniff) does not need, and
// "pneumonitis_grade >= 2" would read "\u003e=" in a terminal.
func abort(c *gin.Context, status int, e apiError) {
	c.Abort()
	if strings.HasPrefix(c.Request.URL.Path, "/fhir/") {
		msg := e.Message
		if e.Field != "" && !strings.Contains(msg, e.Field) {
			msg = e.Field + ": " + msg
		}
		abortFHIR(c, status, nil, msg)
		return
	}
	if strings.HasPrefix(c.Request.URL.Path, "/v2") {
		// The Open Inference Protocol's error shape.
		msg := e.Message
		if e.Field != "" && !strings.Contains(msg, e.Field) {
			msg = e.Field + ": " + msg
		}
		c.PureJSON(status, gin.H{"error": msg})
		return
	}
	c.PureJSON(status, gin.H{"error": e})
}

func notFound(c *gin.Context, what string) {
	abort(c, http.StatusNotFound, apiError{Code: codeNotFound, Message: what + " not found"})
}
