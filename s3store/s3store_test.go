package s3store_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/internal/testkit/registrytest"
	"github.com/abscopal/abscopal/internal/testkit/s3test"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/s3store"
)

var (
	server   *s3test.Server
	startErr error
)

func TestMain(m *testing.M) { os.Exit(s3test.Main(m, &server, &startErr)) }

// TestRegistryOnS3 runs the registry's contract on a real S3-compatible
// server (SeaweedFS): conditional writes, listing and ETags as a store
// gives them, not as a fake imagines them.
func TestRegistryOnS3(t *testing.T) {
	srv := s3test.Need(t, server, startErr)
	registrytest.Contract(t, func(t *testing.T) *models.Registry {
		st, err := s3store.Open(t.Context(), srv.URL(t), s3store.Config{Getenv: srv.Getenv})
		if err != nil {
			t.Fatal(err)
		}
		return &models.Registry{Store: st, Actor: "test"}
	})
}

// TestOpenErrors: a bad URL, a missing bucket and a wrong secret each say
// what is wrong, and never echo the secret.
func TestOpenErrors(t *testing.T) {
	srv := s3test.Need(t, server, startErr)
	bucket := srv.Bucket()
	wrongSecret := func(k string) string {
		if k == "AWS_SECRET_ACCESS_KEY" {
			return "not-the-secret-1234"
		}
		return srv.Getenv(k)
	}
	for _, tc := range []struct {
		url    string
		getenv func(string) string
		want   string
	}{
		{"s3:///prefix", srv.Getenv, "s3://BUCKET"},
		{"s3://" + bucket + "?x=1", srv.Getenv, "s3://BUCKET"},
		{"s3://no-such-bucket-abscopal/p", srv.Getenv, `no bucket "no-such-bucket-abscopal"`},
		{"s3://" + bucket + "/p", wrongSecret, "AWS_SECRET_ACCESS_KEY"},
	} {
		_, err := s3store.Open(t.Context(), tc.url, s3store.Config{Getenv: tc.getenv})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): %v, want an error saying %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "not-the-secret-1234") {
			t.Errorf("Open(%s) echoes the secret: %v", tc.url, err)
		}
	}
	if _, err := s3store.Open(t.Context(), "s3://x", s3store.Config{Getenv: func(k string) string {
		if k == "AWS_ENDPOINT_URL" {
			return "ftp://host"
		}
		return ""
	}}); err == nil || !strings.Contains(err.Error(), "AWS_ENDPOINT_URL") {
		t.Errorf("a bad endpoint: %v", err)
	}
	if !errors.Is(func() error { _, err := s3store.Open(t.Context(), "s3:///", s3store.Config{}); return err }(), s3store.ErrBadURL) {
		t.Error("a URL without a bucket is not ErrBadURL")
	}
}
