#!/usr/bin/env bash
# abscopal's GBM beside xgboost's hist method on the same synthetic rows
# (30 features, 300 trees of depth 6, learning rate 0.1, 255 bins), at
# 10,000, 100,000 and 1,000,000 training rows (or the counts given), on 1
# and 2 threads; the two trainers alternate, RUNS times each (default 3).
# Prints the ratio table, the speed-ups from 1 to 2 threads and the
# exponent of time in rows. Installs Debian's python3-xgboost and
# python3-sklearn when missing. About 25 minutes on 2 cores with the
# million rows.
#   bench/gbm/run.sh [ROWS...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
. "$here/../internal/pypeers.sh"
python_peers sklearn xgboost
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/gbm" ./bench/gbm)
[ $# -gt 0 ] || set -- 10000 100000 1000000
for rows in "$@"; do
  "$work/gbm" -rows "$rows" -write "$work/data"
  for run in $(seq "${RUNS:-3}"); do
    for threads in 1 2; do
      "$work/gbm" -rows "$rows" -threads "$threads" | tee -a "$work/runs.jsonl" >&2
      # Busy-waiting OpenMP threads stall on a loaded machine.
      OMP_WAIT_POLICY=PASSIVE $PY "$here/peer.py" "$work/data" "$rows" "$threads" | tee -a "$work/runs.jsonl" >&2
    done
  done
done
$PY "$here/table.py" < "$work/runs.jsonl"
