// Package gobuild builds abscopal's binary for the tests that run it.
package gobuild

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
)

// Build builds the command package pkg into out, statically
// (CGO_ENABLED=0), with the build tags the running test binary was built
// with (CI's -tags nomsgpack): the build then reuses the packages the tests
// compiled instead of compiling every dependency again.
func Build(pkg, out string) error {
	args := []string{"build", "-o", out}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" {
				args = append(args, "-tags", s.Value)
			}
		}
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
