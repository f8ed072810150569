#!/usr/bin/python3
"""Reference values for stats.TestSurvival: on 60 patients of two groups,
drawn here with a seed (exponential times rounded to a month, so that many
are tied; twelve censored), the Kaplan-Meier estimate of each group and of
all (statsmodels' SurvfuncRight: times, survival, Greenwood's standard
error, the median and its cloglog interval), the log-rank test between the
groups (survdiff), the Cox model's hazard ratio of the first group with its
Wald interval and p-value (PHReg, ties="breslow"), and Harrell's C of a
score, by its definition over every pair (statsmodels has none): pairs whose
shorter time ends in the event and is not tied, concordant when that
patient has the lower score, ties in the score a half.

Debian python3-statsmodels 0.13.5, numpy, scipy.
Usage: /usr/bin/python3 stats/testdata/survival/make_reference.py > stats/testdata/survival/reference.json
"""
import json
import math

import numpy as np
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

rng = np.random.default_rng(20261126)
n = 60
group = rng.random(n) < 0.45
time = np.round(rng.exponential(np.where(group, 18.0, 9.0))) + 1.0
censor = rng.uniform(2, 40, n)
event = time <= censor
time = np.where(event, time, np.round(censor))
score = np.round(rng.random(n) * 0.5 + 0.3 * group, 2)


def km(mask):
    sf = SurvfuncRight(time[mask], event[mask].astype(float))
    med = sf.quantile(0.5)
    lo, hi = sf.quantile_ci(0.5)
    num = lambda x: None if not np.isfinite(x) else float(x)
    return {
        "times": sf.surv_times.tolist(),
        "surv": sf.surv_prob.tolist(),
        "se": [None if not np.isfinite(x) else float(x) for x in sf.surv_prob_se],
        "median": num(med),
        "median_low": num(lo),
        "median_high": None if np.isnan(hi) else ("inf" if np.isinf(hi) else float(hi)),
    }


chi2, p = survdiff(time, event.astype(float), group.astype(int))
res = PHReg(time, group.astype(float).reshape(-1, 1), status=event.astype(float), ties="breslow").fit()
beta, se = float(res.params[0]), float(res.bse[0])

conc, pairs = 0.0, 0
for i in range(n):
    if not event[i]:
        continue
    for j in range(n):
        if time[j] > time[i]:
            pairs += 1
            if score[i] < score[j]:
                conc += 1
            elif score[i] == score[j]:
                conc += 0.5

print(json.dumps({
    "time": time.tolist(), "event": event.tolist(), "group": group.tolist(), "score": score.tolist(),
    "km_group": km(group), "km_other": km(~group), "km_all": km(np.ones(n, bool)),
    "logrank_chi2": float(chi2), "logrank_p": float(p),
    "hr": math.exp(beta), "hr_low": math.exp(beta - 1.96 * se), "hr_high": math.exp(beta + 1.96 * se),
    "hr_p": float(res.pvalues[0]),
    "c_index": conc / pairs,
}, indent=1))
