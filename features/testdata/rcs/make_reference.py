#!/usr/bin/python3
"""Reference values for features.TestSpline: restricted cubic spline knots
and terms as rms::rcspline.eval (Harrell) computes them, written out here in
numpy from its definition (rms is R; this machine has no R):

- knots at Harrell's default quantiles (3 knots: .10 .5 .90; 4: .05 .35 .65
  .95; 5: .05 .275 .5 .725 .95) of the training values, by R's quantile
  type 7, which is numpy.percentile's default "linear" method;
- with kd = (t_k - t_1)^(2/3) (norm = 2), term j (1..k-2) at x:
  max((x - t_j)/kd, 0)^3 + ((t_{k-1} - t_j) max((x - t_k)/kd, 0)^3
  - (t_k - t_j) max((x - t_{k-1})/kd, 0)^3) / (t_k - t_{k-1}).

Usage: /usr/bin/python3 features/testdata/rcs/make_reference.py > features/testdata/rcs/reference.json
"""
import json

import numpy as np

rng = np.random.default_rng(20261126)
train = np.round(rng.lognormal(np.log(7), 0.8, 200), 2).tolist()
quantiles = {3: [0.10, 0.5, 0.90], 4: [0.05, 0.35, 0.65, 0.95], 5: [0.05, 0.275, 0.5, 0.725, 0.95]}
xs = [-5.0, 0.0, 1.5, 3.0, 6.5, 7.0, 12.0, 25.0, 60.0, 120.0]

out = {"train": train, "x": xs, "cases": []}
for k, qs in quantiles.items():
    knots = np.percentile(train, [100 * q for q in qs]).tolist()
    kd = (knots[-1] - knots[0]) ** (2 / 3)
    terms = []
    for x in xs:
        row = []
        for j in range(k - 2):
            row.append(max((x - knots[j]) / kd, 0) ** 3
                       + ((knots[-2] - knots[j]) * max((x - knots[-1]) / kd, 0) ** 3
                          - (knots[-1] - knots[j]) * max((x - knots[-2]) / kd, 0) ** 3) / (knots[-1] - knots[-2]))
        terms.append(row)
    out["cases"].append({"knots_asked": k, "knots": knots, "terms": terms})
print(json.dumps(out, indent=1))
