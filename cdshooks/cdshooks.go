// Package cdshooks is the CDS Hooks 2.0 side of abscopal
// (https://cds-hooks.hl7.org/2.0/): the discovery document, request,
// card and feedback types, the check of the JSON Web Token an EHR signs
// each request with (Verifier, on go-jose), and the gathering of a
// patient's chart from the request's prefetch or, when the EHR sent none,
// from its FHIR server (Fetcher). The api package serves the services with
// them.
package cdshooks

import (
	"encoding/json"
	"errors"
)

// Hooks served.
const (
	PatientView = "patient-view"
	OrderSelect = "order-select"
)

// Service is one entry of the discovery document.
type Service struct {
	Hook              string            `json:"hook"`
	Title             string            `json:"title,omitempty"`
	Description       string            `json:"description"`
	ID                string            `json:"id"`
	Prefetch          map[string]string `json:"prefetch,omitempty"`
	UsageRequirements string            `json:"usageRequirements,omitempty"`
}

// Discovery is GET /cds-services's answer.
type Discovery struct {
	Services []Service `json:"services"`
}

// Request is a hook's call of a service.
type Request struct {
	Hook              string                     `json:"hook"`
	HookInstance      string                     `json:"hookInstance"`
	FHIRServer        string                     `json:"fhirServer,omitempty"`
	FHIRAuthorization *FHIRAuthorization         `json:"fhirAuthorization,omitempty"`
	Context           Context                    `json:"context"`
	Prefetch          map[string]json.RawMessage `json:"prefetch,omitempty"`
}

// Context is a hook's context: the patient, and for order-select the
// orders being written.
type Context struct {
	UserID      string          `json:"userId"`
	PatientID   string          `json:"patientId"`
	EncounterID string          `json:"encounterId,omitempty"`
	Selections  []string        `json:"selections,omitempty"`
	DraftOrders json.RawMessage `json:"draftOrders,omitempty"`
}

// FHIRAuthorization is the bearer token the service may use on the EHR's
// FHIR server.
type FHIRAuthorization struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	Subject     string `json:"subject"`
}

// Response is a service's answer.
type Response struct {
	Cards []Card `json:"cards"`
}

// Card is one card for the EHR to show.
type Card struct {
	UUID      string `json:"uuid,omitempty"`
	Summary   string `json:"summary"`
	Detail    string `json:"detail,omitempty"`
	Indicator string `json:"indicator"` // info, warning or critical
	Source    Source `json:"source"`
	Links     []Link `json:"links,omitempty"`
}

// Source is where a card's guidance comes from.
type Source struct {
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// Link is a link a card offers.
type Link struct {
	Label string `json:"label"`
	URL   string `json:"url"`
	Type  string `json:"type"` // absolute or smart
}

// MaxSummary is the length a card's summary stays under (in characters).
const MaxSummary = 140

// Feedback is what a CDS client reports of its users' actions on cards.
type Feedback struct {
	Feedback []FeedbackItem `json:"feedback"`
}

// FeedbackItem is one card's outcome.
type FeedbackItem struct {
	Card             string          `json:"card"`
	Outcome          string          `json:"outcome"` // accepted or overridden
	OutcomeTimestamp string          `json:"outcomeTimestamp"`
	OverrideReason   json.RawMessage `json:"overrideReason,omitempty"`
}

// Errors a request can be refused with.
var (
	// ErrRequest is a request that is not a hook's call of this service.
	ErrRequest = errors.New("cds hooks request")
	// ErrPrecondition is data the service needs and could not get: no
	// prefetch and no FHIR server, or a FHIR server that failed (CDS
	// Hooks: 412 Precondition Failed).
	ErrPrecondition = errors.New("the patient's data could not be obtained")
	// ErrUnauthorized is a request whose JSON Web Token does not hold.
	ErrUnauthorized = errors.New("cds hooks authorization")
)
