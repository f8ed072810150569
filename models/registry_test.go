package models

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRegistryPublishAliasVerify(t *testing.T) {
	reg := &Registry{Dir: t.TempDir()}
	files := map[string][]byte{"bundle.json": []byte(`{"format":1}`), "card.md": []byte("# card\n")}
	v1, err := reg.Publish("abscopal", files)
	if err != nil || v1 != "v1" {
		t.Fatalf("publish: %v %v", v1, err)
	}
	v2, err := reg.Publish("abscopal", files)
	if err != nil || v2 != "v2" {
		t.Fatalf("publish again: %v %v", v2, err)
	}
	if _, v, _ := reg.Resolve("abscopal"); v != "v2" {
		t.Errorf("latest resolves to %s, want v2", v)
	}
	if err := reg.SetAlias("abscopal", "production", "v1"); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{"abscopal": "v1", "abscopal@production": "v1", "abscopal:v2": "v2"} {
		if _, v, err := reg.Resolve(ref); err != nil || v != want {
			t.Errorf("Resolve(%s) = %s, %v; want %s", ref, v, err, want)
		}
	}
	if _, _, err := reg.Resolve("abscopal@staging"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alias: %v", err)
	}
	if err := reg.SetAlias("abscopal", "production", "v9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("alias to a missing version: %v", err)
	}
	// What is not there is named with what is: the error a typo gets.
	for ref, want := range map[string]string{
		"abscopal@staging": `abscopal has no alias "staging" (its aliases: production)`,
		"abscopal:v9":      "abscopal:v9 (abscopal has v1, v2)",
		"abscopl":          "abscopl (registry " + reg.Dir + " has abscopal)",
		"abscopl@staging":  "abscopl (registry " + reg.Dir + " has abscopal)",
		"abscopal:x":       `version "x" (versions are v1, v2, ...)`,
	} {
		_, err := reg.Load(ref)
		if !errors.Is(err, ErrNotFound) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("Load(%s): %v; want ErrNotFound ending %q", ref, err, want)
		}
	}
	// A bare number is the version people mean.
	if _, v, err := reg.Resolve("abscopal:2"); err != nil || v != "v2" {
		t.Errorf("Resolve(abscopal:2) = %s, %v; want v2", v, err)
	}
	if err := reg.SetAlias("abscopal", "staging", "2"); err != nil {
		t.Fatal(err)
	}
	if a, _ := reg.Aliases("abscopal"); a["staging"] != "v2" {
		t.Errorf("SetAlias(staging, 2) points at %q, want v2", a["staging"])
	}
	got, err := reg.ReadVerified("abscopal", "v1")
	if err != nil || string(got["card.md"]) != "# card\n" {
		t.Fatalf("read: %v", err)
	}
	// MANIFEST is sha256sum's format.
	man, _ := os.ReadFile(filepath.Join(reg.Dir, "abscopal", "v1", "MANIFEST"))
	if !strings.Contains(string(man), "  bundle.json\n") || !strings.Contains(string(man), "  card.md\n") {
		t.Errorf("MANIFEST %q", man)
	}

	// Tampering: an altered file, an extra file, a missing file.
	dir := filepath.Join(reg.Dir, "abscopal", "v2")
	os.WriteFile(filepath.Join(dir, "card.md"), []byte("# edited\n"), 0o644)
	if _, err := reg.ReadVerified("abscopal", "v2"); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "card.md has SHA-256") {
		t.Errorf("altered: %v", err)
	}
	os.WriteFile(filepath.Join(reg.Dir, "abscopal", "v1", "extra.txt"), []byte("x"), 0o644)
	if _, err := reg.ReadVerified("abscopal", "v1"); !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "extra.txt is not in the MANIFEST") {
		t.Errorf("extra: %v", err)
	}
	os.Remove(filepath.Join(reg.Dir, "abscopal", "v1", "extra.txt"))
	os.Remove(filepath.Join(reg.Dir, "abscopal", "v1", "card.md"))
	if _, err := reg.ReadVerified("abscopal", "v1"); !errors.Is(err, ErrTampered) {
		t.Errorf("missing: %v", err)
	}
	// No temporary directories are left behind.
	entries, _ := os.ReadDir(filepath.Join(reg.Dir, "abscopal"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".publish") {
			t.Errorf("left %s", e.Name())
		}
	}
	if _, err := reg.Publish("Bad Name", files); err == nil {
		t.Error("a bad model name was accepted")
	}
	if _, err := reg.Publish("v3", files); err == nil {
		t.Error("a model named like a version was accepted")
	}
}

