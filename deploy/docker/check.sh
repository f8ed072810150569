#!/usr/bin/env bash
# Builds the Dockerfile and runs the image it gives, then checks it end to end
# (cmd/abscopal's TestDockerImage): serving a registry mounted read-only,
# healthy by its own HEALTHCHECK, answering over published ports, as a
# non-root user, serving a version published meanwhile, stopping cleanly on
# SIGTERM; again read-only without capabilities; and the demo in the image.
#
# Needs root on Debian: it installs Debian's docker.io and debootstrap when
# missing, and starts dockerd when none answers. No container registry needs
# to be reached: the final stage is scratch, and the build stage's base
# (GO_IMAGE) is assembled here from a Debian bookworm root (debootstrap) and
# the local Go toolchain, standing in for golang:1.26-bookworm, whose Go it
# matches in version. Modules are fetched through the Go module proxy, as in
# any build, trusting the authorities this machine trusts (an egress proxy
# may sign for the proxy with its own).
#
# Not part of the default test run (it takes minutes and a Docker engine):
#
#   bash deploy/docker/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

export DEBIAN_FRONTEND=noninteractive
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]} (Debian)"
  apt-get -o Acquire::Retries=3 update -qq
  apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "== starting dockerd (log: /tmp/abscopal-dockerd.log)"
  # vfs: the overlay driver is not always available inside a VM or container.
  nohup dockerd --storage-driver=vfs >/tmp/abscopal-dockerd.log 2>&1 &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null
fi

goversion=$(go env GOVERSION)
base="abscopal-build-base:${goversion#go}-bookworm"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  echo "== assembling the build stage's base $base (Debian bookworm + $goversion)"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  cp -a "$(go env GOROOT)" "$root/usr/local/go"
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  # The settings golang:1.26-bookworm's image gives.
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV GOPATH=/go' --change 'ENV GOTOOLCHAIN=local' --change 'WORKDIR /go' \
    - "$base" >/dev/null
fi

image=abscopal:check
version="check-$(git rev-parse --short HEAD)"
echo "== docker build -t $image (GO_IMAGE=$base, VERSION=$version)"
start=$SECONDS
# The classic builder: Debian's docker.io has no buildx plugin.
DOCKER_BUILDKIT=0 docker build --quiet --network host \
  --build-arg GO_IMAGE="$base" --build-arg VERSION="$version" -t "$image" . >/dev/null
echo "built in $((SECONDS - start)) s; $(docker image inspect -f '{{.Size}}' "$image") bytes"

echo "== go test ./cmd/abscopal -run TestDockerImage"
ABSCOPAL_DOCKER_IMAGE="$image" ABSCOPAL_DOCKER_VERSION="$version" \
  go test -count=1 -v -run 'TestDockerImage' ./cmd/abscopal
