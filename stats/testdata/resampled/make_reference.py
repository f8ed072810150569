#!/usr/bin/python3
"""Reference values for stats.TestCorrectedResampledT: the corrected
resampled t interval (Nadeau and Bengio 2003; Bouckaert and Frank 2004) of
per-fold AUC differences from repeated k-fold cross-validation, with numpy's
sample variance (ddof=1) and scipy's t quantile (Debian python3-scipy
1.10.1); and the plain (uncorrected) paired t interval, from scipy's
ttest_1samp confidence interval, which the corrected one must contain.

Usage: /usr/bin/python3 stats/testdata/resampled/make_reference.py > stats/testdata/resampled/reference.json
"""
import json

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261126)
cases = []
for repeats, k in [(1, 5), (10, 5), (3, 10), (2, 2)]:
    d = rng.normal(-0.006, 0.02, size=repeats * k)
    n = len(d)
    mean = d.mean()
    var = d.var(ddof=1)
    se = np.sqrt(var * (1 / n + 1 / (k - 1)))
    q = stats.t.ppf(0.975, n - 1)
    plain = stats.ttest_1samp(d, 0).confidence_interval(0.95)
    cases.append({
        "folds": k,
        "diffs": d.tolist(),
        "mean": mean,
        "low": mean - q * se,
        "high": mean + q * se,
        "plain_low": plain.low,
        "plain_high": plain.high,
    })
print(json.dumps(cases, indent=1))
