package cdshooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Issuer is an EHR trusted to call the services: the iss of its tokens
// and its JSON Web Key Set, an https URL or a file.
type Issuer struct {
	Issuer string
	JWKS   string
}

// Algorithms are the signatures CDS Hooks 2.0 names for its tokens.
var Algorithms = []jose.SignatureAlgorithm{jose.ES384, jose.RS384}

// MaxLifetime is how far ahead a token may expire: CDS Hooks asks the
// client for five minutes at most.
const MaxLifetime = 5 * time.Minute

// leeway allows for the clocks of the EHR and the service.
const leeway = 30 * time.Second

// Verifier checks the JSON Web Tokens EHRs sign their calls with, as CDS
// Hooks 2.0 says: signed with ES384 or RS384 by a key of the issuer's
// JWKS (by kid), iss a trusted issuer, aud the URL called, exp within
// five minutes, and a jti not seen before (a replay is refused).
type Verifier struct {
	client  *http.Client
	now     func() time.Time
	refresh time.Duration // the least time between two fetches of a JWKS
	issuers map[string]*keySet

	mu   sync.Mutex
	seen map[string]time.Time // jti, by issuer, to its expiry
}

// keySet is an issuer's keys: read from a file once, or fetched from a
// URL and fetched again for a kid it lacks (at most once a minute).
type keySet struct {
	source  string
	mu      sync.Mutex
	keys    jose.JSONWebKeySet
	fetched time.Time
}

// NewVerifier trusts the issuers. A JWKS file is read now, so that a
// mistake shows at start; a URL, when first needed. client fetches the
// URLs (nil: a client with a 10-second timeout).
func NewVerifier(issuers []Issuer, client *http.Client) (*Verifier, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	v := &Verifier{client: client, now: time.Now, refresh: time.Minute, issuers: map[string]*keySet{}, seen: map[string]time.Time{}}
	for _, is := range issuers {
		if is.Issuer == "" || is.JWKS == "" {
			return nil, fmt.Errorf("cds hooks issuer %q with JWKS %q: give both", is.Issuer, is.JWKS)
		}
		ks := &keySet{source: is.JWKS}
		if !isURL(is.JWKS) {
			b, err := os.ReadFile(is.JWKS)
			if err != nil {
				return nil, fmt.Errorf("cds hooks issuer %s: %w", is.Issuer, err)
			}
			if err := json.Unmarshal(b, &ks.keys); err != nil || len(ks.keys.Keys) == 0 {
				return nil, fmt.Errorf("cds hooks issuer %s: %s is not a JSON Web Key Set with keys", is.Issuer, is.JWKS)
			}
		} else if u, _ := url.Parse(is.JWKS); u.Scheme != "https" {
			return nil, fmt.Errorf("cds hooks issuer %s: JWKS URL %s is not https", is.Issuer, is.JWKS)
		}
		v.issuers[is.Issuer] = ks
	}
	return v, nil
}

// SetKeyRefresh sets the least time between two fetches of an issuer's
// JWKS for a key it lacks (default a minute: a flood of tokens naming
// unknown keys does not become a flood of fetches).
func (v *Verifier) SetKeyRefresh(d time.Duration) { v.refresh = d }

func isURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// Claims are what a verified token says.
type Claims struct {
	Issuer, Subject, ID string
	Tenant              string `json:"tenant,omitempty"`
}

// Verify checks the bearer token of a call of audience (the full URL
// called). Its errors wrap ErrUnauthorized and say which check failed,
// never the token.
func (v *Verifier) Verify(ctx context.Context, token, audience string) (*Claims, error) {
	fail := func(format string, args ...any) (*Claims, error) {
		return nil, fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
	}
	if token == "" {
		return fail("no bearer token: the EHR signs each call with a JSON Web Token")
	}
	tok, err := jwt.ParseSigned(token, Algorithms)
	if err != nil {
		return fail("not a JSON Web Token signed with ES384 or RS384")
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return fail("the token's claims do not read")
	}
	ks, ok := v.issuers[unverified.Issuer]
	if !ok {
		return fail("issuer %q is not trusted (--cds-issuer)", unverified.Issuer)
	}
	kid := tok.Headers[0].KeyID
	keys, err := ks.lookup(ctx, v.client, kid, v.refresh)
	if err != nil {
		return fail("issuer %s: %v", unverified.Issuer, err)
	}
	var claims jwt.Claims
	var extra struct {
		Tenant string `json:"tenant"`
	}
	verified := false
	for _, k := range keys {
		if tok.Claims(k.Key, &claims, &extra) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return fail("the signature does not verify with issuer %s's key %q", unverified.Issuer, kid)
	}
	now := v.now()
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: unverified.Issuer, AnyAudience: jwt.Audience{audience}, Time: now}, leeway); err != nil {
		switch {
		case errors.Is(err, jwt.ErrInvalidAudience):
			return fail("aud is not %s, the URL called", audience)
		case errors.Is(err, jwt.ErrExpired):
			return fail("the token has expired")
		}
		return fail("%v", err)
	}
	switch {
	case claims.Expiry == nil:
		return fail("the token has no exp")
	case claims.Expiry.Time().After(now.Add(MaxLifetime + leeway)):
		return fail("exp is more than %v ahead", MaxLifetime)
	case claims.ID == "":
		return fail("the token has no jti")
	}
	if !v.remember(claims.Issuer+" "+claims.ID, claims.Expiry.Time(), now) {
		return fail("jti already used: a replayed token")
	}
	return &Claims{Issuer: claims.Issuer, Subject: claims.Subject, ID: claims.ID, Tenant: extra.Tenant}, nil
}

// remember records a jti until its token expires; false if it was seen.
func (v *Verifier) remember(id string, exp, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, seen := v.seen[id]; seen {
		return false
	}
	if len(v.seen) >= 1024 {
		for k, e := range v.seen {
			if e.Add(leeway).Before(now) {
				delete(v.seen, k)
			}
		}
	}
	v.seen[id] = exp
	return true
}

// lookup returns the keys that may have signed a token with kid: the one
// with that kid, or every key when the token names none.
func (ks *keySet) lookup(ctx context.Context, client *http.Client, kid string, refresh time.Duration) ([]jose.JSONWebKey, error) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	find := func() []jose.JSONWebKey {
		if kid == "" {
			return ks.keys.Keys
		}
		return ks.keys.Key(kid)
	}
	if found := find(); len(found) > 0 {
		return found, nil
	}
	if !isURL(ks.source) {
		return nil, fmt.Errorf("no key %q in its JWKS", kid)
	}
	if !ks.fetched.IsZero() && time.Since(ks.fetched) < refresh {
		return nil, fmt.Errorf("no key %q in its JWKS (fetched %v ago)", kid, time.Since(ks.fetched).Round(time.Second))
	}
	if err := ks.fetch(ctx, client); err != nil {
		return nil, err
	}
	if found := find(); len(found) > 0 {
		return found, nil
	}
	return nil, fmt.Errorf("no key %q in its JWKS", kid)
}

func (ks *keySet) fetch(ctx context.Context, client *http.Client) error {
	ks.fetched = time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.source, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("its JWKS could not be fetched: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("its JWKS answered %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return errors.New("its JWKS is not a JSON Web Key Set")
	}
	ks.keys = set
	return nil
}
