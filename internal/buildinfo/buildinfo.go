// Package buildinfo reports the version of the running abscopal binary: the
// release version (set at link time), the Go version, the module versions and
// the VCS commit that go build records.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at link time: go build -ldflags "-X github.com/abscopal/abscopal/internal/buildinfo.version=v0.1.0".
var version = "dev"

// Info describes a build.
type Info struct {
	Version   string            `json:"version"`
	GoVersion string            `json:"go_version"`
	Commit    string            `json:"commit,omitempty"`
	Modified  bool              `json:"modified,omitempty"`
	Modules   map[string]string `json:"modules,omitempty"` // dependency path -> version
}

// Read returns the build information of the running binary.
func Read() Info {
	info := Info{Version: version, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	info.Modules = map[string]string{}
	for _, d := range bi.Deps {
		info.Modules[d.Path] = d.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String renders the one-line form printed by "abscopal version".
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "abscopal %s (%s", i.Version, i.GoVersion)
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		fmt.Fprintf(&b, ", commit %s", c)
		if i.Modified {
			b.WriteString("+modified")
		}
	}
	b.WriteString(")")
	return b.String()
}
