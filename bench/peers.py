#!/usr/bin/python3
"""Peers for bench/compare.sh: scikit-learn and xgboost on the folds and design
matrices that bench/cv wrote, beside abscopal's own results (ours.json).

Usage: /usr/bin/python3 bench/peers.py DIR
"""
import glob
import json
import os
import sys

import numpy as np
import sklearn
import xgboost
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import gbmpeer

d = sys.argv[1]
ours = json.load(open(os.path.join(d, "ours.json")))
k = ours["folds"]


def load(path):
    a = np.loadtxt(path, delimiter=",", skiprows=1)
    return a[:, :-1], a[:, -1]


peers = {
    "scikit-learn LogisticRegression(C=1)": lambda X, y: LogisticRegression(C=1.0, max_iter=10000).fit(X, y),
    "scikit-learn RandomForest(500 trees)": lambda X, y: RandomForestClassifier(
        n_estimators=500, random_state=0, n_jobs=2).fit(X, y),
    # The same leaf minimum as abscopal's forest.
    "scikit-learn RandomForest(500 trees, min_samples_leaf=10)": lambda X, y: RandomForestClassifier(
        n_estimators=500, min_samples_leaf=10, random_state=0, n_jobs=2).fit(X, y),
    "xgboost hist (300 trees, depth 4, eta 0.05, subsample/colsample 0.8)": lambda X, y: xgboost.XGBClassifier(
        n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8, colsample_bytree=0.8,
        tree_method="hist", random_state=0, n_jobs=2).fit(X, y),
    gbmpeer.describe(ours["gbm"]): lambda X, y: gbmpeer.fit(ours["gbm"], X, y),
}
ys, scores = [], {name: [] for name in peers}
for f in range(k):
    Xtr, ytr = load(os.path.join(d, f"fold{f}_train.csv"))
    Xte, yte = load(os.path.join(d, f"fold{f}_test.csv"))
    ys.append(yte)
    for name, fit in peers.items():
        scores[name].append(fit(Xtr, ytr).predict_proba(Xte)[:, 1])
y = np.concatenate(ys)
rows = [(f"abscopal {name}", auc) for name, auc in sorted(ours["auc"].items())]
rows += [(name, roc_auc_score(y, np.concatenate(s))) for name, s in scores.items()]
print(f"{ours['rows']} rows, {k}-fold stratified CV (seed {ours['seed']}), pooled out-of-fold ROC AUC")
print(f"scikit-learn {sklearn.__version__}, xgboost {xgboost.__version__}")
print()
print("| model | CV AUC |")
print("|---|---|")
for name, auc in rows:
    print(f"| {name} | {auc:.4f} |")
