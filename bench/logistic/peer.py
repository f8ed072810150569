#!/usr/bin/python3
"""Fits scikit-learn's LogisticRegression (lbfgs, C = 1/lambda) on the rows
bench/logistic wrote, three times, and prints the table beside abscopal's."""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

d, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours = json.load(open(os.path.join(d, "abscopal.json")))
X = np.fromfile(os.path.join(d, "X.f64"), dtype="<f8").reshape(rows, cols)
y = np.fromfile(os.path.join(d, "y.f64"), dtype="<f8")
secs, m = [], None
for _ in range(3):
    m = LogisticRegression(C=1 / ours["lambda"], solver="lbfgs", tol=1e-10, max_iter=10000)
    t = time.perf_counter()
    m.fit(X, y)
    secs.append(time.perf_counter() - t)
secs.sort()
diff = max(np.max(np.abs(m.coef_[0] - np.array(ours["coef"]))), abs(m.intercept_[0] - ours["intercept"]))
print(f"scikit-learn {sklearn.__version__}; {rows:,} rows x {cols} features; abscopal GOMAXPROCS {ours['threads']}, {ours['iterations']} Newton steps")
print()
print("| fit | min s | median s | abscopal / scikit-learn (median) | largest coefficient difference |")
print("|---|---|---|---|---|")
print(f"| abscopal logistic (Newton: X'WX of a subsample by gonum's BLAS, chord steps near the optimum) | {ours['seconds'][0]:.2f} | {ours['median']:.2f} | {ours['median'] / secs[1]:.2f} | {diff:.1e} |")
print(f"| scikit-learn lbfgs (tol 1e-10) | {secs[0]:.2f} | {secs[1]:.2f} | | |")
