"""Fit time from Python against the Rust fit, on the same 100,000 x 50 table.

Usage: python bench/fit_speed.py [--rows 100000] [--cols 50] [--repeats 3] [--bin PATH]

Writes a CSV once, then per learner alternates `meta-router learn --json` (its `fit_seconds`:
the Rust fit alone, after the CSV is parsed) with the Python estimator's `fit` timed around the
call (argument checks, the GIL release, the fit, and for the tree learners the column-major copy
of a C-order array), and reports the best of `--repeats` for each and their ratio, for a
Fortran-order X and a C-order X (both read in place by ridge and logistic; the C-order one copied
once into the engine's column-major layout for the trees). Results go in BENCHMARKS.md.
"""

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import meta_router as mr

ROOT = Path(__file__).resolve().parents[2]

LEARNERS = [
    # (CLI name, CLI params, estimator factory, classifier target?)
    ("hgb", [], lambda: mr.HistGradientBoostingRegressor(random_state=1), False),
    ("rf", ["n_estimators=20", "max_depth=12"],
     lambda: mr.RandomForestRegressor(20, max_depth=12, max_features=None, random_state=1), False),
    ("ridge", [], lambda: mr.Ridge(), False),
    ("logistic", [], lambda: mr.LogisticRegression(), True),
    ("hgbc", [], lambda: mr.HistGradientBoostingClassifier(random_state=1), True),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "meta-router"))
    ap.add_argument("--only", default=None, help="comma list of learners")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(a.rows, a.cols))
    beta = rng.normal(size=a.cols)
    y = np.sin(X[:, 0]) + X @ beta / np.sqrt(a.cols) + 0.5 * rng.normal(size=a.rows)
    t = (y > np.median(y)).astype(float)
    tmp = Path(tempfile.mkdtemp())
    csv = tmp / "bench.csv"
    header = ",".join([f"x{j + 1}" for j in range(a.cols)] + ["y", "t"])
    np.savetxt(csv, np.column_stack([X, y, t]), delimiter=",", header=header, comments="", fmt="%.17g")
    # the Python side reads the same numbers the CLI parses
    X = np.loadtxt(csv, delimiter=",", skiprows=1, usecols=range(a.cols))
    Xf = np.asfortranarray(X)
    print(f"{a.rows} x {a.cols}, best of {a.repeats}; python F: a Fortran-order float64 X (read in place), "
          "python C: the C-order X np.loadtxt returns (in place for ridge/logistic, copied for the trees)")
    print(f"{'learner':<10} {'rust fit s':>10} {'python F s':>10} {'ratio':>6} {'python C s':>10} {'ratio':>6}")
    only = set(a.only.split(",")) if a.only else None
    for name, params, make, clf in LEARNERS:
        if only and name not in only:
            continue
        target = "t" if clf else "y"
        rust, py, pyc = [], [], []
        for _ in range(a.repeats):
            cmd = [a.bin, "learn", "--learner", name, "--data", str(csv), "--target", target,
                   "--features", "x*", "--seed", "1", "--json"]
            for p in params:
                cmd += ["--param", p]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            rust.append(json.loads(out)["fit_seconds"])
            for data, times in ((Xf, py), (X, pyc)):
                est = make()
                t0 = time.perf_counter()
                est.fit(data, t if clf else y)
                times.append(time.perf_counter() - t0)
        r, p, c = min(rust), min(py), min(pyc)
        print(f"{name:<10} {r:>10.3f} {p:>10.3f} {p / r:>6.3f} {c:>10.3f} {c / r:>6.3f}", flush=True)


if __name__ == "__main__":
    main()
