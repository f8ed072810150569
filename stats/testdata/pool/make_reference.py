#!/usr/bin/python3
"""Reference values for stats.TestPoolAUC: five centres' AUCs pooled on the
logit scale by random effects with Paule and Mandel's between-centre variance,
by statsmodels' combine_effects (Debian python3-statsmodels 0.13.5,
method_re="iterated", which stops when the estimating equation is within
1e-5 of 0: the Go test allows for that), each AUC with the Hanley-McNeil
(1982) variance carried to the logit scale by the delta method. The
confidence interval is Hartung and Knapp's (statsmodels' "random effect wls"
row with use_t: a t quantile on k-1 degrees of freedom and the weighted
residual scale, which Paule-Mandel makes 1); the 95% prediction interval is
Higgins, Thompson and Spiegelhalter's (2009), with scipy's t quantile. I² is
Cochran's, from the fixed-effect Q.

The "reml" entry pools the same centres with tau² by restricted maximum
likelihood (statsmodels 0.13's combine_effects has none): the root of the
restricted log-likelihood's derivative by scipy's brentq, to machine
precision, checked against scipy's bounded minimizer on minus the
likelihood itself (which stops within about 1e-9: Brent's tolerance grows
with sqrt(eps) |tau²|). The Hartung-Knapp interval (scale floored at 1) and
the prediction interval are then computed here from that tau², by their
formulas.

Usage: /usr/bin/python3 stats/testdata/pool/make_reference.py > stats/testdata/pool/reference.json
"""
import json
import math

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import combine_effects

# (AUC, positives, negatives) per centre.
centres = [(0.74, 40, 110), (0.68, 25, 80), (0.81, 60, 90), (0.62, 15, 45), (0.77, 33, 70)]


def hanley_mcneil_var(a, n1, n0):
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    return (a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a)) / (n1 * n0)


eff = np.array([math.log(a / (1 - a)) for a, _, _ in centres])
var = np.array([hanley_mcneil_var(a, n1, n0) / (a * (1 - a)) ** 2 for a, n1, n0 in centres])
res = combine_effects(eff, var, method_re="iterated", use_t=True)
frame = res.summary_frame()
mu, se = frame.loc["random effect", ["eff", "sd_eff"]]
lo, hi = frame.loc["random effect wls", ["ci_low", "ci_upp"]]
assert res.tau2 > 0, "the reference must have heterogeneity to estimate"
k = len(centres)
t = stats.t.ppf(0.975, k - 2)
half = t * math.sqrt(res.tau2 + se * se)
expit = lambda z: 1 / (1 + math.exp(-z))


def neg_restricted_loglik(tau2):
    w = 1 / (var + tau2)
    m = np.sum(w * eff) / np.sum(w)
    return 0.5 * (np.sum(np.log(var + tau2)) + math.log(np.sum(w)) + np.sum(w * (eff - m) ** 2))


def restricted_score(tau2):
    """Twice the derivative of the restricted log-likelihood."""
    w = 1 / (var + tau2)
    m = np.sum(w * eff) / np.sum(w)
    return np.sum(w * w * (eff - m) ** 2) - np.sum(w) + np.sum(w * w) / np.sum(w)


from scipy.optimize import brentq, minimize_scalar

assert restricted_score(0) > 0, "the reference must have a maximum inside (0, inf)"
tau2_reml = brentq(restricted_score, 0, 10, xtol=1e-16)
opt = minimize_scalar(neg_restricted_loglik, bounds=(0, 10), method="bounded", options={"xatol": 1e-12})
assert abs(opt.x - tau2_reml) < 1e-8, (opt.x, tau2_reml)
w = 1 / (var + tau2_reml)
mu_r, se_r = float(np.sum(w * eff) / np.sum(w)), math.sqrt(1 / np.sum(w))
scale = float(np.sum(w * (eff - mu_r) ** 2)) / (k - 1)
hk = stats.t.ppf(0.975, k - 1) * se_r * math.sqrt(max(1, scale))
half_r = t * math.sqrt(tau2_reml + se_r * se_r)

print(json.dumps({
    "centres": [{"auc": a, "positives": n1, "negatives": n0} for a, n1, n0 in centres],
    "auc": expit(mu), "auc_ci_low": expit(lo), "auc_ci_high": expit(hi),
    "auc_prediction_low": expit(mu - half), "auc_prediction_high": expit(mu + half),
    "tau2": res.tau2, "i2": res.i2,
    "reml": {
        "auc": expit(mu_r), "auc_ci_low": expit(mu_r - hk), "auc_ci_high": expit(mu_r + hk),
        "auc_prediction_low": expit(mu_r - half_r), "auc_prediction_high": expit(mu_r + half_r),
        "tau2": tau2_reml, "i2": res.i2,
    },
}, indent=2))
