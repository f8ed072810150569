#!/usr/bin/python3
"""The peers of bench/predict/run.sh: xgboost for abscopal's GBM,
scikit-learn for its forest and logistic regression.

  peer.py fit DIR       train the peer of DIR/model.json on DIR's training
                        vectors (DIR/train/X.f64, y.f64), with the same trees,
                        depth, leaf minimum and penalty; save it to DIR/peer.bin
  peer.py predict DIR   score DIR's vectors (DIR/X.f64) and write the
                        probabilities to DIR/peer.f64; prints the seconds from
                        loading the model to the written file as a JSON line
  peer.py table FILE    the ratio table of the JSON lines in FILE
"""
import json
import os
import pickle
import statistics
import sys
import time

import numpy as np


def info(d):
    return json.load(open(os.path.join(d, "model.json")))


def matrix(d, m):
    X = np.fromfile(os.path.join(d, "X.f64"), dtype="<f8").reshape(-1, m["cols"])
    return X, np.fromfile(os.path.join(d, "y.f64"), dtype="<f8")


def fit(d):
    m = info(d)
    X, y = matrix(os.path.join(d, "train"), m)
    if m["algo"] == "gbm":
        import xgboost
        peer = xgboost.XGBClassifier(n_estimators=m["trees"], max_depth=m["depth"], learning_rate=m["learning_rate"],
                                     reg_lambda=m["lambda"], min_child_weight=m["min_child_weight"], tree_method="hist",
                                     n_jobs=2, random_state=0).fit(X, y)
        peer.save_model(os.path.join(d, "peer.json"))
        return
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    if m["algo"] == "forest":
        peer = RandomForestClassifier(n_estimators=m["trees"], max_depth=m["depth"], min_samples_leaf=m["min_leaf"],
                                      max_features=m["split_features"], n_jobs=2, random_state=0).fit(X, y)
    else:
        peer = LogisticRegression(C=1 / m["lambda"], max_iter=10000).fit(X, y)
    pickle.dump(peer, open(os.path.join(d, "peer.bin"), "wb"))


def predict(d):
    m = info(d)
    # The libraries are imported before the clock starts, as abscopal's
    # code is loaded before its command runs.
    import sklearn.ensemble
    import sklearn.linear_model
    import xgboost
    t = time.perf_counter()
    if m["algo"] == "gbm":
        peer = xgboost.XGBClassifier(n_jobs=2)
        peer.load_model(os.path.join(d, "peer.json"))
    else:
        peer = pickle.load(open(os.path.join(d, "peer.bin"), "rb"))
    X, _ = matrix(d, m)
    peer.predict_proba(X)[:, 1].astype("<f8").tofile(os.path.join(d, "peer.f64"))
    secs = time.perf_counter() - t
    print(json.dumps({"algo": m["algo"], "who": "peer", "seconds": secs}))


def table(path):
    from sklearn.metrics import roc_auc_score
    runs = [json.loads(line) for line in open(path) if line.startswith("{")]
    print("| model | rows | abscopal predict: min / median s | peer | peer: min / median s | ratio of medians | AUC abscopal / peer |")
    print("|---|---|---|---|---|---|---|")
    peers = {"gbm": "xgboost", "forest": "scikit-learn RandomForest", "logistic": "scikit-learn LogisticRegression"}
    for algo in ("gbm", "forest", "logistic"):
        ours = sorted(r["seconds"] for r in runs if r["algo"] == algo and r.get("who") == "abscopal")
        theirs = sorted(r["seconds"] for r in runs if r["algo"] == algo and r.get("who") == "peer")
        if not ours or not theirs:
            continue
        d = next(r["dir"] for r in runs if r["algo"] == algo and "dir" in r)
        m = info(d)
        y = np.fromfile(os.path.join(d, "y.f64"), dtype="<f8")
        auc = [roc_auc_score(y, np.fromfile(os.path.join(d, f), dtype="<f8")) for f in ("ours.f64", "peer.f64")]
        om, pm = statistics.median(ours), statistics.median(theirs)
        size = f", {m['trees']} trees of depth {m['depth']}" if "trees" in m else ""
        print(f"| {algo}{size} | {m['rows']:,} | {ours[0]:.2f} / {om:.2f} | {peers[algo]} | {theirs[0]:.2f} / {pm:.2f} | {om / pm:.2f} | {auc[0]:.4f} / {auc[1]:.4f} |")


{"fit": fit, "predict": predict, "table": table}[sys.argv[1]](sys.argv[2])