func TestPublishToUnwritableRegistry(t *testing.T) {
	if os.Geteuid() == 0 {
		// root ignores directory permissions; use a path under a file instead.
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, nil, 0o644)
		reg := &Registry{Dir: filepath.Join(f, "registry")}
		if _, err := reg.Publish("m", map[string][]byte{"a": nil}); err == nil || !strings.Contains(err.Error(), "registry") {
			t.Errorf("err = %v", err)
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	reg := &Registry{Dir: filepath.Join(dir, "registry")}
	if _, err := reg.Publish("m", map[string][]byte{"a": nil}); err == nil {
		t.Error("publishing into a read-only directory succeeded")
	}
}

// TestCheckWritable: a registry that Publish could write to passes, a new
// one included, and nothing is left behind; one under a file, or read-only,
// fails as Publish would; a bad name is refused.
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	for _, reg := range []string{dir, filepath.Join(dir, "new", "registry")} {
		if err := (&Registry{Dir: reg}).CheckWritable("m"); err != nil {
			t.Errorf("%s: %v", reg, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	if err := (&Registry{Dir: filepath.Join(f, "registry")}).CheckWritable("m"); err == nil || !strings.Contains(err.Error(), f+" is not a directory") {
		t.Errorf("under a file: %v", err)
	}
	if err := (&Registry{Dir: dir}).CheckWritable("My Model"); err == nil || !strings.Contains(err.Error(), `model name "My Model"`) {
		t.Errorf("bad name: %v", err)
	}
	if os.Geteuid() != 0 { // root ignores directory permissions
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		defer os.Chmod(ro, 0o700)
		if err := (&Registry{Dir: ro}).CheckWritable("m"); err == nil {
			t.Error("a read-only registry passed")
		}
	}
}

// TestConcurrentPublish: publishers racing for the next number each get a
// version of their own (the loser of a rename tries the next number).
func TestConcurrentPublish(t *testing.T) {
	reg := &Registry{Dir: t.TempDir()}
	const n = 8
	versions := make(chan string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := reg.Publish("m", map[string][]byte{"bundle.json": []byte(strconv.Itoa(i))})
			if err != nil {
				t.Error(err)
			}
			versions <- v
		}(i)
	}
	wg.Wait()
	close(versions)
	seen := map[string]bool{}
	for v := range versions {
		if seen[v] {
			t.Errorf("version %s given twice", v)
		}
		seen[v] = true
	}
	if vs, _ := reg.Versions("m"); len(vs) != n {
		t.Errorf("%d versions on disk, want %d", len(vs), n)
	}
}

// TestRegistryStaysInside: names that would lead out of the registry ("..")
// find nothing there and write nothing, even where a model of that shape
// exists next to it.
func TestRegistryStaysInside(t *testing.T) {
	root := t.TempDir()
	outside := &Registry{Dir: filepath.Join(root, "other")}
	if _, err := outside.Publish("x", map[string][]byte{"bundle.json": []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	reg := &Registry{Dir: filepath.Join(root, "registry")}
	if err := os.MkdirAll(reg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	evil := "../other/x"
	if err := reg.SetAlias(evil, "production", "v1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAlias: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "other", "x", "aliases")); !os.IsNotExist(err) {
		t.Error("SetAlias wrote outside the registry")
	}
	for _, ref := range []string{evil, evil + ":v1", evil + "@production"} {
		if _, _, err := reg.Resolve(ref); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is not a model name") {
			t.Errorf("Resolve(%q): err = %v", ref, err)
		}
	}
	if _, err := reg.Versions(evil); !errors.Is(err, ErrNotFound) {
		t.Errorf("Versions: err = %v", err)
	}
}

// TestAliasHistory: every move of an alias is recorded, with the version
// it left and who moved it; a refused move is not; a damaged history is
// an error naming its line.
func TestAliasHistory(t *testing.T) {
	reg := &Registry{Dir: t.TempDir(), Actor: "dr-lee"}
	files := map[string][]byte{"bundle.json": []byte(`{"format":1}`)}
	for range 2 {
		if _, err := reg.Publish("abscopal", files); err != nil {
			t.Fatal(err)
		}
	}
	if h, err := reg.AliasHistory("abscopal"); err != nil || h != nil {
		t.Fatalf("history before any move: %v %v", h, err)
	}
	start := time.Now().UTC().Truncate(time.Second)
	for _, v := range []string{"v1", "v2", "v9"} {
		reg.SetAlias("abscopal", "production", v) // v9 does not exist: refused
	}
	reg.Actor = "ops"
	if err := reg.SetAlias("abscopal", "staging", "v2"); err != nil {
		t.Fatal(err)
	}
	h, err := reg.AliasHistory("abscopal")
	if err != nil {
		t.Fatal(err)
	}
	want := []AliasChange{
		{Alias: "production", Version: "v1", By: "dr-lee"},
		{Alias: "production", Version: "v2", Previous: "v1", By: "dr-lee"},
		{Alias: "staging", Version: "v2", By: "ops"},
	}
	for i := range h {
		if h[i].Time.Before(start) || h[i].Time.After(time.Now()) {
			t.Errorf("change %d at %v", i, h[i].Time)
		}
		h[i].Time = time.Time{}
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("history %+v\nwant %+v", h, want)
	}
	path := filepath.Join(reg.Dir, "abscopal", "ALIAS_HISTORY")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("{not json\n")
	f.Close()
	if _, err := reg.AliasHistory("abscopal"); err == nil || !strings.Contains(err.Error(), "ALIAS_HISTORY: line 4") {
		t.Errorf("damaged history: %v", err)
	}
	// The history is no version and no alias.
	if vs, err := reg.Versions("abscopal"); err != nil || len(vs) != 2 {
		t.Errorf("versions %v %v", vs, err)
	}
}
