package api

import _ "embed"

// openAPISpec is the API's OpenAPI 3 document, written by hand and checked
// against the handlers by the tests.
//
//go:embed openapi.json
var openAPISpec []byte
