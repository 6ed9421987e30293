#!/usr/bin/env python3
"""Paired per-round AUC differences, design B minus design A, of one router over the scenarios.

usage: scripts/pair_rounds.py ROOT A B ROUTER SCENARIO...
reads ROOT/A/S/rounds.csv and ROOT/B/S/rounds.csv (written by `meta-router study --out`), pairs
the rounds both runs have and prints a markdown table row per scenario: rounds, the two means,
the mean difference with its paired SE sd/sqrt(R), and d/SE."""
import csv, math, os, sys

root, a_name, b_name, router = sys.argv[1:5]


def load(design, scenario):
    path = f"{root}/{design}/{scenario}/rounds.csv"
    if not os.path.exists(path):
        return None
    return {int(r["round"]): float(r["auc"]) for r in csv.DictReader(open(path)) if r["router"] == router}


print(f"| scenario | rounds | {a_name} | {b_name} | {b_name} - {a_name} (paired SE) | d/SE |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for s in sys.argv[5:]:
    a, b = load(a_name, s), load(b_name, s)
    if not a or not b:
        continue
    ks = sorted(set(a) & set(b))
    n = len(ks)
    if n < 2:
        continue
    d = [b[k] - a[k] for k in ks]
    m = sum(d) / n
    se = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1) / n)
    z = f"{m / se:+.2f}" if se > 0 else "-"
    ma, mb = sum(a[k] for k in ks) / n, sum(b[k] for k in ks) / n
    print(f"| {s} | {n} | {ma:.5f} | {mb:.5f} | {m:+.5f} ({se:.5f}) | {z} |")
