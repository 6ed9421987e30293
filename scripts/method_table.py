#!/usr/bin/env python3
"""Scenario x router tables of the method suite (scripts/method_suite.sh), paired per round.

usage: scripts/method_table.py [--rounds N] OUTROOT [VARIANT ...]
(--rounds N: use only rounds 0..N-1, e.g. to show 20-round baselines on the variants' 10 rounds)

OUTROOT/baselines/SCENARIO/rounds.csv holds every router (the baselines, all_gold and the default
meta routers); OUTROOT/VARIANT/SCENARIO/rounds.csv the meta routers of one variant. Rounds pair
across runs (round r has the same splits in every run with the same seed), so for a variant run
with R rounds every comparison uses rounds 0..R-1 of both runs:

  best baseline b = argmax of the mean AUC over {pooled, pref_only, gold_only, mean_shift}
                    (on the paired rounds; first in that order on ties)
  vs_best         = mean_r (AUC_k(r) - AUC_b(r)),  se = sd_r / sqrt(R)
  gap%            = 100 (mean AUC_k - mean AUC_b) / (mean AUC_all_gold - mean AUC_b)
  vs_default      = mean_r (AUC_k(r) - AUC_default_k(r)) for the same router k, with its se
Printed as markdown; `ok` marks vs_best >= -se, `++` vs_best > 2 se.
"""
import csv, math, os, sys

BASELINES = ["pooled", "pref_only", "gold_only", "mean_shift"]
SCENARIOS = ["default", "nonlinear_bias", "orthogonal_bias", "aligned_bias", "noisy_pref", "distorted_scale",
             "weak_psi", "gold_1pct", "gold_10pct", "selected_gold", "raw384"]


def rounds(path):
    """{router: {round: auc}}"""
    out = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            out.setdefault(row["router"], {})[int(row["round"])] = float(row["auc"])
    return out


def paired(a, b, rs):
    d = [a[r] - b[r] for r in rs if math.isfinite(a[r]) and math.isfinite(b[r])]
    n = len(d)
    m = sum(d) / n
    se = math.sqrt(sum((v - m) ** 2 for v in d) / (n - 1) / n) if n > 1 else float("nan")
    return m, se


def mean(a, rs):
    return sum(a[r] for r in rs) / len(rs)


def table(root, variant, max_rounds=None):
    print(f"\n### {variant}" + ("" if max_rounds is None else f" (rounds 0..{max_rounds - 1})") + "\n")
    print("| scenario | R | best baseline | router | AUC | vs_best (se) | gap% | vs_default (se) | |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    gaps = {}
    for s in SCENARIOS:
        bp = os.path.join(root, "baselines", s, "rounds.csv")
        vp = os.path.join(root, variant, s, "rounds.csv")
        if not (os.path.exists(bp) and os.path.exists(vp)):
            continue
        base, var = rounds(bp), rounds(vp)
        rs = sorted(set(next(iter(var.values())).keys()) & set(base["all_gold"].keys()))
        if max_rounds is not None:
            rs = [r for r in rs if r < max_rounds]
        b = max(BASELINES, key=lambda k: (mean(base[k], rs), -BASELINES.index(k)))
        ab, ag = mean(base[b], rs), mean(base["all_gold"], rs)
        for k in ("meta_r", "meta_dr"):
            if k not in var:
                continue
            auc = mean(var[k], rs)
            d, se = paired(var[k], base[b], rs)
            gap = 100 * (auc - ab) / (ag - ab) if ag > ab else float("nan")
            gaps.setdefault(k, []).append(gap)
            dd, dse = paired(var[k], base[k], rs) if variant != "baselines" else (0.0, 0.0)
            mark = ("++" if d > 2 * se else "ok") if d >= -se else "LOSS"
            vs_def = "" if variant == "baselines" else f"{dd:+.5f} ({dse:.5f})"
            print(f"| {s} | {len(rs)} | {b} {ab:.4f}, all_gold {ag:.4f} | {k} | {auc:.4f} | {d:+.5f} ({se:.5f}) | {gap:.0f} | {vs_def} | {mark} |")
    for k, g in gaps.items():
        print(f"\n{variant} {k}: mean gap closed {sum(g) / len(g):.0f}% over {len(g)} scenarios")


def main():
    args = sys.argv[1:]
    max_rounds = None
    if args[0] == "--rounds":
        max_rounds, args = int(args[1]), args[2:]
    root = args[0]
    variants = args[1:] or ["baselines"] + sorted(
        d for d in os.listdir(root) if d != "baselines" and os.path.isdir(os.path.join(root, d)) and not d.startswith("check"))
    for v in variants:
        table(root, v, max_rounds)


if __name__ == "__main__":
    main()
