#!/usr/bin/env python3
"""Paired per-round AUC differences of meta_dr between two runs: ROOT/one_se/S and ROOT/default/S.

usage: scripts/pair_rounds.py ROOT SCENARIO...  (prints the markdown table of STATISTICS.md)"""
import csv, sys, math, os
root = sys.argv[1]
def load(v, s):
    d = {}
    for r in csv.DictReader(open(f"{root}/{v}/{s}/rounds.csv")):
        if r["router"] == "meta_dr": d[int(r["round"])] = float(r["auc"])
    return d
print("| scenario | rounds | meta_dr default AUC | one-se AUC | one-se - default (paired SE) | d/SE |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for s in sys.argv[2:]:
    if not os.path.exists(f"{root}/one_se/{s}/rounds.csv"): continue
    a, b = load("default", s), load("one_se", s)
    ks = sorted(set(a) & set(b)); n = len(ks)
    d = [b[k] - a[k] for k in ks]; m = sum(d) / n
    se = math.sqrt(sum((x - m) ** 2 for x in d) / (n - 1) / n)
    z = f"{m/se:+.2f}" if se > 0 else "-"
    print(f"| {s} | {n} | {sum(a[k] for k in ks)/n:.5f} | {sum(b[k] for k in ks)/n:.5f} | {m:+.5f} ({se:.5f}) | {z} |")
