#!/usr/bin/env python3
"""Calibration-slope screen table (`--final-select calibrate`), paired per round.

usage: scripts/calib_table.py [--router meta_dr] [--every 5] BASE CALIB
  BASE/SCENARIO   the default pipeline's runs (every baseline and the default ROUTER), e.g.
                  out/align/std (meta_dr) or out/align_r/std (meta_r, with out/align/std's
                  baselines: give --baselines out/align/std)
  CALIB/SCENARIO  the same rounds with --final-select calibrate (scripts/calib_cmd.sh), with the
                  trace build's stderr in shard*/trace.txt: one `CALIB_TRACE b=LABEL kappa=...`
                  line per final-stage fit, in round order (RAYON_NUM_THREADS=1)
Per scenario (k = ROUTER under calibrate, k0 = the default ROUTER, best = argmax mean AUC over
pooled, pref_only, gold_only, mean_shift): mean_r (k - k0) and mean_r (k - best), se = sd_r /
sqrt(R); gap% = 100 (k - best) / (all_gold - best); kappa: the mean served slope
clamp(kappa, 0, 1) (0 when the argmin is the constant), the mean raw slope over rounds where the
argmin is not the constant, how many rounds were shrunk (a non-constant argmin with raw slope < 1), and k - k0 averaged
over the shrunk rounds and over the others (served slope 1 or the constant); "shrunk only" =
mean_r of k - k0 with the other rounds' differences set to 0: the committed rule serves the
argmin itself when kappa >= 1, so on those rounds it is the default bit for bit (the screen's
build served `1 * f + (a - fbar)`, equal to f up to rounding, which redraws the psi forest).
Marks on k - best: `++` > 2 se, `ok` >= -se, `LOSS` otherwise.
"""
import glob, importlib.util, os, re, sys

spec = importlib.util.spec_from_file_location("align_table", os.path.join(os.path.dirname(__file__), "align_table.py"))
at = importlib.util.module_from_spec(spec)
spec.loader.exec_module(at)


def kappas(d, shards=5):
    """{round: (argmin label, raw kappa or None)}: shard I of `shards` holds rounds I-1, I-1+shards, ..."""
    out = {}
    for p in sorted(glob.glob(os.path.join(d, "shard*", "trace.txt"))):
        first = int(re.search(r"shard(\d+)", p).group(1)) - 1
        lines = [m for m in (re.match(r"CALIB_TRACE b=(\S+) kappa=(None|Some\((.*)\))", x) for x in open(p)) if m]
        for j, m in enumerate(lines):
            out[first + shards * j] = (m.group(1), None if m.group(3) is None else float(m.group(3)))
    return out


def main():
    args = sys.argv[1:]
    router, every, bases = "meta_dr", 5, None
    while args and args[0].startswith("--"):
        if args[0] == "--router":
            router, args = args[1], args[2:]
        elif args[0] == "--every":
            every, args = int(args[1]), args[2:]
        elif args[0] == "--baselines":
            bases, args = args[1], args[2:]
    base, calib = args
    print(f"| scenario | R | {router} calibrate - default (se) | calibrate - best baseline (se) | default - best (se) "
          "| best baseline | gap% default -> calibrate | mean served kappa | mean raw kappa (non-constant argmin) "
          "| rounds shrunk | k - k0 on shrunk / other rounds | shrunk only (se) | |")
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for s in at.SCENARIOS:
        w0, w1 = at.load(os.path.join(base, s)), at.load(os.path.join(calib, s))
        if not w0 or not w1 or router not in w1:
            continue
        world = dict(at.load(os.path.join(bases, s)) or {}) if bases else dict(w0)
        world[router] = w0[router]
        rs = sorted(r for r in w1[router] if r % every == 0 and r in w0[router] and all(
            r in world[b] for b in at.BASELINES + ["all_gold"]))
        if len(rs) < 2:
            continue
        k, k0 = w1[router], world[router]
        b = at.best(world, rs)
        dk, dk_se = at.paired(k, k0, rs)
        db, db_se = at.paired(k, world[b], rs)
        d0, d0_se = at.paired(k0, world[b], rs)
        span = at.mean(world["all_gold"], rs) - at.mean(world[b], rs)
        kr_ = kappas(os.path.join(calib, s))
        kp = [v for r, v in sorted(kr_.items()) if r in rs]
        shr = [r for r in rs if r in kr_ and kr_[r][1] is not None and kr_[r][1] < 1]
        oth = [r for r in rs if r not in shr]
        only = {r: (k[r] - k0[r] if r in shr else 0.0) for r in rs}
        so, so_se = at.paired(only, {r: 0.0 for r in rs}, rs)
        split = " / ".join(f"{sum(k[r] - k0[r] for r in q) / len(q):+.5f}" if q else "-" for q in (shr, oth))
        served = [0.0 if v is None else min(max(v, 0.0), 1.0) for _, v in kp]
        raw = [v for _, v in kp if v is not None]
        mark = "++" if db > 2 * db_se else ("ok" if db >= -db_se else "LOSS")
        ks = f"{sum(served) / len(served):.2f}" if served else "-"
        kr = f"{sum(raw) / len(raw):.2f} ({len(raw)})" if raw else "-"
        print(f"| {s} | {len(rs)} | {at.fmt(dk, dk_se)} | {at.fmt(db, db_se)} | {at.fmt(d0, d0_se)} | {b} "
              f"| {100 * d0 / span:.0f} -> {100 * db / span:.0f} | {ks} | {kr} | {len(shr)}/{len(rs)} | {split} | {at.fmt(so, so_se)} | {mark} |")


if __name__ == "__main__":
    main()
