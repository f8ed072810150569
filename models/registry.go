package models

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Registry is a directory of published models:
//
//	<dir>/<name>/v<N>/bundle.json, card.md, calibration.svg, MANIFEST
//	<dir>/<name>/aliases/<alias>     (holds a version, e.g. "v3")
//	<dir>/<name>/ALIAS_HISTORY       (every move of an alias, JSON lines)
//
// Versions are immutable and appear whole: they are written to a temporary
// directory and renamed into place. MANIFEST lists the SHA-256 of every
// other file (the format of sha256sum, so "sha256sum -c MANIFEST" checks it);
// loading verifies it.
//
// With Store set, the registry is in an object store instead (Dir is then
// ignored): the same layout as keys, and the same guarantees kept by
// conditional writes (see ObjectStore).
type Registry struct {
	Dir string
	// Store, when set, holds the registry in place of Dir.
	Store ObjectStore
	// Actor names who moves aliases, for the alias history (the CLI gives
	// the user's login name).
	Actor string
}

// AliasChange is one move of an alias, as the alias history records it:
// which version answered as production on a given day, and who said so.
type AliasChange struct {
	Time     time.Time `json:"time"`
	Alias    string    `json:"alias"`
	Version  string    `json:"version"`
	Previous string    `json:"previous,omitempty"` // empty for a new alias
	By       string    `json:"by,omitempty"`
}

// AliasHistoryFile is the name, in a model's directory, of its aliases'
// history: one JSON line per move, appended once the move is made.
const AliasHistoryFile = "ALIAS_HISTORY"

// Errors callers can test.
var (
	ErrNotFound = errors.New("model not found")
	ErrTampered = errors.New("model files do not match their MANIFEST")
)

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	versionRE = regexp.MustCompile(`^v([1-9][0-9]{0,8})$`)
)

// ValidName reports whether s may name a model or an alias.
func ValidName(s string) bool { return nameRE.MatchString(s) && !versionRE.MatchString(s) }

// checkModelName refuses a name no model can have before it is joined to a
// path: "../x" would otherwise read, and SetAlias write, outside the
// registry.
func checkModelName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("%w: %q is not a model name (1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit)", ErrNotFound, name)
	}
	return nil
}

// badName is the error of publishing under an invalid name.
func badName(name string) error {
	return fmt.Errorf("model name %q: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit, and not v<N>", name)
}

// CheckWritable reports, with the error Publish would give, whether a
// version of name could be published now, leaving nothing behind: a
// trainer checks so before the training rather than after it. It tries the
// deepest directory of the model's path that exists already.
func (r *Registry) CheckWritable(name string) error {
	if !ValidName(name) {
		return badName(name)
	}
	if r.Store != nil {
		ctx, cancel := r.objectContext()
		defer cancel()
		return r.checkConditionalWrites(ctx, name)
	}
	dir := filepath.Join(r.Dir, name)
	for {
		fi, err := os.Stat(dir)
		if err == nil && !fi.IsDir() {
			return fmt.Errorf("registry %s: %s is not a directory", r.Dir, dir)
		}
		if err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			return fmt.Errorf("registry %s: %w", r.Dir, err)
		}
		dir = filepath.Dir(dir) // to be made by Publish
	}
	tmp, err := os.MkdirTemp(dir, ".publish-")
	if err != nil {
		return fmt.Errorf("registry %s: %w", r.Dir, err)
	}
	return os.Remove(tmp)
}

