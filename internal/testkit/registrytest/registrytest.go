// Package registrytest checks a model registry kept in an object store:
// one contract, run on the in-memory store of the models package's tests and
// on a real S3-compatible server in s3store's.
package registrytest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abscopal/abscopal/models"
)

// MemStore is an object store in memory that keeps S3's rules for
// conditional writes (unless IgnoreConditions, as stores without them do).
type MemStore struct {
	// IgnoreConditions makes every write succeed, as a store that lacks
	// conditional writes does.
	IgnoreConditions bool

	mu      sync.Mutex
	objects map[string]memObject
}

type memObject struct {
	data     []byte
	etag     string
	modified time.Time
}

// Location implements models.ObjectStore.
func (s *MemStore) Location() string { return "mem://registry" }

// Get implements models.ObjectStore.
func (s *MemStore) Get(ctx context.Context, key string) ([]byte, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[key]
	if !ok {
		return nil, "", fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return bytes.Clone(o.data), o.etag, nil
}

// Put implements models.ObjectStore.
func (s *MemStore) Put(ctx context.Context, key string, data []byte, cond models.Condition) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, exists := s.objects[key]
	if !s.IgnoreConditions && ((cond.IfAbsent && exists) || (cond.IfMatch != "" && (!exists || o.etag != cond.IfMatch))) {
		return "", fmt.Errorf("%s: %w", key, models.ErrPrecondition)
	}
	if s.objects == nil {
		s.objects = map[string]memObject{}
	}
	sum := md5.Sum(data)
	etag := hex.EncodeToString(sum[:])
	s.objects[key] = memObject{data: bytes.Clone(data), etag: etag, modified: time.Now()}
	return etag, nil
}

