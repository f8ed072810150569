#!/usr/bin/env bash
# Batch scoring: "abscopal predict" of a synthetic cohort file (1,000,000
# patients, or the count given) with each algorithm's model (trained on
# 20,000 synthetic patients with train's defaults, target
# objective_response), beside its peer scoring the same patients' vectors:
# xgboost for the GBM (the same trees and depth), scikit-learn for the
# forest (the same trees, depth, leaf minimum and features per split) and
# the logistic regression (the same penalty), 2 threads each. abscopal's
# time is the command's, from reading the Parquet file to writing its
# scores (Parquet: id, probability, model, version, imputed inputs,
# reason); the peer's from loading its model to writing its probabilities,
# reading its vectors from a raw float64 file, the fastest read numpy has,
# and computing no features. The two alternate, RUNS times each (default
# 3). Prints the ratio table with both AUCs. Installs Debian's
# python3-xgboost and python3-sklearn when missing. About 8 minutes on 2
# cores.
#   bench/predict/run.sh [ROWS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${1:-1000000}
PY=/usr/bin/python3
. "$here/../internal/pypeers.sh"
python_peers sklearn xgboost
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/abscopal" ./cmd/abscopal && go build -o "$work/bench" ./bench/predict)
abscopal=$work/abscopal
# Busy-waiting OpenMP threads stall on a loaded machine.
export OMP_WAIT_POLICY=PASSIVE
"$abscopal" synth --n 20000 --seed 1 --out "$work/train.parquet" >&2
"$abscopal" synth --n "$rows" --seed 2 --out "$work/score.parquet" >&2
for algo in gbm forest logistic; do
  d=$work/$algo
  mkdir -p "$d/train"
  "$abscopal" train --data "$work/train.parquet" --target objective_response --algo "$algo" \
    --name "$algo" --registry "$work/registry" --bootstrap 100 > /dev/null
  "$work/bench" matrix -registry "$work/registry" -model "$algo" -data "$work/train.parquet" -out "$d/train"
  "$work/bench" matrix -registry "$work/registry" -model "$algo" -data "$work/score.parquet" -out "$d"
  cp "$d/model.json" "$d/train/model.json"
  $PY "$here/peer.py" fit "$d"
  echo "{\"algo\": \"$algo\", \"dir\": \"$d\"}" >> "$work/runs.jsonl"
  for run in $(seq "${RUNS:-3}"); do
    start=$(date +%s.%N)
    "$abscopal" predict --registry "$work/registry" --model "$algo" --data "$work/score.parquet" --out "$d/scores.parquet" 2> /dev/null
    end=$(date +%s.%N)
    echo "{\"algo\": \"$algo\", \"who\": \"abscopal\", \"seconds\": $(awk "BEGIN { printf \"%.3f\", $end - $start }")}" | tee -a "$work/runs.jsonl" >&2
    $PY "$here/peer.py" predict "$d" | tee -a "$work/runs.jsonl" >&2
  done
  "$work/bench" probs -scores "$d/scores.parquet" -out "$d/ours.f64"
done
$PY "$here/peer.py" table "$work/runs.jsonl"
