package api

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/abscopal/abscopal/internal/testkit/syncbuf"
	"github.com/abscopal/abscopal/internal/testkit/testcert"
)

// TestTLS serves HTTPS on a real listener: a client that trusts the
// certificate is answered, plain HTTP and TLS 1.1 are not, and a renewed
// certificate is served to new connections after ReloadCertificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := testcert.Write(t, dir, 1)
	srv, err := New(Config{Registry: sharedRegistry(t), TLSCertFile: certFile, TLSKeyFile: keyFile, WatchInterval: -1,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveOn(t, srv)

	// get calls /readyz over a new connection trusting cert, and returns
	// the serial of the certificate the server showed.
	get := func(cert *x509.Certificate) (int64, error) {
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + "/readyz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("/readyz over TLS: %s", resp.Status)
		}
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), nil
	}
	if serial, err := get(cert); err != nil || serial != 1 {
		t.Fatalf("HTTPS: serial %d, %v", serial, err)
	}

	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS port: %s, want 400", resp.Status)
	}

	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	// A renewed certificate: served after the reload, not before.
	_, _, renewed := testcert.Write(t, dir, 2)
	if _, err := get(renewed); err == nil {
		t.Error("the renewed certificate was served before the reload")
	}
	if err := srv.ReloadCertificate(); err != nil {
		t.Fatal(err)
	}
	if serial, err := get(renewed); err != nil || serial != 2 {
		t.Errorf("after ReloadCertificate: serial %d, %v", serial, err)
	}

	// A broken renewal keeps the current pair.
	os.WriteFile(keyFile, []byte("not a key"), 0o600)
	if err := srv.ReloadCertificate(); err == nil || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("reload of a broken key: %v", err)
	}
	if serial, err := get(renewed); err != nil || serial != 2 {
		t.Errorf("after a failed reload: serial %d, %v", serial, err)
	}
}

func TestTLSConfigRefused(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := testcert.Write(t, dir, 1)
	other := t.TempDir()
	_, otherKey, _ := testcert.Write(t, other, 2)
	for _, tt := range []struct {
		name, cert, key, want string
	}{
		{"certificate without key", certFile, "", "both a certificate and its key"},
		{"key without certificate", "", keyFile, "both a certificate and its key"},
		{"missing file", filepath.Join(dir, "nope.pem"), keyFile, "nope.pem"},
		{"key of another certificate", certFile, otherKey, "private key does not match public key"},
		{"key as certificate", keyFile, keyFile, "key.pem"},
	} {
		_, err := New(Config{Registry: sharedRegistry(t), TLSCertFile: tt.cert, TLSKeyFile: tt.key, WatchInterval: -1,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

// TestMutualTLS: with client certificate authorities, /v1 and /v2 answer a
// client whose certificate one of them issued, named in the request log by
// its common name, and refuse one without a certificate or with another
// authority's (which Go's client does not send, as the server names the
// authorities it accepts: 401); health probes need none.
func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := testcert.Write(t, dir, 1)
	ca := testcert.NewAuthority(t, dir, "hospital-ca")
	other := testcert.NewAuthority(t, dir, "other-ca")
	var logs syncbuf.Buffer
	srv, err := New(Config{Registry: sharedRegistry(t), TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: ca.File, WatchInterval: -1,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveOn(t, srv)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	get := func(path string, certs ...tls.Certificate) (int, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + path)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get("/v1/models", ca.Client(t, "ehr-prod")); err != nil || code != 200 {
		t.Errorf("with a certificate of the authority: %d %v", code, err)
	}
	if code, err := get("/v1/models"); err != nil || code != 401 {
		t.Errorf("without a certificate: %d %v, want 401", code, err)
	}
	if code, err := get("/readyz"); err != nil || code != 200 {
		t.Errorf("health without a certificate: %d %v, want 200", code, err)
	}
	if code, err := get("/v1/models", other.Client(t, "intruder")); err == nil && code != 401 {
		t.Errorf("a certificate of another authority: %d, want 401 or a failed handshake", code)
	}
	// A client that sends it anyway fails the handshake.
	intruder := other.Client(t, "intruder")
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &intruder, nil }})
	if err == nil {
		// TLS 1.3 reports the server's refusal at the first read.
		_, err = conn.Write([]byte("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"))
		if err == nil {
			_, err = conn.Read(make([]byte, 1))
		}
		conn.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("another authority's certificate sent anyway: %v, want a refused handshake", err)
	}
	// The authorities renewed: reread with the certificate, the new one's
	// clients are answered and the old one's are not.
	renewed := testcert.NewAuthority(t, t.TempDir(), "hospital-ca-2")
	b, _ := os.ReadFile(renewed.File)
	os.WriteFile(ca.File, b, 0o600)
	if err := srv.ReloadCertificate(); err != nil {
		t.Fatal(err)
	}
	if code, err := get("/v1/models", renewed.Client(t, "ehr-prod")); err != nil || code != 200 {
		t.Errorf("the renewed authority's client: %d %v", code, err)
	}
	if code, err := get("/v1/models", ca.Client(t, "ehr-old")); err == nil && code != 401 {
		t.Errorf("the replaced authority's client: %d, want refused", code)
	}
	if text := logs.WaitFor(`"client":"ehr-prod"`, 1); !strings.Contains(text, `"client":"ehr-prod"`) || strings.Contains(text, "intruder") {
		t.Errorf("the log should name ehr-prod:\n%s", text)
	}
	if _, err := New(Config{Registry: sharedRegistry(t), TLSClientCAFile: ca.File}); err == nil || !strings.Contains(err.Error(), "client certificates need TLS") {
		t.Errorf("client authorities without TLS: %v", err)
	}
	if _, err := New(Config{Registry: sharedRegistry(t), TLSCertFile: certFile, TLSKeyFile: keyFile, TLSClientCAFile: keyFile}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("authorities file without a certificate: %v", err)
	}
}

// serveOn serves srv on a loopback port until the test ends, then stops it
// and checks that Serve returned cleanly; it returns the address.
func serveOn(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return ln.Addr().String()
}
