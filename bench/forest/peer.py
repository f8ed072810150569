#!/usr/bin/python3
"""Fits scikit-learn's RandomForestClassifier (the same trees, leaf minimum
and features per split, n_jobs as abscopal's threads) on the rows
bench/forest wrote, three times, and prints a row beside abscopal's."""
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

d, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours = json.load(open(os.path.join(d, "abscopal.json")))
load = lambda name, shape: np.fromfile(os.path.join(d, name), dtype="<f8").reshape(shape)
Xtr, ytr, Xte, yte = load("Xtr.f64", (rows, cols)), load("ytr.f64", rows), load("Xte.f64", (rows, cols)), load("yte.f64", rows)
secs, m = [], None
for _ in range(3):
    m = RandomForestClassifier(n_estimators=ours["trees"], min_samples_leaf=ours["min_leaf"], max_features=ours["split_features"],
                               n_jobs=ours["threads"], random_state=0)
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    secs.append(time.perf_counter() - t)
secs.sort()
auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
print(f"| {rows:,} | {ours['trees']} | abscopal ({ours['learner']}) {ours['seconds'][0]:.2f} / {ours['median']:.2f} s | "
      f"scikit-learn {sklearn.__version__} {secs[0]:.2f} / {secs[1]:.2f} s | {ours['median'] / secs[1]:.2f} | {ours['auc']:.4f} / {auc:.4f} |")
