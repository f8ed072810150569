package models

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ObjectStore is a bucket of objects under a prefix, as S3 and the stores
// compatible with it keep them: a registry that replicas on many machines
// share. Keys are relative to the store's prefix and use '/'.
//
// An object store has no rename and no append, so a registry in one keeps
// its guarantees with conditional writes instead: a version is claimed
// (If-None-Match), uploaded, verified against its MANIFEST and marked
// published last; an alias moves by compare-and-swap on its ETag
// (If-Match); the history gains one object per move, never rewritten.
type ObjectStore interface {
	// Location names the store in messages ("s3://bucket/prefix").
	Location() string
	// Get returns an object's content and ETag, or an error wrapping
	// fs.ErrNotExist when there is no such object.
	Get(ctx context.Context, key string) (data []byte, etag string, err error)
	// Put writes an object if cond holds and returns its ETag; the error
	// wraps ErrPrecondition when cond does not hold.
	Put(ctx context.Context, key string, data []byte, cond Condition) (etag string, err error)
	// List returns every object whose key begins with prefix, in key order.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes an object; removing one that is absent is no error.
	Delete(ctx context.Context, key string) error
}

// Condition is the precondition of a write to an object store.
type Condition struct {
	// IfAbsent writes only if no object has the key (If-None-Match: *).
	IfAbsent bool
	// IfMatch, when set, writes only if the object's ETag is this one.
	IfMatch string
}

// ObjectInfo describes an object of a listing.
type ObjectInfo struct {
	Key      string
	ETag     string
	Size     int64
	Modified time.Time
}

// Errors of object stores callers can test.
var (
	// ErrPrecondition is a conditional write refused: another writer got
	// there first.
	ErrPrecondition = errors.New("precondition failed: the object changed meanwhile")
	// ErrNoConditionalWrites is a store that ignores If-None-Match: two
	// publishers could then take one version number, or two alias moves
	// lose one, so nothing is written to it.
	ErrNoConditionalWrites = errors.New("the object store ignores conditional writes (If-None-Match, If-Match), which a registry needs to publish and move aliases safely; use a store that has them (AWS S3 has; SeaweedFS 4.53 is the one tested here)")
)

// Marker objects of a version in an object store. Their names begin with a
// dot, which no file of a bundle does.
const (
	claimObject     = ".claim"
	publishedObject = ".published"
)

// objectTimeout bounds each registry operation on an object store, whose
// calls take no context from the Registry's callers yet.
const objectTimeout = 2 * time.Minute

func (r *Registry) objectContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), objectTimeout)
}

// Location names the registry: its directory, or its object store's URL.
func (r *Registry) Location() string {
	if r.Store != nil {
		return r.Store.Location()
	}
	return r.Dir
}

