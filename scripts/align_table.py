#!/usr/bin/env python3
"""Alignment comparison tables, paired per round (scripts/align_cmd.sh, scripts/run_queue.sh).

usage: scripts/align_table.py [--rounds N] [--every K] [--router meta_dr] ROOT [ALIGN ...]
(--every 5: only rounds r with r mod 5 = 0, i.e. shard 1 of 5, the screen's rounds)

ROOT/std/SCENARIO holds every router under the default `--align std` (gold_only, pref_only,
pooled, mean_shift, meta_dr, all_gold); ROOT/ALIGN/SCENARIO the routers that `--align ALIGN`
changes (pooled, mean_shift, meta_dr). A scenario directory holds a rounds.csv (a whole run) or
shard*/shard.json files (`study --shard I/N`; AUC = mean of the curve at usage 0.20..0.80, the
study's own figure to the last digit). Rounds pair across runs (same seed: same splits), so every
comparison uses the rounds both runs have (with --rounds N: only rounds < N).

Per scenario and alignment A (k = the router, meta_dr unless --router):
  vs_std      = mean_r (k_A(r) - k_std(r)), se = sd_r / sqrt(R); the same for pooled, mean_shift
  best_A      = argmax mean AUC over {pooled_A, pref_only, gold_only, mean_shift_A}: the best
                baseline of the world where A is the default (gold_only, pref_only, all_gold do
                not read c's effect on the ranking: they are taken from the std run)
  vs_best_A   = mean_r (k_A(r) - best_A(r)) with its se; gap% = 100 (k_A - best_A) / (all_gold - best_A)
  vs_best_std = the same against the best baseline of the std world
Marks: `++` vs_best_A > 2 se, `ok` vs_best_A >= -se, `LOSS` otherwise.
"""
import csv, glob, json, math, os, sys

BASELINES = ["pooled", "pref_only", "gold_only", "mean_shift"]
SCENARIOS = ["default", "nonlinear_bias", "orthogonal_bias", "aligned_bias", "noisy_pref", "distorted_scale",
             "weak_psi", "gold_1pct", "gold_10pct", "raw384", "selected_gold"]


def load(d):
    """{router: {round: auc}} from d/rounds.csv or d/shard*/shard.json (None if neither)."""
    out = {}
    if os.path.exists(os.path.join(d, "rounds.csv")):
        with open(os.path.join(d, "rounds.csv")) as f:
            for row in csv.DictReader(f):
                out.setdefault(row["router"], {})[int(row["round"])] = float(row["auc"])
    for p in sorted(glob.glob(os.path.join(d, "shard*", "shard.json"))):
        s = json.load(open(p))
        for rd in s["rounds"]:
            for name, rt in zip(s["routers"], rd["routers"]):
                c = [float(v) for v in rt["curve"].split()]
                out.setdefault(name, {})[int(rd["round"])] = sum(c[20:81]) / 61
    return out or None


def paired(a, b, rs):
    d = [a[r] - b[r] for r in rs]
    n = len(d)
    m = sum(d) / n
    se = math.sqrt(sum((v - m) ** 2 for v in d) / (n - 1) / n) if n > 1 else float("nan")
    return m, se


def mean(a, rs):
    return sum(a[r] for r in rs) / len(rs)


def best(world, rs):
    return max(BASELINES, key=lambda k: (mean(world[k], rs), -BASELINES.index(k)))


def fmt(m, se):
    return f"{m:+.5f} ({se:.5f})"


def main():
    args = sys.argv[1:]
    max_rounds, router, every = None, "meta_dr", 1
    while args and args[0].startswith("--"):
        if args[0] == "--rounds":
            max_rounds, args = int(args[1]), args[2:]
        elif args[0] == "--every":
            every, args = int(args[1]), args[2:]
        elif args[0] == "--router":
            router, args = args[1], args[2:]
    root = args[0]
    aligns = args[1:] or ["std", "none", "wasserstein", "amplitude"]
    print("| scenario | align | R | k AUC | k - k_std (se) | pooled - pooled_std (se) | mean_shift - mean_shift_std (se) "
          "| best baseline (own world) | vs_best own (se) | gap% | vs_best std (se) | |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |")
    summary, compact = {}, {}
    for s in SCENARIOS:
        std = load(os.path.join(root, "std", s))
        if std is None or router not in std:
            continue
        for a in aligns:
            v = std if a == "std" else load(os.path.join(root, a, s))
            if v is None or router not in v:
                continue
            rs = sorted(set(v[router]) & set(std[router]) & set(std["all_gold"]))
            rs = [r for r in rs if r % every == 0 and (max_rounds is None or r < max_rounds)]
            world = dict(std)
            for k in ("pooled", "mean_shift"):
                if k in v:
                    world[k] = v[k]
            b_own, b_std = best(world, rs), best(std, rs)
            ab, ag = mean(world[b_own], rs), mean(std["all_gold"], rs)
            auc = mean(v[router], rs)
            d_std = paired(v[router], std[router], rs)
            d_pool = paired(world["pooled"], std["pooled"], rs)
            d_ms = paired(world["mean_shift"], std["mean_shift"], rs)
            d_own = paired(v[router], world[b_own], rs)
            d_bstd = paired(v[router], std[b_std], rs)
            gap = 100 * (auc - ab) / (ag - ab) if ag > ab else None  # undefined when a baseline beats all_gold
            gaps = "n/a" if gap is None else f"{gap:.0f}"
            mark = ("++" if d_own[0] > 2 * d_own[1] else "ok") if d_own[0] >= -d_own[1] else "LOSS"
            z = d_std[0] / d_std[1] if d_std[1] > 0 else 0.0
            summary.setdefault(a, []).append((s, len(rs), d_std[0], z, gap, mark))
            compact.setdefault(s, {})[a] = (d_std, d_own, mark)
            print(f"| {s} | {a} | {len(rs)} | {auc:.5f} | {fmt(*d_std)} | {fmt(*d_pool)} | {fmt(*d_ms)} "
                  f"| {b_own} {ab:.4f}, all_gold {ag:.4f} | {fmt(*d_own)} | {gaps} | {fmt(*d_bstd)} | {mark} |")
    print("\n| scenario | " + " | ".join(f"{a}: {router} - std (se); vs own best (se)" for a in aligns) + " |")
    print("| --- |" + " --- |" * len(aligns))
    for s, row in compact.items():
        cells = [f"{fmt(*row[a][0])}; {fmt(*row[a][1])} {row[a][2]}" if a in row else "" for a in aligns]
        print(f"| {s} | " + " | ".join(cells) + " |")
    print()
    for a, rows in summary.items():
        n = len(rows)
        md = sum(r[2] for r in rows) / n
        up = sum(1 for r in rows if r[3] > 1)
        down = sum(1 for r in rows if r[3] < -1)
        gs = [r[4] for r in rows if r[4] is not None]
        g = sum(gs) / len(gs) if gs else float("nan")
        marks = {m: sum(1 for r in rows if r[5] == m) for m in ("++", "ok", "LOSS")}
        print(f"{a}: {n} scenarios, mean {router} - std {md:+.5f}; > +1 se on {up}, < -1 se on {down}; "
              f"mean gap closed {g:.0f}% (over {len(gs)} with a gap); ++ {marks['++']}, ok {marks['ok']}, LOSS {marks['LOSS']}")


if __name__ == "__main__":
    main()
