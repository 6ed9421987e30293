#!/usr/bin/env python3
"""The 50-round confirmation table of the default final-stage rule (STATISTICS.md), paired per round.

usage: scripts/confirm_table.py [--router R --argmin VARIANT] OUTROOT VARIANT [VARIANT ...]
(--router meta_r --argmin r_argmin: meta_r, whose argmin runs are OUTROOT/r_argmin rather than the
baselines' run; every comparison uses the rounds all the runs have)

OUTROOT/baselines/S/rounds.csv holds every baseline, all_gold and the default meta_dr (the argmin
rule, made by main's binary before the change); OUTROOT/VARIANT/S/rounds.csv the meta_dr of one
variant on the same seed, so round r pairs across runs. Per scenario and variant:
  vs_best  = mean_r (AUC_variant(r) - AUC_b(r)), b the best of pooled, pref_only, gold_only,
             mean_shift by mean AUC; se = sd_r / sqrt(R)
  vs_argmin = mean_r (AUC_variant(r) - AUC_argmin(r)) with its se
  gap%     = 100 (AUC_variant - AUC_b) / (AUC_all_gold - AUC_b), and capped at 100 in the mean
Marks on vs_best: `++` > 2 se, `ok` >= -se, `LOSS` otherwise.
"""
import os, sys

from method_table import BASELINES, mean, paired, rounds  # the same pairing as the suite's tables

SCENARIOS = ["default", "nonlinear_bias", "orthogonal_bias", "aligned_bias", "noisy_pref", "distorted_scale",
             "weak_psi", "gold_1pct", "gold_10pct", "raw384"]


def main():
    args = sys.argv[1:]
    router, argmin_dir = "meta_dr", None
    while args and args[0].startswith("--"):
        flag, value, args = args[0], args[1], args[2:]
        if flag == "--router":
            router = value
        elif flag == "--argmin":
            argmin_dir = value
        else:
            sys.exit(f"unknown flag {flag}")
    root, variants = args[0], args[1:]
    cols = ["argmin"] + variants
    print("| scenario | R | best baseline | " + " | ".join(
        f"{v}: AUC, vs_best (se), gap%" for v in cols) + " | " + " | ".join(f"{v} - argmin (se)" for v in variants) + " |")
    print("| --- | ---: | --- | " + " | ".join("---" for _ in cols) + " | " + " | ".join("---:" for _ in variants) + " |")
    gaps = {v: [] for v in cols}
    marks = {v: {"++": 0, "ok": 0, "LOSS": 0} for v in cols}
    for s in SCENARIOS:
        bpath = f"{root}/baselines/{s}/rounds.csv"
        if not os.path.exists(bpath) or not all(os.path.exists(f"{root}/{v}/{s}/rounds.csv") for v in variants):
            continue
        base = rounds(bpath)
        if argmin_dir is None:
            runs = {"argmin": base[router]}
        elif os.path.exists(f"{root}/{argmin_dir}/{s}/rounds.csv"):
            runs = {"argmin": rounds(f"{root}/{argmin_dir}/{s}/rounds.csv")[router]}
        else:
            continue
        for v in variants:
            runs[v] = rounds(f"{root}/{v}/{s}/rounds.csv")[router]
        rs = sorted(set.intersection(*(set(r) for r in runs.values())))
        best = max(BASELINES, key=lambda b: mean(base[b], rs))
        ab, ag = mean(base[best], rs), mean(base["all_gold"], rs)
        cells = []
        for v in cols:
            m, se = paired(runs[v], base[best], rs)
            gap = 100 * (mean(runs[v], rs) - ab) / (ag - ab)
            gaps[v].append(gap)
            mark = "++" if m > 2 * se else ("ok" if m >= -se else "LOSS")
            marks[v][mark] += 1
            cells.append(f"{mean(runs[v], rs):.4f}, {m:+.5f} ({se:.5f}), {gap:.0f} {mark}")
        diffs = []
        for v in variants:
            m, se = paired(runs[v], runs["argmin"], rs)
            diffs.append(f"{m:+.5f} ({se:.5f})")
        print(f"| {s} | {len(rs)} | {best} {ab:.4f}, all_gold {ag:.4f} | " + " | ".join(cells) + " | " + " | ".join(diffs) + " |")
    print()
    for v in cols:
        g = gaps[v]
        if not g:
            continue
        capped = [min(x, 100.0) for x in g]
        print(f"* `{v}`: mean gap closed {sum(g) / len(g):.1f}% over {len(g)} scenarios "
              f"({sum(capped) / len(capped):.1f}% with gaps above 100% capped at 100); "
              f"++ {marks[v]['++']}, ok {marks[v]['ok']}, LOSS {marks[v]['LOSS']}")


if __name__ == "__main__":
    main()