// checkConditionalWrites refuses a store that ignores If-None-Match: a
// probe object is written twice under that condition, and the second
// write must fail. The probe is removed.
func (r *Registry) checkConditionalWrites(ctx context.Context, name string) error {
	probe := name + "/.probe-" + randomHex(8)
	if _, err := r.Store.Put(ctx, probe, []byte("probe\n"), Condition{IfAbsent: true}); err != nil {
		return fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	defer r.Store.Delete(context.WithoutCancel(ctx), probe)
	_, err := r.Store.Put(ctx, probe, []byte("probe\n"), Condition{IfAbsent: true})
	switch {
	case err == nil:
		return fmt.Errorf("registry %s: %w", r.Location(), ErrNoConditionalWrites)
	case errors.Is(err, ErrPrecondition):
		return nil
	}
	return fmt.Errorf("registry %s: %w", r.Location(), err)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// objectVersions lists name's versions: those published (their marker
// written) and, separately, every number claimed, published or not.
func (r *Registry) objectVersions(ctx context.Context, name string) (published []string, highest int, err error) {
	objs, err := r.Store.List(ctx, name+"/")
	if err != nil {
		return nil, 0, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	for _, o := range objs {
		v, file, ok := strings.Cut(strings.TrimPrefix(o.Key, name+"/"), "/")
		if !ok || !versionRE.MatchString(v) {
			continue
		}
		highest = max(highest, versionNumber(v))
		if file == publishedObject {
			published = append(published, v)
		}
	}
	sort.Slice(published, func(a, b int) bool { return versionNumber(published[a]) < versionNumber(published[b]) })
	return published, highest, nil
}

// objectPublish claims the next version number of name, uploads the files
// and the MANIFEST, reads them back against it and writes the version's
// published marker last: readers see a version whole or not at all. A
// publisher killed midway leaves a claim that Leftovers lists; the number
// is skipped.
func (r *Registry) objectPublish(name string, files map[string][]byte, manifest []byte, names []string) (string, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	if err := r.checkConditionalWrites(ctx, name); err != nil {
		return "", err
	}
	claim, _ := json.Marshal(map[string]any{"by": r.Actor, "time": time.Now().UTC().Truncate(time.Second)})
	var v string
	for attempt := 0; ; attempt++ {
		if attempt == 100 {
			return "", fmt.Errorf("publish %s: could not claim a version number", name)
		}
		_, highest, err := r.objectVersions(ctx, name)
		if err != nil {
			return "", err
		}
		v = "v" + strconv.Itoa(highest+1)
		_, err = r.Store.Put(ctx, name+"/"+v+"/"+claimObject, claim, Condition{IfAbsent: true})
		if err == nil {
			break
		}
		if !errors.Is(err, ErrPrecondition) {
			return "", fmt.Errorf("publish %s: %w", name, err)
		}
	}
	prefix := name + "/" + v + "/"
	uploaded := []string{}
	undo := func() {
		// Best effort: what was uploaded goes, the claim stays (the number
		// is not handed out twice).
		for _, k := range uploaded {
			r.Store.Delete(context.WithoutCancel(ctx), k)
		}
	}
	put := func(file string, b []byte) error {
		if _, err := r.Store.Put(ctx, prefix+file, b, Condition{IfAbsent: true}); err != nil {
			return fmt.Errorf("publish %s:%s: %s: %w", name, v, file, err)
		}
		uploaded = append(uploaded, prefix+file)
		return nil
	}
	for _, n := range names {
		if err := put(n, files[n]); err != nil {
			undo()
			return "", err
		}
	}
	if err := put("MANIFEST", manifest); err != nil {
		undo()
		return "", err
	}
	if _, err := r.objectReadVerified(ctx, name, v, true); err != nil {
		undo()
		return "", fmt.Errorf("publish %s:%s: the upload does not read back whole: %w", name, v, err)
	}
	if _, err := r.Store.Put(ctx, prefix+publishedObject, claim, Condition{IfAbsent: true}); err != nil {
		undo()
		return "", fmt.Errorf("publish %s:%s: %w", name, v, err)
	}
	return v, nil
}

// objectReadVerified reads name:version's files and checks them against
// its MANIFEST. unpublished reads a version whose marker is not written
// yet (the publisher's own check).
func (r *Registry) objectReadVerified(ctx context.Context, name, version string, unpublished bool) (map[string][]byte, error) {
	prefix := name + "/" + version + "/"
	objs, err := r.Store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	present := map[string]bool{}
	for _, o := range objs {
		present[strings.TrimPrefix(o.Key, prefix)] = true
	}
	if !present[publishedObject] && !unpublished {
		return nil, r.missingVersion(name, version)
	}
	manifest, _, err := r.Store.Get(ctx, prefix+"MANIFEST")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s:%s has no MANIFEST", ErrTampered, name, version)
	}
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	want, err := parseManifest(manifest, name, version)
	if err != nil {
		return nil, err
	}
	for file := range present {
		if file == "MANIFEST" || file == claimObject || file == publishedObject {
			continue
		}
		if _, ok := want[file]; !ok {
			return nil, fmt.Errorf("%w: %s:%s: %s is not in the MANIFEST", ErrTampered, name, version, file)
		}
	}
	files := map[string][]byte{}
	for _, file := range slices.Sorted(maps.Keys(want)) {
		b, _, err := r.Store.Get(ctx, prefix+file)
		if err != nil {
			return nil, fmt.Errorf("%w: %s:%s: %s: %v", ErrTampered, name, version, file, err)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != want[file] {
			return nil, fmt.Errorf("%w: %s:%s: %s has SHA-256 %x, MANIFEST says %s", ErrTampered, name, version, file, got, want[file])
		}
		files[file] = b
	}
	return files, nil
}

// objectNames lists the models of a registry in an object store.
func (r *Registry) objectNames() ([]string, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	var out []string
	for _, o := range objs {
		n, _, ok := strings.Cut(o.Key, "/")
		if ok && ValidName(n) && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// objectAliases reads every alias of name.
func (r *Registry) objectAliases(name string) (map[string]string, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	prefix := name + "/aliases/"
	objs, err := r.Store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	out := map[string]string{}
	for _, o := range objs {
		a := strings.TrimPrefix(o.Key, prefix)
		if !ValidName(a) {
			continue
		}
		v, _, err := r.objectAlias(ctx, name, a)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s@%s: %w", ErrBadAlias, name, a, err)
		}
		out[a] = v
	}
	return out, nil
}

// objectAlias reads the version an alias object names, and its ETag (also
// when the content is not a version: errNotAVersion).
func (r *Registry) objectAlias(ctx context.Context, name, alias string) (string, string, error) {
	b, etag, err := r.Store.Get(ctx, name+"/aliases/"+alias)
	if err != nil {
		return "", "", err
	}
	v, err := aliasContent(b)
	return v, etag, err
}

// errNotAVersion is an alias whose content does not name a version.
var errNotAVersion = fmt.Errorf("it does not hold a version (v1, v2, ...) on one line of at most %d bytes", maxAliasBytes)

// aliasContent is the version an alias holds: one line naming a version.
// The content is never quoted: a file that does not name one may hold
// anything.
func aliasContent(b []byte) (string, error) {
	v := strings.TrimSpace(string(b))
	if len(b) > maxAliasBytes || !versionRE.MatchString(v) {
		return "", errNotAVersion
	}
	return v, nil
}

// objectSetAlias moves alias by compare-and-swap: read the alias and its
// ETag, write it if the ETag is unchanged (or if it is still absent), and
// on a lost race read again. Each move is then made on the one before it,
// and the history records it with the version it replaced.
func (r *Registry) objectSetAlias(name, alias, version string) error {
	ctx, cancel := r.objectContext()
	defer cancel()
	published, _, err := r.objectVersions(ctx, name)
	if err != nil {
		return err
	}
	if !slices.Contains(published, version) {
		return r.missingVersion(name, version)
	}
	if err := r.checkConditionalWrites(ctx, name); err != nil {
		return err
	}
	key := name + "/aliases/" + alias
	previous := ""
	for attempt := 0; ; attempt++ {
		if attempt == 50 {
			return fmt.Errorf("%s@%s: moved by others 50 times while moving it; try again", name, alias)
		}
		cond := Condition{IfAbsent: true}
		previous = ""
		v, etag, err := r.objectAlias(ctx, name, alias)
		switch {
		case err == nil:
			previous, cond = v, Condition{IfMatch: etag}
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, errNotAVersion):
			// A damaged alias is replaced, as on disk; its ETag still
			// guards the swap.
			cond = Condition{IfMatch: etag}
		default:
			return fmt.Errorf("registry %s: %w", r.Location(), err)
		}
		_, err = r.Store.Put(ctx, key, []byte(version+"\n"), cond)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("registry %s: %w", r.Location(), err)
		}
		time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
	}
	line, err := json.Marshal(AliasChange{Time: time.Now().UTC().Truncate(time.Second), Alias: alias, Version: version, Previous: previous, By: r.Actor})
	if err != nil {
		return err
	}
	if err := r.objectAppendHistory(ctx, name, line); err != nil {
		return fmt.Errorf("%s@%s moved to %s, but its history could not be kept: %w", name, alias, version, err)
	}
	return nil
}

// historyKey is the key of the n-th move of name's aliases: numbered, so
// that a listing returns them in the order they were recorded.
func historyKey(name string, n int) string {
	return fmt.Sprintf("%s/history/%010d.json", name, n)
}

// objectAppendHistory adds a move to name's history as an object of its
// own, created only if absent: the history is never rewritten.
func (r *Registry) objectAppendHistory(ctx context.Context, name string, line []byte) error {
	for attempt := 0; attempt < 100; attempt++ {
		objs, err := r.Store.List(ctx, name+"/history/")
		if err != nil {
			return err
		}
		next := 1
		if len(objs) > 0 {
			last := strings.TrimSuffix(strings.TrimPrefix(objs[len(objs)-1].Key, name+"/history/"), ".json")
			n, _ := strconv.Atoi(last)
			next = n + 1
		}
		_, err = r.Store.Put(ctx, historyKey(name, next), append(line, '\n'), Condition{IfAbsent: true})
		if !errors.Is(err, ErrPrecondition) {
			return err
		}
	}
	return errors.New("could not take a place in the history")
}

// objectAliasHistory reads name's history, oldest first.
func (r *Registry) objectAliasHistory(name string) ([]AliasChange, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, name+"/history/")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	var out []AliasChange
	for _, o := range objs {
		b, _, err := r.Store.Get(ctx, o.Key)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %s: %w", r.Location(), o.Key, err)
		}
		var c AliasChange
		if err := json.Unmarshal(bytes.TrimSpace(b), &c); err != nil {
			return nil, fmt.Errorf("registry %s: %s: %w", r.Location(), o.Key, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// objectLeftovers lists the claims of publishes that did not finish.
func (r *Registry) objectLeftovers() ([]Leftover, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	published := map[string]bool{}
	for _, o := range objs {
		if dir, ok := strings.CutSuffix(o.Key, "/"+publishedObject); ok {
			published[dir] = true
		}
	}
	var out []Leftover
	for _, o := range objs {
		if dir, ok := strings.CutSuffix(o.Key, "/"+claimObject); ok && !published[dir] {
			out = append(out, Leftover{Path: r.Location() + "/" + dir, ModTime: o.Modified, prefix: dir + "/"})
		}
	}
	return out, nil
}

// objectFingerprint sums up every object of the store by key and ETag: it
// changes with any write, which one listing reveals.
func (r *Registry) objectFingerprint() (string, error) {
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, "")
	if err != nil {
		return "", fmt.Errorf("registry %s: %w", r.Location(), err)
	}
	h := sha256.New()
	for _, o := range objs {
		fmt.Fprintf(h, "%s %s %d\n", o.Key, o.ETag, o.Size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// objectVersionStamp sums up the objects of name:version by key and ETag.
func (r *Registry) objectVersionStamp(name, version string) string {
	ctx, cancel := r.objectContext()
	defer cancel()
	objs, err := r.Store.List(ctx, name+"/"+version+"/")
	if err != nil {
		return "unreadable"
	}
	var b strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&b, "%s:%s;", o.Key, o.ETag)
	}
	return b.String()
}
