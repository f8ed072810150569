#!/usr/bin/env bash
# abscopal's logistic regression beside scikit-learn's (lbfgs, the same L2
# penalty: C = 1/lambda) on the same synthetic rows, in one run: the median
# of three fits each, the ratio, and the largest difference between the two
# sets of coefficients. Installs Debian's python3-sklearn when missing.
#   bench/logistic/run.sh [ROWS [COLS]]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rows=${1:-1000000}
cols=${2:-30}
. "$here/../internal/pypeers.sh"
python_peers sklearn
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go run ./bench/logistic -rows "$rows" -cols "$cols" -runs 3 -out "$work")
# OpenMP threads that spin while they wait stall on a busy machine.
OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/peer.py" "$work" "$rows" "$cols"
