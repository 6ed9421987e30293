#!/usr/bin/env python3
"""Paired comparison of `--nuisance-fit oob` against `crossfit` (issue 12, BENCHMARKS.md).

Reads DIR/s<SEED>/<scenario>/<crossfit|oob>/rounds.csv (written by `study --out`, both settings
run with the same seed, so round r of one is round r of the other: the same splits) and
DIR/times.txt (lines `seed scenario setting seconds load_before load_after`), and prints a
markdown table per scenario and router: mean AUC both ways, the paired mean difference
oob - crossfit with its standard error sd(d)/sqrt(n) and d/SE, mean Delta RMSE both ways, and
the study seconds of each setting (summed over seeds).

usage: scripts/nuisance_fit_table.py DIR
"""
import csv
import math
import os
import sys
from collections import defaultdict

SCENARIOS = ["default", "nonlinear_bias", "orthogonal_bias", "aligned_bias", "noisy_pref", "distorted_scale",
             "weak_psi", "gold_1pct", "gold_10pct", "selected_gold", "raw384"]


def rounds(path):
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            out[(row["router"], int(row["round"]))] = (float(row["auc"]), row["delta_rmse"])
    return out


def main(d):
    seeds = sorted(x for x in os.listdir(d) if x.startswith("s") and os.path.isdir(os.path.join(d, x)))
    secs = defaultdict(float)
    loads = []
    if os.path.exists(os.path.join(d, "times.txt")):
        for line in open(os.path.join(d, "times.txt")):
            p = line.split()
            if len(p) == 6:
                secs[(p[1], p[2])] += float(p[3])
                loads += [float(p[4]), float(p[5])]
    print("| scenario | router | n | AUC crossfit | AUC oob | oob - crossfit (SE) | d/SE | Delta RMSE crossfit | Delta RMSE oob | seconds crossfit / oob |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    zs = []
    for sc in SCENARIOS:
        data = {}
        for fit in ("crossfit", "oob"):
            merged = {}
            for s in seeds:
                p = os.path.join(d, s, sc, fit, "rounds.csv")
                if os.path.exists(p):
                    merged.update({(r, s, k): v for (r, k), v in rounds(p).items()})
            data[fit] = merged
        if not data["crossfit"] or not data["oob"]:
            continue
        for router in ("meta_r", "meta_dr", "pooled"):
            keys = sorted(k for k in data["crossfit"] if k[0] == router and k in data["oob"])
            if not keys:
                continue
            a = [data["crossfit"][k][0] for k in keys]
            b = [data["oob"][k][0] for k in keys]
            dd = [y - x for x, y in zip(a, b)]
            n = len(dd)
            m = sum(dd) / n
            se = math.sqrt(sum((v - m) ** 2 for v in dd) / (n - 1) / n) if n > 1 else float("nan")
            z = m / se if se > 0 else float("nan")
            if router != "pooled":
                zs.append((sc, router, z))
            def rm(fit):
                v = [float(data[fit][k][1]) for k in keys if data[fit][k][1] not in ("", "NaN", "nan")]
                return f"{sum(v) / len(v):.4f}" if v else "-"
            t = f"{secs[(sc, 'crossfit')]:.0f} / {secs[(sc, 'oob')]:.0f}" if router == "meta_r" else ""
            zs_txt = f"{z:+.2f}" if se > 0 else "-"
            print(f"| {sc} | {router} | {n} | {sum(a) / n:.5f} | {sum(b) / n:.5f} | {m:+.5f} ({se:.5f}) | {zs_txt} | {rm('crossfit')} | {rm('oob')} | {t} |")
    if zs:
        worst = min(zs, key=lambda v: v[2])
        mean_z = sum(v[2] for v in zs) / len(zs)
        print(f"\nmeta-routers: mean d/SE {mean_z:+.2f} over {len(zs)} scenario-router pairs; "
              f"worst {worst[0]}/{worst[1]} {worst[2]:+.2f}; below -1: {sum(v[2] < -1 for v in zs)}; "
              f"above +1: {sum(v[2] > 1 for v in zs)}")
    tot_c = sum(v for (s, f), v in secs.items() if f == "crossfit")
    tot_o = sum(v for (s, f), v in secs.items() if f == "oob")
    if tot_c:
        print(f"total seconds crossfit {tot_c:.0f}, oob {tot_o:.0f} (ratio {tot_o / tot_c:.2f}); "
              f"load average (1 min) at the runs' starts and ends: {min(loads):.1f} to {max(loads):.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
