#!/usr/bin/env python3
"""Time meta-router and its Python peers side by side, back to back, on the same data.

The peers' scripts are not part of this repository: they come from the benchmark workspace's
shared folder, a sibling checkout at ../shared/peers (or $PEERS_DIR).

Usage (after `bash ../shared/peers/setup.sh`, `make_data.py /tmp/anchors-data` and
`split.sh` on each set, and `cargo build --release`):

    python3 scripts/side_by_side.py [--repeat 3] [--only TASK,...] [--out results.jsonl]

For each task it runs our `meta-router learn ... --json` REPEAT times and the peer's
`bench_py.py TASK --data FILE --repeat REPEAT`, alternating, and prints one line per task
with both medians and the ratio. Both sides train on FILE.train.csv (first 80%) and score on
FILE.test.csv (last 20%), which is the split bench_py.py uses.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEERS = os.path.join(os.environ.get("PEERS_DIR", os.path.join(ROOT, "..", "shared", "peers")), "bench_py.py")
PY = os.environ.get("PEER_PY", "/tmp/anchors-venv/bin/python")
DATA = os.environ.get("DATA", "/tmp/anchors-data")
BIN = os.path.join(ROOT, "target", "release", "meta-router")

# task: (peer task, peer solver, data set, our learner, target, our params)
TASKS = {
    "ridge_100k": ("ridge_sklearn", "auto", "reg_100k_50", "ridge", "y", ["alpha=1"]),
    "logistic_100k": ("logistic_sklearn", None, "cls_100k_50", "logistic", "t", ["C=1"]),
    "pca_full": ("pca_sklearn", "full", "emb_5k_384", "pca", None, ["n_components=50", "solver=full"]),
    "pca_randomized": ("pca_sklearn", "randomized", "emb_5k_384", "pca", None, ["n_components=50", "solver=randomized"]),
    "rf_5k": ("rf_sklearn", None, "reg_5k_50", "rf", "y", ["n_estimators=100", "max_depth=20", "max_features=sqrt"]),
    "rf_100k": ("rf_sklearn", None, "reg_100k_50", "rf", "y", ["n_estimators=100", "max_depth=20", "max_features=sqrt"]),
    "rfc_100k": ("rfc_sklearn", None, "cls_100k_50", "rfc", "t", ["n_estimators=100", "max_depth=20", "max_features=sqrt"]),
    "hgb_100k": ("hgb_lightgbm", None, "reg_100k_50", "hgb", "y", ["max_iter=100", "max_leaf_nodes=31", "learning_rate=0.1", "max_bins=255"]),
    "hgb_1m": ("hgb_lightgbm", None, "reg_1m_50", "hgb", "y", ["max_iter=100", "max_leaf_nodes=31", "learning_rate=0.1", "max_bins=255"]),
    "hgb_sklearn_100k": ("hgb_sklearn", None, "reg_100k_50", "hgb", "y", ["max_iter=100", "max_leaf_nodes=31", "learning_rate=0.1", "max_bins=255"]),
    "hgb_xgboost_100k": ("hgb_xgboost", None, "reg_100k_50", "hgb", "y", ["max_iter=100", "max_leaf_nodes=31", "learning_rate=0.1", "max_bins=255"]),
}


def ours(learner, data, target, params, repeat):
    fits, preds, vals = [], [], []
    for _ in range(repeat):
        if learner == "pca":
            cmd = [BIN, "learn", "--learner", "pca", "--data", f"{DATA}/{data}.csv", "--json"]
        else:
            cmd = [BIN, "learn", "--learner", learner, "--data", f"{DATA}/{data}.train.csv",
                   "--test", f"{DATA}/{data}.test.csv", "--target", target, "--json"]
        for p in params:
            cmd += ["--param", p]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            return {"error": out.stderr.strip()}
        j = json.loads(out.stdout)
        fits.append(j["fit_seconds"]); preds.append(j["predict_seconds"])
        vals.append(j.get("reconstruction_error", j["value"]) if learner == "pca" else j["value"])
    return {"fit_s": statistics.median(fits), "predict_s": statistics.median(preds),
            "quality": statistics.median(vals), "fits": fits}


def peer(task, solver, data, repeat):
    path = f"{DATA}/{data}.csv"
    cmd = [PY, PEERS, task, "--data", path, "--repeat", str(repeat)]
    if solver:
        cmd += ["--solver", solver]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr.strip()[-500:]}
    j = json.loads(out.stdout.strip().splitlines()[-1])
    return {"fit_s": j["fit_s"], "predict_s": j["predict_s"], "quality": j["quality"],
            "others_cpu_fit": j.get("others_cpu_fit"), "lib": j["lib"], "version": j["version"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    names = [n for n in a.only.split(",") if n] or list(TASKS)
    for name in names:
        ptask, solver, data, learner, target, params = TASKS[name]
        o = ours(learner, data, target, params, a.repeat)
        p = peer(ptask, solver, data, a.repeat)
        row = {"task": name, "ours": o, "peer": p}
        if "fit_s" in o and "fit_s" in p:
            row["fit_ratio_ours_over_peer"] = o["fit_s"] / p["fit_s"]
            row["predict_ratio_ours_over_peer"] = o["predict_s"] / p["predict_s"] if p["predict_s"] else None
        line = json.dumps(row)
        print(line, flush=True)
        if a.out:
            with open(a.out, "a") as fh:
                fh.write(line + "\n")


if __name__ == "__main__":
    sys.exit(main())
