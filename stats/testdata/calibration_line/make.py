#!/usr/bin/python3
"""Makes cases.csv (predictions p and labels y, some predictions exactly 0 or
1, as an isotonic calibrator used to give) and reference.json: the
calibration intercept (logit(p) as an offset) and slope (logit(p) as the only
covariate) by maximum likelihood, computed with scipy.optimize (the slope
also with scikit-learn's unpenalized LogisticRegression). p is clamped to
[1e-12, 1 - 1e-12] before the logit, as stats.CalibrationLine does.

Run: /usr/bin/python3 stats/testdata/calibration_line/make.py
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(42)
n = 400
p = rng.beta(2, 5, n)
y = (rng.random(n) < p).astype(float)
p[:12] = 0.0       # an isotonic block of negatives at the low end...
y[:12] = 0.0
y[3] = 1.0         # ...and one positive that fell into it out of fold
p[12:18] = 1.0
y[12:18] = 1.0
y[15] = 0.0
p = np.round(p, 6)
np.savetxt(os.path.join(here, "cases.csv"), np.column_stack([p, y]), delimiter=",",
           header="p,y", comments="", fmt=["%.6f", "%d"])

q = np.clip(p, 1e-12, 1 - 1e-12)
lp = np.log(q / (1 - q))


def nll(b):
    z = b[0] + b[1] * lp
    return np.sum(np.logaddexp(0, z) - y * z)


def nll_offset(a):
    z = a[0] + lp
    return np.sum(np.logaddexp(0, z) - y * z)


intercept = minimize(nll_offset, [0.0], method="BFGS", options={"gtol": 1e-10}).x[0]
b = minimize(nll, [0.0, 1.0], method="BFGS", options={"gtol": 1e-10}).x
lr = LogisticRegression(penalty=None, tol=1e-12, max_iter=100000).fit(lp.reshape(-1, 1), y)
assert abs(lr.coef_[0][0] - b[1]) < 1e-5, (lr.coef_, b)
json.dump({"intercept": intercept, "slope": b[1], "slope_intercept": b[0],
           "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
          open(os.path.join(here, "reference.json"), "w"), indent=2)
print(intercept, b)
