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

	"github.com/abscopal/abscopal/internal/testcert"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	addr := ln.Addr().String()

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