// List implements models.ObjectStore.
func (s *MemStore) List(ctx context.Context, prefix string) ([]models.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []models.ObjectInfo
	for k, o := range s.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, models.ObjectInfo{Key: k, ETag: o.etag, Size: int64(len(o.data)), Modified: o.modified})
		}
	}
	slices.SortFunc(out, func(a, b models.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Delete implements models.ObjectStore.
func (s *MemStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, key)
	return nil
}

// Contract checks a registry in an object store: open returns an empty
// one for each subtest.
func Contract(t *testing.T, open func(t *testing.T) *models.Registry) {
	ctx := context.Background()
	bundle := func(i int) map[string][]byte {
		return map[string][]byte{"bundle.json": []byte(`{"n":` + strconv.Itoa(i) + `}`), "card.md": []byte("# card " + strconv.Itoa(i) + "\n")}
	}

	t.Run("publish and read back", func(t *testing.T) {
		reg := open(t)
		if err := reg.CheckWritable("m"); err != nil {
			t.Fatalf("CheckWritable: %v", err)
		}
		for i := 1; i <= 2; i++ {
			v, err := reg.Publish("m", bundle(i))
			if err != nil || v != "v"+strconv.Itoa(i) {
				t.Fatalf("publish %d: %q %v", i, v, err)
			}
		}
		if names, err := reg.Names(); err != nil || !slices.Equal(names, []string{"m"}) {
			t.Errorf("Names: %v %v", names, err)
		}
		if vs, err := reg.Versions("m"); err != nil || !slices.Equal(vs, []string{"v1", "v2"}) {
			t.Errorf("Versions: %v %v", vs, err)
		}
		files, err := reg.ReadVerified("m", "v1")
		if err != nil || !bytes.Equal(files["bundle.json"], bundle(1)["bundle.json"]) || len(files) != 2 {
			t.Errorf("ReadVerified v1: %v %v", files, err)
		}
		// No alias: the latest version answers for the name.
		if name, v, err := reg.Resolve("m"); err != nil || name != "m" || v != "v2" {
			t.Errorf("Resolve(m) = %s %s %v, want v2", name, v, err)
		}
		if _, err := reg.ReadVerified("m", "v3"); !errors.Is(err, models.ErrNotFound) || !strings.Contains(err.Error(), "v1, v2") {
			t.Errorf("a missing version: %v", err)
		}
		if _, err := reg.Versions("nosuch"); !errors.Is(err, models.ErrNotFound) || !strings.Contains(err.Error(), "has m") {
			t.Errorf("a missing model: %v", err)
		}
	})

	t.Run("a damaged version is refused", func(t *testing.T) {
		reg := open(t)
		if _, err := reg.Publish("m", bundle(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Store.Put(ctx, "m/v1/bundle.json", []byte(`{"n":2}`), models.Condition{}); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.ReadVerified("m", "v1"); !errors.Is(err, models.ErrTampered) || !strings.Contains(err.Error(), "bundle.json") {
			t.Errorf("an altered file: %v", err)
		}
		reg.Store.Put(ctx, "m/v1/bundle.json", bundle(1)["bundle.json"], models.Condition{})
		reg.Store.Put(ctx, "m/v1/extra.txt", []byte("x"), models.Condition{})
		if _, err := reg.ReadVerified("m", "v1"); !errors.Is(err, models.ErrTampered) || !strings.Contains(err.Error(), "extra.txt") {
			t.Errorf("a file not in the MANIFEST: %v", err)
		}
	})

	t.Run("an unfinished publish is invisible and a leftover", func(t *testing.T) {
		reg := open(t)
		if _, err := reg.Publish("m", bundle(1)); err != nil {
			t.Fatal(err)
		}
		// A publisher killed after its claim and one file.
		reg.Store.Put(ctx, "m/v2/.claim", []byte("{}"), models.Condition{IfAbsent: true})
		reg.Store.Put(ctx, "m/v2/bundle.json", bundle(2)["bundle.json"], models.Condition{IfAbsent: true})
		if vs, _ := reg.Versions("m"); !slices.Equal(vs, []string{"v1"}) {
			t.Errorf("Versions with an unfinished v2: %v", vs)
		}
		if _, v, _ := reg.Resolve("m"); v != "v1" {
			t.Errorf("Resolve(m) with an unfinished v2: %s", v)
		}
		left, err := reg.Leftovers()
		if err != nil || len(left) != 1 || !strings.HasSuffix(left[0].Path, "m/v2") {
			t.Errorf("Leftovers: %v %v", left, err)
		}
		// The next publish skips the claimed number.
		if v, err := reg.Publish("m", bundle(3)); err != nil || v != "v3" {
			t.Errorf("publish after a leftover: %s %v", v, err)
		}
		if err := reg.RemoveLeftover(left[0]); err != nil {
			t.Fatal(err)
		}
		if left, _ := reg.Leftovers(); len(left) != 0 {
			t.Errorf("Leftovers after their removal: %v", left)
		}
		if objs, _ := reg.Store.List(ctx, "m/v2/"); len(objs) != 0 {
			t.Errorf("objects of the leftover remain: %v", objs)
		}
		if vs, _ := reg.Versions("m"); !slices.Equal(vs, []string{"v1", "v3"}) {
			t.Errorf("Versions after the leftover's removal: %v", vs)
		}
	})

	t.Run("racing publishers each get a version", func(t *testing.T) {
		reg := open(t)
		const n = 6
		var wg sync.WaitGroup
		got := make(chan string, n)
		for i := range n {
			wg.Go(func() {
				v, err := reg.Publish("m", bundle(i))
				if err != nil {
					t.Error(err)
				}
				got <- v
			})
		}
		wg.Wait()
		close(got)
		seen := map[string]bool{}
		for v := range got {
			if seen[v] {
				t.Errorf("version %s given twice", v)
			}
			seen[v] = true
		}
		if vs, _ := reg.Versions("m"); len(vs) != n {
			t.Errorf("%d versions, want %d", len(vs), n)
		}
	})

	t.Run("aliases move by compare-and-swap and every move is in the history", func(t *testing.T) {
		reg := open(t)
		for i := 1; i <= 3; i++ {
			if _, err := reg.Publish("m", bundle(i)); err != nil {
				t.Fatal(err)
			}
		}
		before := reg.Fingerprint()
		if err := reg.SetAlias("m", "production", "v1"); err != nil {
			t.Fatal(err)
		}
		if after := reg.Fingerprint(); after == before {
			t.Error("the fingerprint did not change when an alias moved")
		}
		if _, v, _ := reg.Resolve("m"); v != "v1" {
			t.Errorf("Resolve(m) with production at v1: %s", v)
		}
		if err := reg.SetAlias("m", "production", "v9"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("an alias to a missing version: %v", err)
		}
		// Movers racing for one alias: none is lost, each recorded on top
		// of the one before.
		const movers = 6
		var wg sync.WaitGroup
		for i := range movers {
			wg.Go(func() {
				if err := reg.SetAlias("m", "production", []string{"v2", "v3"}[i%2]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		h, err := reg.AliasHistory("m")
		if err != nil || len(h) != movers+1 {
			t.Fatalf("history: %d moves, %v; want %d", len(h), err, movers+1)
		}
		aliases, _ := reg.Aliases("m")
		// The moves chain: each replaced a state that a move made, and no
		// state was replaced twice (two movers that both read v1 and both
		// wrote would record two moves from v1, and one would be lost).
		made, replaced := map[string]int{"": 1}, map[string]int{}
		for _, c := range h {
			made[c.Version]++
			replaced[c.Previous]++
		}
		for v, n := range replaced {
			if n > made[v] {
				t.Errorf("%d moves from %q, which %d moves made: a move was lost (%+v)", n, v, made[v], h)
			}
		}
		if made[aliases["production"]] == 0 {
			t.Errorf("the alias is at %s, which no move made", aliases["production"])
		}
		// A damaged alias is an error, never the latest version silently.
		reg.Store.Put(ctx, "m/aliases/production", []byte("not a version"), models.Condition{})
		if _, _, err := reg.Resolve("m"); !errors.Is(err, models.ErrBadAlias) {
			t.Errorf("Resolve with a damaged alias: %v", err)
		}
		if err := reg.SetAlias("m", "production", "v2"); err != nil {
			t.Errorf("moving a damaged alias: %v", err)
		}
		if _, v, _ := reg.Resolve("m@production"); v != "v2" {
			t.Errorf("after the repair: %s", v)
		}
	})

	t.Run("a copy of the bucket reads as a directory registry", func(t *testing.T) {
		// As KServe's storage initializer or "aws s3 sync" copies it.
		reg := open(t)
		for i := 1; i <= 2; i++ {
			if _, err := reg.Publish("m", bundle(i)); err != nil {
				t.Fatal(err)
			}
		}
		reg.SetAlias("m", "production", "v1")
		reg.SetAlias("m", "production", "v2")
		reg.Store.Put(ctx, "m/v3/.claim", []byte("{}"), models.Condition{IfAbsent: true})
		reg.Store.Put(ctx, "m/v3/bundle.json", []byte("partial"), models.Condition{IfAbsent: true})
		objs, err := reg.Store.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, o := range objs {
			b, _, err := reg.Store.Get(ctx, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, filepath.FromSlash(o.Key))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		copied := &models.Registry{Dir: dir}
		if vs, err := copied.Versions("m"); err != nil || !slices.Equal(vs, []string{"v1", "v2"}) {
			t.Errorf("the copy's versions: %v %v", vs, err)
		}
		if _, v, err := copied.Resolve("m"); err != nil || v != "v2" {
			t.Errorf("the copy resolves m to %s, %v; want production's v2", v, err)
		}
		files, err := copied.ReadVerified("m", "v2")
		if err != nil || !bytes.Equal(files["bundle.json"], bundle(2)["bundle.json"]) {
			t.Errorf("the copy's v2: %v", err)
		}
		want, _ := reg.AliasHistory("m")
		if got, err := copied.AliasHistory("m"); err != nil || len(got) != 2 || !slices.Equal(got, want) {
			t.Errorf("the copy's history: %v %v, want %v", got, err, want)
		}
	})
}
