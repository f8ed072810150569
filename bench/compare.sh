#!/usr/bin/env bash
# Compares abscopal's algorithms with scikit-learn and xgboost on the real
# cohort (../shared/data) with the same folds and design matrices; on
# held-out synthetic patients, against the true probabilities; and times
# abscopal's GBM against xgboost's hist method on 100,000 x 30 rows.
# Installs its peers from Debian when missing. Not part of the default tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! $PY -c "import sklearn, xgboost" 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-xgboost
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
data=${DATA:-../shared/data/ici_cohort_chowell2022_train.parquet}
echo "== cross-validated AUC on $data"
go run ./bench/cv --data "$data" --spec examples/ici_chowell2022.spec.yaml --folds 5 --seed 1 --out "$out/cv" > /dev/null
$PY bench/peers.py "$out/cv"
echo
echo "== held-out synthetic patients"
go run ./bench/heldout --out "$out/heldout" > /dev/null
$PY bench/heldout.py "$out/heldout"
echo
echo "== GBM training speed: 100,000 x 30, 300 trees, depth 6 (bench/gbm/run.sh for 3 runs and a million rows)"
RUNS=1 bash bench/gbm/run.sh 100000 2>/dev/null
