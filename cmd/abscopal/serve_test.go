package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/api"
)

// TestPortInUse: serve and demo report a busy --addr at once, naming it,
// before the demo writes a cohort or trains anything.
func TestPortInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()
	dir := t.TempDir()
	demoDir := filepath.Join(dir, "demo")
	tests := []struct {
		name string
		args []string
	}{
		{"serve", []string{"serve", "--registry", dir, "--addr", addr}},
		{"serve's metrics", []string{"serve", "--registry", dir, "--addr", "127.0.0.1:0", "--metrics-addr", addr}},
		{"demo", []string{"demo", "--dir", demoDir, "--addr", addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			flag := "--addr "
			if strings.Contains(tt.name, "metrics") {
				flag = "--metrics-addr "
			}
			if code != 1 || !strings.Contains(stderr, flag+addr+": ") || !strings.Contains(stderr, "address already in use") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
	if _, err := os.Stat(demoDir); !os.IsNotExist(err) {
		t.Errorf("the demo created %s before finding the port busy (%v)", demoDir, err)
	}
}

// TestServeFlagsFromEnv: each flag of serve may come from ABSCOPAL_ and its
// name; a flag given wins; a value the flag refuses names the variable.
func TestServeFlagsFromEnv(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	t.Setenv("ABSCOPAL_REGISTRY", t.TempDir())
	t.Setenv("ABSCOPAL_ADDR", busy.Addr().String())

	code, _, stderr := runCLI(t, "serve")
	if code != 1 || !strings.Contains(stderr, "--addr "+busy.Addr().String()+": ") || !strings.Contains(stderr, "from the environment: ABSCOPAL_ADDR, ABSCOPAL_REGISTRY") {
		t.Errorf("from the environment: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "serve", "--addr", other.Addr().String())
	if code != 1 || !strings.Contains(stderr, "--addr "+other.Addr().String()+": ") || strings.Contains(stderr, "ABSCOPAL_ADDR") {
		t.Errorf("the flag given: exit %d, %q", code, stderr)
	}
	t.Setenv("ABSCOPAL_RATE_LIMIT", "fast")
	code, _, stderr = runCLI(t, "serve")
	if code != 2 || !strings.Contains(stderr, `ABSCOPAL_RATE_LIMIT (--rate-limit): invalid argument "fast"`) {
		t.Errorf("a bad value: exit %d, %q", code, stderr)
	}
}

// TestTokensFile: a line is a token or a client's name and its token;
// comments and blank lines are skipped; ABSCOPAL_TOKENS's entries are the
// same, comma-separated; an entry of three fields is refused, naming where
// it is and not what it holds.
func TestTokensFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens")
	os.WriteFile(file, []byte("# clients\n\nehr-prod  s3cret\n  plain-token  \n"), 0o600)
	t.Setenv("ABSCOPAL_TOKENS", " envtok , lab  labtok,")
	got, err := (&serveFlags{tokensFile: file}).tokens()
	want := []api.Token{{Client: "ehr-prod", Secret: "s3cret"}, {Secret: "plain-token"}, {Secret: "envtok"}, {Client: "lab", Secret: "labtok"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("tokens %v (%v), want %v", got, err, want)
	}
	os.WriteFile(file, []byte("ok\nehr prod s3cret\n"), 0o600)
	if _, err := (&serveFlags{tokensFile: file}).tokens(); err == nil || !strings.Contains(err.Error(), "line 2: 3 fields") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("three fields: %v", err)
	}
	t.Setenv("ABSCOPAL_TOKENS", "a,b c d")
	if _, err := (&serveFlags{}).tokens(); err == nil || err.Error() != "ABSCOPAL_TOKENS: entry 2: 3 fields (allowed: a token, or a client name and its token)" {
		t.Errorf("three fields in the environment: %v", err)
	}

	// A token given by its digest, in the file or the environment.
	digest := sha256.Sum256([]byte("labtok"))
	hexDigest := hex.EncodeToString(digest[:])
	os.WriteFile(file, []byte("lab sha256:"+hexDigest+"\n"), 0o600)
	t.Setenv("ABSCOPAL_TOKENS", "sha256:"+strings.ToUpper(hexDigest))
	got, err = (&serveFlags{tokensFile: file}).tokens()
	if err != nil || len(got) != 2 || got[0].Client != "lab" || got[1].Client != "" {
		t.Fatalf("digests: %+v, %v", got, err)
	}
	for _, tok := range got {
		if tok.Secret != "" || tok.SHA256 == nil || *tok.SHA256 != digest {
			t.Errorf("a digest entry read as %+v", tok)
		}
	}
	t.Setenv("ABSCOPAL_TOKENS", "")
	for _, bad := range []string{"sha256:" + hexDigest[:62], "lab sha256:" + hexDigest[:63] + "g", "sha256:"} {
		os.WriteFile(file, []byte(bad+"\n"), 0o600)
		_, err := (&serveFlags{tokensFile: file}).tokens()
		if err == nil || !strings.Contains(err.Error(), "line 1: a sha256: entry takes 64 hexadecimal digits") || strings.Contains(err.Error(), hexDigest[:62]) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestTokenCommand: abscopal token makes a different 256-bit token each
// time, and a tokens-file line that admits it by its digest alone.
func TestTokenCommand(t *testing.T) {
	var tokens []string
	for range 2 {
		code, out, errOut := runCLI(t, "token", "--client", "ehr-prod", "--json")
		var got madeToken
		if code != 0 || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("exit %d: %s %s", code, out, errOut)
		}
		tok, err := parseToken(got.Line)
		digest := sha256.Sum256([]byte(got.Token))
		if err != nil || tok.Client != "ehr-prod" || tok.SHA256 == nil || *tok.SHA256 != digest || strings.Contains(got.Line, got.Token) {
			t.Errorf("line %q for token %q: %+v, %v", got.Line, got.Token, tok, err)
		}
		if b, err := hex.DecodeString(got.Token); err != nil || len(b) != tokenBytes {
			t.Errorf("token %q: not %d bytes in hex", got.Token, tokenBytes)
		}
		tokens = append(tokens, got.Token)
	}
	if tokens[0] == tokens[1] {
		t.Error("two tokens are the same")
	}
	if code, _, errOut := runCLI(t, "token", "--client", "ehr prod"); code != 2 || !strings.Contains(errOut, `client name "ehr prod"`) {
		t.Errorf("a client name with a space: exit %d, %s", code, errOut)
	}
}

// TestRequireModelsFlag: an empty name among --require-models is a usage
// error, before the server listens.
func TestRequireModelsFlag(t *testing.T) {
	code, _, errOut := runCLI(t, "serve", "--registry", t.TempDir(), "--addr", "127.0.0.1:0", "--require-models", "abscopal,,response")
	if code != 2 || !strings.Contains(errOut, `--require-models "abscopal,,response": an empty name`) {
		t.Errorf("exit %d, %s", code, errOut)
	}
}
