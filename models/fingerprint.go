package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// VersionStamp sums up the files of name's version: their names, sizes and
// modification times. A version repaired in place (a MANIFEST restored, a
// flipped byte mended) changes it, without its files being read.
func (r *Registry) VersionStamp(name, version string) string {
	if r.Store != nil {
		return r.objectVersionStamp(name, version)
	}
	dir := filepath.Join(r.Dir, name, version)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "unreadable"
	}
	var b strings.Builder
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			fmt.Fprintf(&b, "%s:?;", e.Name())
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d;", e.Name(), fi.Size(), fi.ModTime().UnixNano())
	}
	return b.String()
}

// Fingerprint sums up the registry as loading sees it: its models, their
// versions and aliases, and the files of the version each resolves to. It
// changes when a version is published, an alias moves, or a version's
// files change, repaired or damaged in place.
func (r *Registry) Fingerprint() string {
	if r.Store != nil {
		fp, err := r.objectFingerprint()
		if err != nil {
			return "unreadable: " + err.Error()
		}
		return fp
	}
	var b strings.Builder
	names, err := r.Names()
	if err != nil {
		return "unreadable: " + err.Error()
	}
	for _, n := range names {
		versions, _ := r.Versions(n)
		fmt.Fprintf(&b, "%s:%s;", n, strings.Join(versions, ","))
		aliasDir := filepath.Join(r.Dir, n, "aliases")
		if entries, err := os.ReadDir(aliasDir); err == nil {
			for _, e := range entries {
				if fi, err := e.Info(); err == nil {
					fmt.Fprintf(&b, "@%s:%d:%d;", e.Name(), fi.Size(), fi.ModTime().UnixNano())
				}
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			b.WriteString("@unreadable;")
		}
		// The history is appended after an alias moves: a reload between
		// the two would list the alias without its time until the next
		// change, so its growth is a change too.
		if fi, err := os.Stat(filepath.Join(r.Dir, n, AliasHistoryFile)); err == nil {
			fmt.Fprintf(&b, "history:%d;", fi.Size())
		}
		if _, v, err := r.Resolve(n); err == nil {
			b.WriteString(r.VersionStamp(n, v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
