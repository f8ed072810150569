package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{"demo", []string{"demo", "--dir", demoDir, "--addr", addr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != 1 || !strings.Contains(stderr, "--addr "+addr+": ") || !strings.Contains(stderr, "address already in use") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
	if _, err := os.Stat(demoDir); !os.IsNotExist(err) {
		t.Errorf("the demo created %s before finding the port busy (%v)", demoDir, err)
	}
}
