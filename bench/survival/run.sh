#!/usr/bin/env bash
# Cross-validated survival models on the real cohort (Chowell et al. 2022,
# ../shared/data): abscopal's Cox model beside R's plain coxph on the same
# five folds, for overall and progression-free survival, both judged by R's
# concordance() and riskRegression's Score. Installs R, survival and
# riskRegression from Debian when they are missing. Prints a table.
#   bench/survival/run.sh [DATA.parquet]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=${1:-$root/../shared/data/ici_cohort_chowell2022_train.parquet}
if ! Rscript -e 'suppressMessages({library(survival); library(riskRegression)})' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o Acquire::Retries=3 update -qq
  apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends r-base-core r-cran-survival r-cran-riskregression >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/abscopal" ./cmd/abscopal)
spec=$root/examples/ici_chowell2022.spec.yaml
"$work/abscopal" features --data "$data" --spec "$spec" --out "$work/feats.csv" 2>/dev/null
# The integrated Brier score's grid: a tenth of 24 months to 24 months.
grid=2.4,4.8,6,7.2,9.6,12,14.4,16.8,19.2,21.6,24
for target in os pfs; do
  runs=()
  for algo in cox gbm; do
    "$work/abscopal" train --data "$data" --spec "$spec" --target "$target" --algo "$algo" --registry "$work/registry" --name "$target-$algo" \
      --seed 1 --folds 5 --times "$grid" --oof "$work/oof_${target}_$algo.csv" ${ABSCOPAL_FLAGS:-} >/dev/null 2>&1
    runs+=("abscopal-$algo=$work/oof_${target}_$algo.csv")
  done
  Rscript "$here/coxph_folds.R" "$work/feats.csv" "${target}_months" "${target}_event" "${runs[@]}" 2>/dev/null | grep -v '^covariates'
done
