#!/usr/bin/python3
"""Fits xgboost's hist method once on the rows bench/gbm wrote, with the
settings of abscopal's GBM there, and prints one JSON line as bench/gbm does.

Usage: bench/gbm/peer.py DIR ROWS THREADS
"""
import json
import os
import sys
import time

import numpy as np
import xgboost
from sklearn.metrics import roc_auc_score

d, rows, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cols, test = 30, 20_000
load = lambda name, shape: np.fromfile(os.path.join(d, name), dtype="<f8").reshape(shape)
Xtr, ytr, Xte, yte = load("Xtr.f64", (rows, cols)), load("ytr.f64", rows), load("Xte.f64", (test, cols)), load("yte.f64", test)
m = xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, reg_lambda=1.0, min_child_weight=1,
                          max_bin=255, tree_method="hist", n_jobs=threads, random_state=0)
t = time.perf_counter()
m.fit(Xtr, ytr)
secs = time.perf_counter() - t
auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
print(json.dumps({"trainer": f"xgboost {xgboost.__version__} hist", "rows": rows, "threads": threads, "seconds": secs, "auc": auc}))
