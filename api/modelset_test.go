package api

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/abscopal/abscopal/models"
)

// TestAliasesOf: an alias's since is the first of its latest moves to the
// served version; aliases pointing elsewhere are left out; without a
// history, or with one that cannot be read, the times are.
func TestAliasesOf(t *testing.T) {
	reg := &models.Registry{Dir: t.TempDir()}
	for range 2 {
		if _, err := reg.Publish("m", map[string][]byte{"bundle.json": []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(reg.Dir, "m")
	os.MkdirAll(filepath.Join(dir, "aliases"), 0o755)
	os.WriteFile(filepath.Join(dir, "aliases", "production"), []byte("v1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "aliases", "staging"), []byte("v2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "aliases", "canary"), []byte("v1\n"), 0o644)
	if got := aliasesOf(reg, "m", "v1"); len(got) != 2 || got[0].Alias != "canary" || got[1].Alias != "production" || got[0].Since != nil || got[1].Since != nil {
		t.Errorf("without a history: %+v", got)
	}
	os.WriteFile(filepath.Join(dir, "ALIAS_HISTORY"), []byte(
		`{"time":"2026-11-01T10:00:00Z","alias":"production","version":"v1"}
{"time":"2026-11-02T10:00:00Z","alias":"production","version":"v2","previous":"v1"}
{"time":"2026-11-03T10:00:00Z","alias":"production","version":"v1","previous":"v2"}
{"time":"2026-11-04T10:00:00Z","alias":"staging","version":"v2"}
{"time":"2026-11-05T10:00:00Z","alias":"production","version":"v1","previous":"v1"}
`), 0o644)
	got := aliasesOf(reg, "m", "v1")
	want := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	if len(got) != 2 || got[1].Alias != "production" || got[1].Since == nil || !got[1].Since.Equal(want) || got[0].Since != nil {
		t.Errorf("with a history: %+v; want production since %v, canary without", got, want)
	}
	os.WriteFile(filepath.Join(dir, "ALIAS_HISTORY"), []byte("{broken\n"), 0o644)
	if got := aliasesOf(reg, "m", "v1"); len(got) != 2 || got[1].Since != nil {
		t.Errorf("with a broken history: %+v", got)
	}
}
