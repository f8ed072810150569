#!/usr/bin/env bash
# abscopal's random forest beside scikit-learn's on the same synthetic rows
# (the same trees, leaf minimum and features per split, both on every
# core), in one run at 10,000 and 100,000 training rows: min / median of
# three fits each, the ratio of the medians, the held-out AUCs. Installs
# Debian's python3-sklearn when missing.
#   bench/forest/run.sh [histogram|golearn]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
learner=${1:-histogram}
. "$here/../internal/pypeers.sh"
python_peers sklearn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/forest" ./bench/forest)
echo "| training rows | trees | abscopal min / median | scikit-learn min / median | ratio (medians) | held-out AUC abscopal / scikit-learn |"
echo "|---|---|---|---|---|---|"
for spec in "10000 101" "100000 21"; do
  set -- $spec
  "$work/forest" -rows "$1" -trees "$2" -runs 3 -learner "$learner" -out "$work"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/peer.py" "$work" "$1" 30
done
