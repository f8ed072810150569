package cdshooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Fetcher gathers a patient's chart for a call: each prefetch template's
// data from the request's prefetch, or from the EHR's FHIR server with the
// access token the request gives when the prefetch lacks it. It never logs
// what it reads.
type Fetcher struct {
	// Client fetches from FHIR servers (nil: a client with a 10-second
	// timeout).
	Client *http.Client
	// AllowHTTP lets a request name an http:// FHIR server (a sandbox on
	// the same host); without it only https is used: the access token and
	// the chart would otherwise cross the network in clear.
	AllowHTTP bool
	// Servers, when set, are the only FHIR servers fetched from: a
	// request's fhirServer must be one of them or under one (a base URL
	// prefix). Without them any https server a caller names is fetched
	// from, which lets whoever may call the service make this server send
	// requests (SSRF): set them in production.
	Servers []string
	// MaxPages bounds the pages of one search followed by their next
	// links (default 10); MaxBytes one answer's size (default 8 MiB).
	MaxPages int
	MaxBytes int64
}

// Chart gathers the resources the templates ask for into a FHIR Bundle
// (type collection): each template's prefetch, or the FHIR server's answer
// to the template's query; for order-select, the draft orders too. A
// template's data that the EHR neither prefetched nor can be fetched is
// ErrPrecondition, naming the template's key.
func (f *Fetcher) Chart(ctx context.Context, req *Request, templates map[string]string) ([]byte, error) {
	var resources []json.RawMessage
	keys := make([]string, 0, len(templates))
	for k := range templates {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the chart's order, the same every call
	for _, key := range keys {
		raw, ok := req.Prefetch[key]
		if ok && !isNullJSON(raw) {
			rs, err := resourcesOf(raw)
			if err != nil {
				return nil, fmt.Errorf("%w: prefetch %s: %v", ErrRequest, key, err)
			}
			resources = append(resources, rs...)
			continue
		}
		if req.FHIRServer == "" {
			return nil, fmt.Errorf("%w: prefetch %s is missing and the request names no fhirServer to fetch it from", ErrPrecondition, key)
		}
		rs, err := f.fetch(ctx, req, key, templates[key])
		if err != nil {
			return nil, err
		}
		resources = append(resources, rs...)
	}
	if len(req.Context.DraftOrders) > 0 && !isNullJSON(req.Context.DraftOrders) {
		rs, err := resourcesOf(req.Context.DraftOrders)
		if err != nil {
			return nil, fmt.Errorf("%w: context.draftOrders: %v", ErrRequest, err)
		}
		resources = append(resources, rs...)
	}
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"collection","entry":[`)
	for i, r := range resources {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"resource":`)
		b.Write(r)
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// resourcesOf is a prefetch value's resources: a resource, or a Bundle's
// entries (a search's answer).
func resourcesOf(raw json.RawMessage) ([]json.RawMessage, error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ResourceType == "" {
		return nil, errors.New("not a FHIR resource")
	}
	if head.ResourceType != "Bundle" {
		return []json.RawMessage{raw}, nil
	}
	var out []json.RawMessage
	for _, e := range head.Entry {
		if len(e.Resource) > 0 {
			out = append(out, e.Resource)
		}
	}
	return out, nil
}

// fetch runs one template's query on the request's FHIR server, following
// a search's next links.
func (f *Fetcher) fetch(ctx context.Context, req *Request, key, template string) ([]json.RawMessage, error) {
	base, err := url.Parse(strings.TrimSuffix(req.FHIRServer, "/"))
	if err != nil || base.Host == "" || (base.Scheme != "https" && base.Scheme != "http") {
		return nil, fmt.Errorf("%w: fhirServer is not an absolute URL", ErrRequest)
	}
	if base.Scheme != "https" && !f.AllowHTTP {
		return nil, fmt.Errorf("%w: fhirServer %s is not https: the access token and the chart would cross the network in clear (serve --cds-allow-http allows it for a sandbox)", ErrRequest, base.Redacted())
	}
	if len(f.Servers) > 0 && !allowed(base.String(), f.Servers) {
		return nil, fmt.Errorf("%w: fhirServer %s is not one this service fetches from (serve --cds-fhir-server)", ErrRequest, base.Redacted())
	}
	if req.FHIRAuthorization != nil && !strings.EqualFold(req.FHIRAuthorization.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: fhirAuthorization.token_type %q: want Bearer", ErrRequest, req.FHIRAuthorization.TokenType)
	}
	query := strings.ReplaceAll(template, "{{context.patientId}}", url.QueryEscape(req.Context.PatientID))
	next := base.String() + "/" + query
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	pages, limit := f.MaxPages, f.MaxBytes
	if pages == 0 {
		pages = 10
	}
	if limit == 0 {
		limit = 8 << 20
	}
	var out []json.RawMessage
	for page := 0; next != ""; page++ {
		if page == pages {
			return nil, fmt.Errorf("%w: %s: more than %d pages", ErrPrecondition, key, pages)
		}
		u, err := url.Parse(next)
		if err != nil || u.Host != base.Host || u.Scheme != base.Scheme {
			// A next link to another server would take the token there.
			return nil, fmt.Errorf("%w: %s: a next link outside fhirServer", ErrPrecondition, key)
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		hr.Header.Set("Accept", "application/fhir+json")
		if a := req.FHIRAuthorization; a != nil {
			hr.Header.Set("Authorization", "Bearer "+a.AccessToken)
		}
		resp, err := client.Do(hr)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: the FHIR server could not be reached", ErrPrecondition, key)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
		resp.Body.Close()
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: %s: the FHIR server's answer could not be read", ErrPrecondition, key)
		case resp.StatusCode == http.StatusNotFound && page == 0 && !strings.Contains(query, "?"):
			return nil, nil // a read of a resource the server does not have
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("%w: %s: the FHIR server answered %s", ErrPrecondition, key, resp.Status)
		case int64(len(body)) > limit:
			return nil, fmt.Errorf("%w: %s: the FHIR server's answer exceeds %d bytes", ErrPrecondition, key, limit)
		}
		rs, err := resourcesOf(body)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: the FHIR server's answer is not a FHIR resource", ErrPrecondition, key)
		}
		out = append(out, rs...)
		next = nextLink(body)
	}
	return out, nil
}

// allowed reports whether the server base is one of servers or under one,
// by whole path segments (https://ehr.org/fhir does not admit
// https://ehr.org/fhirevil).
func allowed(base string, servers []string) bool {
	for _, s := range servers {
		s = strings.TrimSuffix(s, "/")
		if base == s || strings.HasPrefix(base, s+"/") {
			return true
		}
	}
	return false
}

// nextLink is a search Bundle's next page, if any.
func nextLink(body []byte) string {
	var b struct {
		Link []struct {
			Relation string `json:"relation"`
			URL      string `json:"url"`
		} `json:"link"`
	}
	json.Unmarshal(body, &b)
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

func isNullJSON(b []byte) bool {
	return len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null"
}
