#!/usr/bin/python3
"""Reference values for stats.TestLowess and stats.TestCalibrationError:
statsmodels' lowess (a port of Cleveland's clowess, as R's lowess) without
robustness iterations (it=0), fitted at each point, on 300 predicted
probabilities drawn here with a seed (a third rounded to two decimals, so
that many are tied) and 0/1 outcomes drawn from a miscalibrated truth; for
frac 2/3 (R's default) with delta 0 and with R's default delta (1% of the
range), and frac 0.3 with delta 0. Then, from the smooth with R's defaults,
the calibration errors of rms::val.prob: Eavg (the integrated calibration
index of Austin and Steyerberg, Stat Med 2019), E50, E90 (R's quantile
type 7, numpy's default "linear") and Emax.

Debian python3-statsmodels 0.13.5, numpy.
Usage: /usr/bin/python3 stats/testdata/lowess/make_reference.py > stats/testdata/lowess/reference.json
"""
import json

import numpy as np
from statsmodels.nonparametric.smoothers_lowess import lowess

rng = np.random.default_rng(20261126)
n = 300
p = rng.beta(2, 5, n)
p[: n // 3] = np.round(p[: n // 3], 2)
truth = 1 / (1 + np.exp(-(0.3 + 1.4 * np.log(p / (1 - p)))))
y = (rng.random(n) < truth).astype(float)

fits = []
for frac, delta in ((2 / 3, 0.0), (2 / 3, 0.01 * (p.max() - p.min())), (0.3, 0.0)):
    fit = lowess(y, p, frac=frac, it=0, delta=delta, return_sorted=False)
    fits.append({"frac": frac, "delta": delta, "fit": fit.tolist()})

err = np.abs(fits[1]["fit"] - p)
json.dump({"p": p.tolist(), "y": y.tolist(), "fits": fits,
           "eavg": float(err.mean()), "e50": float(np.quantile(err, 0.5)),
           "e90": float(np.quantile(err, 0.9)), "emax": float(err.max())},
          __import__("sys").stdout, indent=1)
