#!/usr/bin/env bash
# Load test of /v1/predict, in one run, against two peers: a plain Gin
# handler that decodes the patient's JSON into the struct the API uses and
# encodes it back (gin.New, no middleware: the issue's yardstick), and a
# trivial echo on abscopal's own engine, with its middleware. Throughput with
# wrk (closed loop, 2 threads, 32 connections, 10 s) of one patient a
# request, and of a batch of 100 (patients per second); latency at a fixed
# 1,000 requests/s (open loop). Prints the ratios. Installs wrk from Debian
# when missing. Not part of the default tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
addr=127.0.0.1:18181
plain=127.0.0.1:18182
work=$(mktemp -d)
go build -o "$work/serve" ./bench/serve
go build -o "$work/load" ./bench/serve/load
"$work/serve" --addr "$addr" --plain-addr "$plain" 2>"$work/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://$addr/readyz" >/dev/null && break
  sleep 0.5
done
# The batch: the same patient 100 times, each with an id of its own.
/usr/bin/python3 - "$work/batch.json" <<'PY'
import json, sys
p = json.load(open("bench/serve/predict.json"))
json.dump({"patients": [dict(p, patient_id=f"bench-{i}") for i in range(100)]}, open(sys.argv[1], "w"))
PY
rps() { # url body: wrk's requests per second
  BODY_FILE=$2 wrk -t2 -c32 -d10s --latency -s bench/serve/post.lua "$1" | tee "$work/wrk.out" >&2
  if grep -q "Non-2xx" "$work/wrk.out"; then echo "error answers from $1" >&2; exit 1; fi
  awk '/Requests\/sec/ { print $2 }' "$work/wrk.out"
}
one=bench/serve/predict.json
echo "== wrk, plain Gin decode/encode" >&2; plain_rps=$(rps "http://$plain/echo" "$one")
echo "== wrk, echo with abscopal's middleware" >&2; echo_rps=$(rps "http://$addr/bench/echo" "$one")
echo "== wrk, /v1/predict, one patient" >&2; one_rps=$(rps "http://$addr/v1/predict" "$one")
echo "== wrk, /v1/predict, 100 patients" >&2; batch_rps=$(rps "http://$addr/v1/predict" "$work/batch.json")
for path in /bench/echo /v1/predict; do
  echo "== 1,000 requests/s for 10 s, $path"
  "$work/load" --url "http://$addr$path" --body "$one" --rate 1000 --duration 10s
done
awk -v p="$plain_rps" -v e="$echo_rps" -v o="$one_rps" -v b="$batch_rps" 'BEGIN {
  printf "plain Gin decode/encode %.0f requests/s; echo with our middleware %.0f; /v1/predict %.0f (%.2f of the plain handler, %.2f of the echo)\n", p, e, o, o / p, o / e
  printf "/v1/predict, batches of 100: %.0f requests/s, %.0f patients/s, %.2f times the patients/s of single calls\n", b, 100 * b, 100 * b / o
}'
