package cdshooks_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/abscopal/abscopal/cdshooks"
)

// TestVerifierFetchesJWKS: an issuer's JWKS at an https URL is fetched
// when first needed and again when a token names a key it lacks (the EHR
// rotated its keys), at most once a minute; an http:// JWKS is refused.
func TestVerifierFetchesJWKS(t *testing.T) {
	var mu sync.Mutex
	keys := []jose.JSONWebKey{}
	var fetches atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	}))
	defer srv.Close()
	addKey := func(kid string) *ecdsa.PrivateKey {
		k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		mu.Lock()
		keys = append(keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: string(jose.ES384), Use: "sig"})
		mu.Unlock()
		return k
	}
	first := addKey("k1")
	v, err := cdshooks.NewVerifier([]cdshooks.Issuer{{Issuer: "ehr", JWKS: srv.URL + "/jwks"}}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	const aud = "https://abscopal.example/cds-services/x"
	token := func(k *ecdsa.PrivateKey, kid, jti string) string {
		s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES384, Key: k}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
		tok, _ := jwt.Signed(s).Claims(jwt.Claims{Issuer: "ehr", Audience: jwt.Audience{aud}, ID: jti, Expiry: jwt.NewNumericDate(time.Now().Add(time.Minute))}).Serialize()
		return tok
	}
	ctx := context.Background()
	if c, err := v.Verify(ctx, token(first, "k1", "a"), aud); err != nil || c.Issuer != "ehr" || fetches.Load() != 1 {
		t.Fatalf("first key: %+v %v, %d fetches", c, err, fetches.Load())
	}
	second := addKey("k2")
	// A kid it lacks within the minute: not fetched again.
	if _, err := v.Verify(ctx, token(second, "k2", "b"), aud); !errors.Is(err, cdshooks.ErrUnauthorized) || !strings.Contains(err.Error(), `no key "k2"`) || fetches.Load() != 1 {
		t.Fatalf("a new key within the minute: %v, %d fetches", err, fetches.Load())
	}
	// A minute on, the rotated key is fetched and verifies.
	v.SetKeyRefresh(0)
	if _, err := v.Verify(ctx, token(second, "k2", "c"), aud); err != nil || fetches.Load() != 2 {
		t.Fatalf("the rotated key: %v, %d fetches", err, fetches.Load())
	}
	if _, err := cdshooks.NewVerifier([]cdshooks.Issuer{{Issuer: "ehr", JWKS: "http://ehr.example/jwks"}}, nil); err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("an http JWKS: %v", err)
	}
}
