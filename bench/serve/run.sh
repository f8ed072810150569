#!/usr/bin/env bash
# Load test of /v1/predict against a trivial JSON echo on the same Gin engine,
# in the same run: throughput with wrk (closed loop, 2 threads, 32
# connections, 10 s) and latency at a fixed 1,000 requests/s (open loop).
# Installs wrk from Debian when missing. Not part of the default tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
addr=127.0.0.1:18181
go build -o /tmp/abscopal-bench-serve ./bench/serve
go build -o /tmp/abscopal-bench-load ./bench/serve/load
/tmp/abscopal-bench-serve --addr "$addr" 2>/tmp/abscopal-bench-serve.log &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://$addr/readyz" >/dev/null && break
  sleep 0.5
done
export BODY_FILE=bench/serve/predict.json
for path in /bench/echo /v1/predict; do
  echo "== wrk, $path"
  wrk -t2 -c32 -d10s --latency -s bench/serve/post.lua "http://$addr$path" | grep -E "Requests/sec|Latency|50%|99%|Non-2xx" || true
done
for path in /bench/echo /v1/predict; do
  echo "== 1,000 requests/s for 10 s, $path"
  /tmp/abscopal-bench-load --url "http://$addr$path" --body "$BODY_FILE" --rate 1000 --duration 10s
done