// Publish writes files as the next version of name and returns the version.
func (r *Registry) Publish(name string, files map[string][]byte) (string, error) {
	if !ValidName(name) {
		return "", badName(name)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if n == "MANIFEST" || strings.ContainsAny(n, `/\`) || n == "" || strings.HasPrefix(n, ".") {
			return "", fmt.Errorf("publish %s: bad file name %q", name, n)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var manifest bytes.Buffer
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	if r.Store != nil {
		return r.objectPublish(name, files, manifest.Bytes(), names)
	}
	dir := filepath.Join(r.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("registry %s: %w", r.Dir, err)
	}
	tmp, err := os.MkdirTemp(dir, ".publish-")
	if err != nil {
		return "", fmt.Errorf("registry %s: %w", r.Dir, err)
	}
	defer os.RemoveAll(tmp) // after a successful rename there is nothing left to remove
	for _, n := range names {
		if err := writeSynced(filepath.Join(tmp, n), files[n]); err != nil {
			return "", err
		}
	}
	if err := writeSynced(filepath.Join(tmp, "MANIFEST"), manifest.Bytes()); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	// The directory's entries are on disk before it is renamed into view:
	// after a crash a version is whole or absent.
	syncDir(tmp)
	// Another publisher may take a number first: rename fails on an existing
	// directory, and we try the next one.
	for attempt := 0; attempt < 100; attempt++ {
		versions, err := r.Versions(name)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		next := 1
		if len(versions) > 0 {
			next = versionNumber(versions[len(versions)-1]) + 1
		}
		v := "v" + strconv.Itoa(next)
		err = os.Rename(tmp, filepath.Join(dir, v))
		if err == nil {
			syncDir(dir)
			return v, nil
		}
		// Renaming onto an existing, non-empty directory fails with EEXIST or
		// ENOTEMPTY (the platform chooses): the number was taken.
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) {
			return "", fmt.Errorf("publish %s: %w", name, err)
		}
	}
	return "", fmt.Errorf("publish %s: could not claim a version number", name)
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func versionNumber(v string) int {
	m := versionRE.FindStringSubmatch(v)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// Names lists the models in the registry.
func (r *Registry) Names() ([]string, error) {
	if r.Store != nil {
		return r.objectNames()
	}
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Dir, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidName(e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Versions lists the versions of name, oldest first.
func (r *Registry) Versions(name string) ([]string, error) {
	if err := checkModelName(name); err != nil {
		return nil, err
	}
	var out []string
	if r.Store != nil {
		ctx, cancel := r.objectContext()
		defer cancel()
		published, highest, err := r.objectVersions(ctx, name)
		if err != nil {
			return nil, err
		}
		if highest == 0 {
			return nil, r.missingModel(name)
		}
		out = published
	} else {
		entries, err := os.ReadDir(filepath.Join(r.Dir, name))
		if err != nil {
			if os.IsNotExist(err) {
				return nil, r.missingModel(name)
			}
			return nil, err
		}
		for _, e := range entries {
			if e.IsDir() && versionRE.MatchString(e.Name()) && !unfinishedCopy(filepath.Join(r.Dir, name, e.Name())) {
				out = append(out, e.Name())
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return versionNumber(out[a]) < versionNumber(out[b]) })
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no versions", ErrNotFound, name)
	}
	return out, nil
}

// Aliases returns name's aliases and the versions they point at. An alias
// file that is not one line naming a version, or a symbolic link that
// leads out of the registry, is an error that names the file, never its
// content.
func (r *Registry) Aliases(name string) (map[string]string, error) {
	if err := checkModelName(name); err != nil {
		return nil, err
	}
	if r.Store != nil {
		return r.objectAliases(name)
	}
	dir := filepath.Join(r.Dir, name, "aliases")
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if !ValidName(e.Name()) {
			continue
		}
		v, err := r.readAlias(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("%w: %s@%s: %w", ErrBadAlias, name, e.Name(), err)
		}
		out[e.Name()] = v
	}
	return out, nil
}

// ErrBadAlias is wrapped by the error of an alias file that cannot be
// read as one.
var ErrBadAlias = errors.New("bad alias file")

// maxAliasBytes bounds what is read of an alias file: "v123456789\n" and
// room for a CRLF or spaces an editor adds.
const maxAliasBytes = 64

// readAlias reads the version an alias file names. A symbolic link is
// followed only as far as it stays inside the registry: one to a system
// file would otherwise be read, and its content could reach an error or a
// log. The content is never quoted: a file that does not name a version
// may hold anything.
func (r *Registry) readAlias(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			// Not fs.ErrNotExist: a dangling link is a broken alias, not
			// an absent one, which would let the latest version serve.
			return "", errors.New("a symbolic link that leads nowhere")
		}
		root, err := filepath.EvalSymlinks(r.Dir)
		if err != nil {
			return "", err
		}
		if rel, err := filepath.Rel(root, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", errors.New("a symbolic link out of the registry")
		}
	} else if !fi.Mode().IsRegular() {
		return "", errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAliasBytes+1))
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if len(b) > maxAliasBytes || !versionRE.MatchString(v) {
		return "", fmt.Errorf("it does not hold a version (v1, v2, ...) on one line of at most %d bytes", maxAliasBytes)
	}
	return v, nil
}

// SetAlias points alias at version (atomically: write, then rename).
func (r *Registry) SetAlias(name, alias, version string) error {
	if err := checkModelName(name); err != nil {
		return err
	}
	if !ValidName(alias) {
		return fmt.Errorf("alias %q: use 1-64 of a-z, 0-9, '_', '.', '-', and not v<N>", alias)
	}
	version = CanonicalVersion(version)
	if r.Store != nil {
		if !versionRE.MatchString(version) {
			return r.missingVersion(name, version)
		}
		return r.objectSetAlias(name, alias, version)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, name, version, "MANIFEST")); err != nil || !versionRE.MatchString(version) {
		return r.missingVersion(name, version)
	}
	dir := filepath.Join(r.Dir, name, "aliases")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	previous := ""
	if v, err := r.readAlias(filepath.Join(dir, alias)); err == nil {
		previous = v
	}
	// A temporary file of its own (two movers must not write one file),
	// synced, then renamed over the alias: a reader, or a process killed
	// at any point, sees the old version or the new one.
	f, err := os.CreateTemp(dir, "."+alias+"-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.WriteString(version + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, alias))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	// Recorded once the move is made: the history never holds one that
	// failed. One write a line, appended: concurrent moves do not mix.
	line, err := json.Marshal(AliasChange{Time: time.Now().UTC().Truncate(time.Second), Alias: alias, Version: version, Previous: previous, By: r.Actor})
	if err != nil {
		return err
	}
	f, err = os.OpenFile(filepath.Join(r.Dir, name, AliasHistoryFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("%s@%s moved to %s, but its history could not be kept: %w", name, alias, version, err)
	}
	if _, err = f.Write(append(line, '\n')); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s@%s moved to %s, but its history could not be kept: %w", name, alias, version, err)
	}
	return nil
}

// AliasHistory returns every recorded move of name's aliases, oldest first
// (none for a registry made before the history was kept).
func (r *Registry) AliasHistory(name string) ([]AliasChange, error) {
	if err := checkModelName(name); err != nil {
		return nil, err
	}
	if r.Store != nil {
		return r.objectAliasHistory(name)
	}
	path := filepath.Join(r.Dir, name, AliasHistoryFile)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return copiedHistory(filepath.Join(r.Dir, name, "history"))
	}
	if err != nil {
		return nil, err
	}
	var out []AliasChange
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var c AliasChange
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", path, i+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Resolve turns a reference into a model name and version: "name" (the
// "production" alias if there is one, else the latest version),
// "name@alias" or "name:v3".
func (r *Registry) Resolve(ref string) (name, version string, err error) {
	switch {
	case strings.Contains(ref, "@"):
		name, alias, _ := strings.Cut(ref, "@")
		if err := checkModelName(name); err != nil {
			return "", "", err
		}
		v, err := r.alias(name, alias)
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := r.Versions(name); err != nil {
				return "", "", err // no such model: say that, not that it lacks the alias
			}
			aliases, _ := r.Aliases(name)
			names := slices.Sorted(maps.Keys(aliases))
			has := "it has no alias"
			if len(names) > 0 {
				has = "its aliases: " + strings.Join(names, ", ")
			}
			return "", "", fmt.Errorf("%w: %s has no alias %q (%s)", ErrNotFound, name, alias, has)
		}
		if err != nil {
			return "", "", err
		}
		return name, v, nil
	case strings.Contains(ref, ":"):
		name, v, _ := strings.Cut(ref, ":")
		if err := checkModelName(name); err != nil {
			return "", "", err
		}
		v = CanonicalVersion(v)
		if !versionRE.MatchString(v) {
			return "", "", fmt.Errorf("%w: version %q (versions are v1, v2, ...)", ErrNotFound, v)
		}
		return name, v, nil
	}
	if err := checkModelName(ref); err != nil {
		return "", "", err
	}
	// The production alias, if there is one: one that cannot be read is
	// an error, not a reason to serve the latest version instead.
	v, err := r.alias(ref, "production")
	if err == nil {
		return ref, v, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", "", err
	}
	versions, err := r.Versions(ref)
	if err != nil {
		return "", "", err
	}
	return ref, versions[len(versions)-1], nil
}

// alias reads the version alias of model name points at; fs.ErrNotExist
// when there is no such alias.
func (r *Registry) alias(name, alias string) (string, error) {
	if !ValidName(alias) {
		return "", fmt.Errorf("alias %q: %w", alias, fs.ErrNotExist)
	}
	if r.Store != nil {
		ctx, cancel := r.objectContext()
		defer cancel()
		v, _, err := r.objectAlias(ctx, name, alias)
		if errors.Is(err, errNotAVersion) {
			return "", fmt.Errorf("%w: %s@%s: %w", ErrBadAlias, name, alias, err)
		}
		return v, err
	}
	v, err := r.readAlias(filepath.Join(r.Dir, name, "aliases", alias))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s@%s: %w", ErrBadAlias, name, alias, err)
	}
	return v, err
}

// ReadVerified returns the files of name:version after checking them against
// the MANIFEST: a missing, extra or altered file is ErrTampered.
func (r *Registry) ReadVerified(name, version string) (map[string][]byte, error) {
	if !ValidName(name) || !versionRE.MatchString(version) {
		return nil, fmt.Errorf("%w: %s:%s", ErrNotFound, name, version)
	}
	if r.Store != nil {
		ctx, cancel := r.objectContext()
		defer cancel()
		return r.objectReadVerified(ctx, name, version, false)
	}
	dir := filepath.Join(r.Dir, name, version)
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		if os.IsNotExist(err) {
			if _, serr := os.Stat(dir); serr != nil {
				return nil, r.missingVersion(name, version)
			}
			return nil, fmt.Errorf("%w: %s:%s has no MANIFEST", ErrTampered, name, version)
		}
		return nil, err
	}
	want, err := parseManifest(manifest, name, version)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.Name() == "MANIFEST" || e.Name() == claimObject || e.Name() == publishedObject {
			continue // the markers of a version copied from an object store
		}
		if _, ok := want[e.Name()]; !ok {
			return nil, fmt.Errorf("%w: %s:%s: %s is not in the MANIFEST", ErrTampered, name, version, e.Name())
		}
	}
	for file, sum := range want {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%s: %s: %v", ErrTampered, name, version, file, err)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != sum {
			return nil, fmt.Errorf("%w: %s:%s: %s has SHA-256 %x, MANIFEST says %s", ErrTampered, name, version, file, got, sum)
		}
		files[file] = b
	}
	return files, nil
}

// A directory copied from a registry in an object store (aws s3 sync,
// KServe's storage initializer) reads as a registry too: its versions carry
// the store's markers, and its history is a directory of moves.

// unfinishedCopy reports whether a version directory is the copy of a
// publish that did not finish: claimed, not published.
func unfinishedCopy(dir string) bool {
	_, cerr := os.Stat(filepath.Join(dir, claimObject))
	_, perr := os.Stat(filepath.Join(dir, publishedObject))
	return cerr == nil && perr != nil
}

// copiedHistory reads a history copied from an object store: one move a
// file, in the order of their names.
func copiedHistory(dir string) ([]AliasChange, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []AliasChange
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var c AliasChange
		if err := json.Unmarshal(bytes.TrimSpace(b), &c); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// parseManifest reads a MANIFEST: the SHA-256 of each file, by name.
func parseManifest(manifest []byte, name, version string) (map[string]string, error) {
	want := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(manifest))
	for sc.Scan() {
		sum, file, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("%w: %s:%s: malformed MANIFEST line %q", ErrTampered, name, version, sc.Text())
		}
		want[file] = sum
	}
	return want, nil
}

// CanonicalVersion returns v, or "v3" for "3": a version is published as
// v<N>, and people write N.
func CanonicalVersion(v string) string {
	if versionRE.MatchString("v" + v) {
		return "v" + v
	}
	return v
}

// missingModel is ErrNotFound for a model the registry lacks, naming those
// it has: the error a typo gets.
func (r *Registry) missingModel(name string) error {
	names, err := r.Names()
	switch {
	case err != nil:
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	case len(names) == 0:
		return fmt.Errorf("%w: %s (registry %s has no models)", ErrNotFound, name, r.Location())
	}
	return fmt.Errorf("%w: %s (registry %s has %s)", ErrNotFound, name, r.Location(), listSome(names))
}

// missingVersion is ErrNotFound for name:version, naming the versions name
// has (or the models, when there is no such model).
func (r *Registry) missingVersion(name, version string) error {
	versions, err := r.Versions(name)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("%w: %s:%s", ErrNotFound, name, version)
	}
	if len(versions) > 6 {
		return fmt.Errorf("%w: %s:%s (%s has %s to %s)", ErrNotFound, name, version, name, versions[0], versions[len(versions)-1])
	}
	return fmt.Errorf("%w: %s:%s (%s has %s)", ErrNotFound, name, version, name, strings.Join(versions, ", "))
}

// listSome joins up to ten names, then says how many more there are.
func listSome(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:10], ", "), len(names)-10)
}

// Load resolves ref, verifies the version's files and decodes its bundle.
func (r *Registry) Load(ref string) (*Model, error) {
	m, _, err := r.LoadFiles(ref)
	return m, err
}

// LoadFiles is Load that also returns the version's verified files (the
// card and plots besides bundle.json), for callers that render a version
// from another.
func (r *Registry) LoadFiles(ref string) (*Model, map[string][]byte, error) {
	name, version, err := r.Resolve(ref)
	if err != nil {
		return nil, nil, err
	}
	files, err := r.ReadVerified(name, version)
	if err != nil {
		return nil, nil, err
	}
	b, ok := files["bundle.json"]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s:%s has no bundle.json", ErrBundle, name, version)
	}
	m, err := DecodeBundle(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s:%s: %w", name, version, err)
	}
	if bs, ok := files[BootstrapFile]; ok {
		if m.Bootstrap, err = DecodeBootstrap(bs, m.Bundle.Algo, m.Bundle.TimeToEvent()); err != nil {
			return nil, nil, fmt.Errorf("%s:%s: %w", name, version, err)
		}
	}
	m.Version = version
	return m, files, nil
}

// Leftover is a temporary directory or file that a publish or an alias
// move leaves behind when its process is killed: never a version or an
// alias (their names cannot begin with a dot), so nothing reads it.
type Leftover struct {
	Path    string // in the registry
	ModTime time.Time
	// prefix is the leftover's objects in an object store.
	prefix string
}

// RemoveLeftover removes a leftover: its directory or file, or its
// objects (an unfinished version's claim and what it uploaded).
func (r *Registry) RemoveLeftover(l Leftover) error {
	if r.Store == nil {
		return os.RemoveAll(l.Path)
	}
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, l.prefix)
	if err != nil {
		return err
	}
	// The claim last: until it goes, no publisher takes the number.
	slices.SortFunc(objs, func(a, b ObjectInfo) int {
		return cmpBool(strings.HasSuffix(a.Key, claimObject), strings.HasSuffix(b.Key, claimObject))
	})
	for _, o := range objs {
		if err := r.Store.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Leftovers lists the registry's leftovers: .publish-* directories of
// publishes that did not finish, and .ALIAS-*.tmp files of alias moves that
// did not.
func (r *Registry) Leftovers() ([]Leftover, error) {
	if r.Store != nil {
		return r.objectLeftovers()
	}
	names, err := r.Names()
	if err != nil {
		return nil, err
	}
	var out []Leftover
	for _, n := range names {
		for _, pattern := range []string{filepath.Join(r.Dir, n, ".publish-*"), filepath.Join(r.Dir, n, "aliases", ".*.tmp")} {
			matches, err := filepath.Glob(pattern)
			if err != nil {
				return nil, err
			}
			for _, m := range matches {
				fi, err := os.Lstat(m)
				if err != nil {
					continue // gone meanwhile
				}
				out = append(out, Leftover{Path: m, ModTime: fi.ModTime()})
			}
		}
	}
	return out, nil
}
