#!/usr/bin/python3
"""Times xgboost's hist method on the data bench/gbmspeed wrote, with the same
settings as abscopal's GBM there, and prints the time ratio and both AUCs.

Usage: /usr/bin/python3 bench/gbmspeed.py DIR
"""
import json
import os
import sys
import time

import numpy as np
import xgboost
from sklearn.metrics import roc_auc_score

d = sys.argv[1]
ours = json.load(open(os.path.join(d, "ours.json")))


def load(name, shape):
    return np.fromfile(os.path.join(d, name), dtype="<f8").reshape(shape)


rows, cols, test = ours["rows"], ours["cols"], ours["test_rows"]
Xtr, ytr = load("Xtr.f64", (rows, cols)), load("ytr.f64", rows)
Xte, yte = load("Xte.f64", (test, cols)), load("yte.f64", test)
print(f"xgboost {xgboost.__version__}; abscopal: {ours['seconds']:.2f} s, AUC {ours['auc']:.4f}, GOMAXPROCS {ours['threads']}")
print()
print("| trainer | threads | seconds | test AUC | abscopal / xgboost time |")
print("|---|---|---|---|---|")
for threads in (1, ours["threads"]):
    m = xgboost.XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, reg_lambda=1.0, min_child_weight=1,
                              max_bin=255, tree_method="hist", n_jobs=threads, random_state=0)
    t = time.perf_counter()
    m.fit(Xtr, ytr)
    secs = time.perf_counter() - t
    auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
    print(f"| xgboost hist | {threads} | {secs:.2f} | {auc:.4f} | {ours['seconds'] / secs:.2f} |")
print(f"| abscopal gbm | {ours['threads']} | {ours['seconds']:.2f} | {ours['auc']:.4f} | |")
