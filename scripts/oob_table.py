#!/usr/bin/env python3
"""Paired comparison of out-of-bag nuisances against K-fold cross-fitting (issue 12, STATISTICS.md).

Reads ROOT/<base>/<scenario>/rounds.csv and ROOT/<variant>/<scenario>/rounds.csv for every
variant given (written by `scripts/method_suite.sh`; the same --seed, so round r of one run is
round r of the other: the same splits and gold rows) and prints, per variant and router, a
markdown table: mean AUC both ways, the paired mean difference variant - base with its standard
error sd(d)/sqrt(n), d/SE, and the mean Delta RMSE both ways; then the mean and the extremes of
d/SE over the scenarios and the difference pooled over every scenario's rounds. Scenarios
missing from either side, or with no rounds of the router, are skipped.

With `--baselines NAME`, also prints per scenario each run's meta-routers against the best
baseline of ROOT/NAME/<scenario>/rounds.csv (the highest mean AUC among gold_only, pref_only,
pooled and mean_shift on the same rounds), paired per round, and the share of the gap to
all_gold closed, `(AUC - best) / (all_gold - best)`.

usage: scripts/oob_table.py ROOT BASE VARIANT... [--routers meta_r,meta_dr] [--baselines NAME]
"""
import csv
import math
import os
import sys

SCENARIOS = ["default", "nonlinear_bias", "orthogonal_bias", "aligned_bias", "noisy_pref", "distorted_scale",
             "weak_psi", "gold_1pct", "gold_10pct", "raw384"]


def load(path):
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            rmse = row.get("delta_rmse", "")
            out[(row["router"], int(row["round"]))] = (float(row["auc"]), float(rmse) if rmse not in ("", "NaN") else None)
    return out


def mean(v):
    return sum(v) / len(v)


def se_of(d):
    m = mean(d)
    return math.sqrt(sum((x - m) ** 2 for x in d) / (len(d) - 1) / len(d))


def main(argv):
    routers = ["meta_r", "meta_dr"]
    if "--routers" in argv:
        i = argv.index("--routers")
        routers = argv[i + 1].split(",")
        argv = argv[:i] + argv[i + 2:]
    baselines = None
    if "--baselines" in argv:
        i = argv.index("--baselines")
        baselines = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    root, base, variants = argv[0], argv[1], argv[2:]
    for v in variants:
        for r in routers:
            print(f"\n`{v}` against `{base}`, `{r}`:\n")
            print(f"| scenario | rounds | AUC {base} | AUC {v} | {v} - {base} (paired SE) | d/SE | Delta RMSE {base} | Delta RMSE {v} |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            zs, pooled = [], []
            for s in SCENARIOS:
                pa, pb = f"{root}/{base}/{s}/rounds.csv", f"{root}/{v}/{s}/rounds.csv"
                if not (os.path.exists(pa) and os.path.exists(pb)):
                    continue
                a, b = load(pa), load(pb)
                ks = sorted(k for k in a if k[0] == r and k in b)
                if len(ks) < 2:
                    continue
                d = [b[k][0] - a[k][0] for k in ks]
                m, se = mean(d), se_of(d)
                z = m / se if se > 0 else 0.0
                zs.append((z, s))
                pooled += d
                ra = [a[k][1] for k in ks if a[k][1] is not None]
                rb = [b[k][1] for k in ks if b[k][1] is not None]
                rmse = (f"{mean(ra):.4f} | {mean(rb):.4f}") if ra and rb else "- | -"
                print(f"| {s} | {len(ks)} | {mean([a[k][0] for k in ks]):.5f} | {mean([b[k][0] for k in ks]):.5f} "
                      f"| {m:+.5f} ({se:.5f}) | {z:+.2f} | {rmse} |")
            if zs:
                lo, hi = min(zs), max(zs)
                print(f"\nmean d/SE {mean([z for z, _ in zs]):+.2f} over {len(zs)} scenarios; lowest {lo[0]:+.2f} ({lo[1]}), "
                      f"highest {hi[0]:+.2f} ({hi[1]}); below -2: {sum(z < -2 for z, _ in zs)}; "
                      f"all rounds pooled: {mean(pooled):+.5f} (SE {se_of(pooled):.5f})")

    if baselines:
        vs_best(root, baselines, [base] + variants, routers)


def vs_best(root, name, runs, routers):
    print(f"\nAgainst the best baseline (`{name}`), paired per round; mark `++` above +2 SE, `LOSS` below -1 SE:\n")
    print("| scenario | rounds | best baseline | all_gold | " + " | ".join(f"{r} {v}: AUC, vs best (SE), gap%" for v in runs for r in routers) + " |")
    print("| --- | ---: | --- | ---: | " + " | ".join("---" for _ in runs for _ in routers) + " |")
    gaps = {(v, r): [] for v in runs for r in routers}
    for s in SCENARIOS:
        pb = f"{root}/{name}/{s}/rounds.csv"
        if not os.path.exists(pb) or not all(os.path.exists(f"{root}/{v}/{s}/rounds.csv") for v in runs):
            continue
        b = load(pb)
        got = {v: load(f"{root}/{v}/{s}/rounds.csv") for v in runs}
        rounds = sorted({k[1] for k in b} & set.intersection(*({k[1] for k in g} for g in got.values())))
        if len(rounds) < 2:
            continue
        cand = [c for c in ["gold_only", "pref_only", "pooled", "mean_shift"] if all((c, q) in b for q in rounds)]
        best = max(cand, key=lambda c: mean([b[(c, q)][0] for q in rounds]))
        best_auc = mean([b[(best, q)][0] for q in rounds])
        ag = mean([b[("all_gold", q)][0] for q in rounds])
        cells = []
        for v in runs:
            for r in routers:
                d = [got[v][(r, q)][0] - b[(best, q)][0] for q in rounds]
                m, se = mean(d), se_of(d)
                gap = 100 * m / (ag - best_auc) if ag != best_auc else float("nan")
                gaps[(v, r)].append(gap)
                mark = "++" if m > 2 * se else ("LOSS" if m < -se else "ok")
                cells.append(f"{best_auc + m:.4f}, {m:+.5f} ({se:.5f}), {gap:.0f} {mark}")
        print(f"| {s} | {len(rounds)} | {best} {best_auc:.4f} | {ag:.4f} | " + " | ".join(cells) + " |")
    for (v, r), g in gaps.items():
        if g:
            print(f"* `{r}` `{v}`: mean gap closed {mean(g):.1f}% over {len(g)} scenarios")


if __name__ == "__main__":
    main(sys.argv[1:])
