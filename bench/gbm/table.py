#!/usr/bin/python3
"""Prints the ratio table of bench/gbm/run.sh from its JSON lines (stdin):
per row count and threads, min / median seconds of each trainer, the ratio
of the medians, the AUCs; then each trainer's speed-up from 1 to 2 threads
and the exponent of its time in rows (the slope of log time on log rows)."""
import json
import math
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
auc = {}
for line in sys.stdin:
    r = json.loads(line)
    key = (r["trainer"], r["rows"], r["threads"])
    runs[key].append(r["seconds"])
    auc[key] = r["auc"]
ours = sorted({k[0] for k in runs if k[0].startswith("abscopal")})[0]
peer = sorted({k[0] for k in runs if not k[0].startswith("abscopal")})[0]
med = {k: statistics.median(v) for k, v in runs.items()}
print(f"| rows | threads | {ours}: min / median s | {peer}: min / median s | ratio of medians | held-out AUC abscopal / peer |")
print("|---|---|---|---|---|---|")
for rows, threads in sorted({(k[1], k[2]) for k in runs}):
    a, p = (ours, rows, threads), (peer, rows, threads)
    if a in runs and p in runs:
        print(f"| {rows:,} | {threads} | {min(runs[a]):.2f} / {med[a]:.2f} | {min(runs[p]):.2f} / {med[p]:.2f} | "
              f"{med[a] / med[p]:.2f} | {auc[a]:.4f} / {auc[p]:.4f} |")
print()
for name in (ours, peer):
    ups = [f"{rows:,} rows {med[(name, rows, 1)] / med[(name, rows, 2)]:.2f}x"
           for rows in sorted({k[1] for k in runs}) if (name, rows, 1) in med and (name, rows, 2) in med]
    pts = sorted((rows, s) for (n, rows, t), s in med.items() if n == name and t == max(k[2] for k in runs))
    slope = ""
    if len(pts) >= 2:
        xs, ys = [math.log(r) for r, _ in pts], [math.log(s) for _, s in pts]
        mx, my = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
        slope = f"; time ~ rows^{slope:.2f} from {pts[0][0]:,} to {pts[-1][0]:,} rows"
    print(f"{name}: speed-up from 1 to 2 threads {', '.join(ups) or 'not measured'}{slope}")
