#!/usr/bin/env python3
"""Reference SHAP values for TestTreeSHAPMatchesXGBoost: an xgboost model's
trees, converted to abscopal's flat GBMTree arrays, and xgboost's own
pred_contribs (its TreeSHAP) for some rows.

Run with Debian's python3-xgboost (1.7.4 made reference.json):
    /usr/bin/python3 make_reference.py > reference.json

xgboost sends x left ("yes") when float32(x) < threshold; abscopal when
x <= threshold. The inputs are float32 values, so that x < t is
x <= nextafter(t, -inf) in float64: the threshold written is that. Covers are
xgboost's (hessian sums); abscopal's TreeSHAP weighs branches by whatever the
covers hold.
"""
import json
import sys

import numpy as np
import xgboost as xgb

rng = np.random.default_rng(7)
n, p = 600, 6
X = rng.normal(size=(n, p)).astype(np.float32)
X[rng.random(n) < 0.15, 4] = np.nan  # missing values, routed by a learned side
z = 0.9 * X[:, 0] - 0.7 * X[:, 1] + 0.8 * X[:, 2] * X[:, 3] + 0.5 * np.nan_to_num(X[:, 4])
y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.float32)

params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3, "base_score": 0.5,
          "tree_method": "exact", "lambda": 1, "min_child_weight": 1, "seed": 1}
booster = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=12)


def convert(tree):
    """Flattens an xgboost JSON tree, children after their parent."""
    arrays = {k: [] for k in ("feature", "threshold", "default_left", "left", "right", "value", "cover")}
    order = []

    def visit(node):
        idx = len(order)
        order.append(node)
        for k, v in (("feature", -1), ("threshold", 0.0), ("default_left", False), ("left", -1), ("right", -1),
                     ("value", node.get("leaf", 0.0)), ("cover", node["cover"])):
            arrays[k].append(v)
        if "children" in node:
            kids = {c["nodeid"]: c for c in node["children"]}
            yes, no = kids[node["yes"]], kids[node["no"]]
            arrays["feature"][idx] = int(node["split"][1:])
            arrays["threshold"][idx] = float(np.nextafter(np.float64(np.float32(node["split_condition"])), -np.inf))
            arrays["default_left"][idx] = node["missing"] == node["yes"]
            arrays["left"][idx] = visit(yes)
            arrays["right"][idx] = visit(no)
        return idx

    visit(tree)
    return arrays


trees = [convert(json.loads(t)) for t in booster.get_dump(dump_format="json", with_stats=True)]
rows = np.arange(0, n, 12)
contribs = booster.predict(xgb.DMatrix(X[rows], missing=np.nan), pred_contribs=True)
margin = booster.predict(xgb.DMatrix(X[rows], missing=np.nan), output_margin=True)
json.dump({
    "xgboost": xgb.__version__,
    "base_margin": 0.0,  # logit(base_score 0.5)
    "trees": trees,
    "x": [[None if np.isnan(v) else float(v) for v in X[i]] for i in rows],
    "contribs": contribs.astype(float).tolist(),  # per row: one per feature, then the bias
    "margin": margin.astype(float).tolist(),
}, sys.stdout, indent=1)
