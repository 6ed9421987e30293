#!/usr/bin/env python3
"""How fast can the field's fastest forests fit one study-sized random forest on one core?

Issue 12 asks for the paper's 200-round study in 60 s on 2 cores (120 CPU seconds). A round
fits about a dozen random forests of 100 trees (depth 20, sqrt features) on ~4,500 rows of 50
features (BENCHMARKS.md "The Monte-Carlo study", per-router table), so the target needs one
such forest in about 120 / (200 * 12) = 0.05 CPU seconds. This script times that forest, one
thread, with scikit-learn's exact forest and with the histogram forests of LightGBM
(`boosting_type="rf"`; at most 4,096 leaves, more than a 4,500-row tree's bootstrap sample can
fill, with a 2 GB histogram pool: unbounded leaves make it preallocate past the machine's memory) and XGBoost (`num_parallel_tree`), to tell whether the field has a
forest that fast.

    /tmp/anchors-venv/bin/python scripts/forest_floor.py /tmp/anchors-data/route_5k_50.csv

Prints one JSON line per library: median fit seconds over the repeats (after one warm-up fit)
and the test R^2 on the last 500 rows (target `pb`, the first 4,500 rows for training).
"""
import json
import math
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def r2(y, p):
    return 1.0 - float(np.sum((y - p) ** 2)) / float(np.sum((y - y.mean()) ** 2))


def timed(make, X, y, Xte, yte, repeat):
    make().fit(X, y)  # warm-up
    times, quality = [], None
    for _ in range(repeat):
        model = make()
        t0 = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - t0)
        quality = r2(yte, model.predict(Xte))
    return statistics.median(times), quality


def main():
    path = sys.argv[1]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    df = pd.read_csv(path)
    cols = [c for c in df.columns if c.startswith("x")]
    X = df[cols].to_numpy(np.float64)
    y = df["pb"].to_numpy(np.float64)
    X, Xte, y, yte = X[:4500], X[4500:], y[:4500], y[4500:]
    d = X.shape[1]
    frac = math.floor(math.sqrt(d)) / d  # sqrt features per node, as max_features="sqrt"

    from sklearn.ensemble import RandomForestRegressor
    import lightgbm
    import xgboost

    peers = {
        "scikit-learn RandomForestRegressor": lambda: RandomForestRegressor(
            n_estimators=100, max_depth=20, max_features="sqrt", n_jobs=1, random_state=0),
        "lightgbm rf (histograms, 255 bins)": lambda: lightgbm.LGBMRegressor(
            boosting_type="rf", n_estimators=100, max_depth=20, num_leaves=4096, histogram_pool_size=2048,
            min_child_samples=1, min_child_weight=0.0, subsample=0.632, subsample_freq=1,
            feature_fraction_bynode=frac, max_bin=255, n_jobs=1, verbose=-1, random_state=0),
        "lightgbm rf, 63 bins, at most 1,024 leaves (its fastest setting tried)": lambda: lightgbm.LGBMRegressor(
            boosting_type="rf", n_estimators=100, max_depth=20, num_leaves=1024,
            min_child_samples=1, min_child_weight=0.0, subsample=0.632, subsample_freq=1,
            feature_fraction_bynode=frac, max_bin=63, n_jobs=1, verbose=-1, random_state=0),
        "xgboost rf (hist, 256 bins)": lambda: xgboost.XGBRFRegressor(
            n_estimators=100, max_depth=20, subsample=0.632, colsample_bynode=frac,
            tree_method="hist", max_bin=256, min_child_weight=0.0, reg_lambda=0.0,
            n_jobs=1, random_state=0),
    }
    for name, make in peers.items():
        fit_s, quality = timed(make, X, y, Xte, yte, repeat)
        print(json.dumps({"peer": name, "rows": len(y), "features": d, "trees": 100,
                          "threads": 1, "fit_s": round(fit_s, 4), "test_r2": round(quality, 4)}),
              flush=True)


if __name__ == "__main__":
    main()
