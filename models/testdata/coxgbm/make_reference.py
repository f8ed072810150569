"""Reference margins of xgboost's survival:cox for models/coxgbm_test.go.

A fixed matrix of 80 rows: two features of whole values 0-9 (each value its
own bin in abscopal's GBM, and a split between two of them in xgboost's
exact method, so both search the same splits), distinct follow-up times,
about two thirds of them events. xgboost (Debian python3-xgboost 1.7.4)
boosts 4 trees of depth 2 with eta 0.3, lambda 1, min_child_weight 0 and
base_score 1 (a margin of log 1 = 0, where abscopal's boosted Cox starts);
the margins of the training rows go to reference.json.

    /usr/bin/python3 make_reference.py
"""
import json

import numpy as np
import xgboost as xgb

rng = np.random.default_rng(20261207)
n = 80
x = rng.integers(0, 10, size=(n, 2)).astype(float)
hazard = np.exp(0.3 * x[:, 0] - 0.2 * x[:, 1])
time = rng.exponential(1 / hazard) * 10
time = np.round(time + np.arange(n) * 1e-4, 6)  # distinct
event = (rng.random(n) < 0.65).astype(int)
label = np.where(event == 1, time, -time)  # xgboost: negative for censored
d = xgb.DMatrix(x, label=label)
params = {"objective": "survival:cox", "tree_method": "exact", "max_depth": 2, "eta": 0.3,
          "lambda": 1.0, "alpha": 0.0, "min_child_weight": 0.0, "base_score": 1.0, "max_delta_step": 0.0}
bst = xgb.train(params, d, num_boost_round=4)
margin = bst.predict(d, output_margin=True)
json.dump({"x": x.tolist(), "time": time.tolist(), "event": event.tolist(), "margin": [float(m) for m in margin],
           "params": params, "rounds": 4, "xgboost": xgb.__version__}, open("reference.json", "w"), indent=1)
