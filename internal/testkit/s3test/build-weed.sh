#!/usr/bin/env bash
# Builds SeaweedFS's weed, the S3-compatible server the S3 tests start,
# from the Go module proxy, and prints the binary's path. The binary is
# cached under ${XDG_CACHE_HOME:-~/.cache}/abscopal: a second run prints the
# path at once. Use it as
#   export ABSCOPAL_WEED=$(internal/testkit/s3test/build-weed.sh)
#   ABSCOPAL_REQUIRE_S3=1 go test ./s3store ./api
# The module's go.mod has replace directives, which `go install pkg@version`
# refuses: the module is downloaded, copied and built as a main module.
set -euo pipefail
version=v0.0.0-20261109003541-7506e5f91cd6 # SeaweedFS 4.53: the version the tests were written on (the racing publishers and alias movers pass on it)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/abscopal"
bin="$cache/weed-$version"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cd "$work"
dir=$(GOFLAGS=-mod=mod go mod download -json "github.com/seaweedfs/seaweedfs@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
cp -r "$dir" src
chmod -R u+w src
cd src
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin.tmp" ./weed >&2
mv "$bin.tmp" "$bin"
echo "$bin"
