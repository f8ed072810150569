#!/usr/bin/python3
"""Reference fits for models.Logistic (models/logistic_test.go).

Writes data.csv (a fixed dataset: 400 rows, 5 features, binary y) and
reference.json (scikit-learn LogisticRegression coefficients and intercepts
for two penalties). Run with Debian's python3-sklearn:

    /usr/bin/python3 models/testdata/logistic/make_reference.py

scikit-learn minimizes C * sum(log loss) + 0.5 * ||w||^2 with the intercept
unpenalized; abscopal's lambda is 1/C.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261125)
n, p = 400, 5
X = rng.normal(size=(n, p)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0]) + np.array([0.0, 1.0, -1.0, 0.5, 0.0])
X[:, 3] = (X[:, 3] > 0.5).astype(float)  # a binary feature
logit = -0.7 + X @ np.array([0.8, -0.4, 1.5, 0.6, 0.05])
y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)

np.savetxt(os.path.join(here, "data.csv"), np.column_stack([X, y]), delimiter=",",
           header="x1,x2,x3,x4,x5,y", comments="", fmt="%.10g")

fits = []
for C in (1.0, 0.05):
    m = LogisticRegression(C=C, penalty="l2", solver="lbfgs", tol=1e-12, max_iter=100000).fit(X, y)
    fits.append({"C": C, "lambda": 1 / C, "intercept": float(m.intercept_[0]),
                 "coef": [float(c) for c in m.coef_[0]],
                 "proba_first5": [float(v) for v in m.predict_proba(X[:5])[:, 1]]})
with open(os.path.join(here, "reference.json"), "w") as f:
    json.dump({"sklearn": sklearn.__version__, "fits": fits}, f, indent=2)
    f.write("\n")
