#!/usr/bin/env python3
"""meta_r under two alignments, paired per round (the meta_r part of the alignment screen).

usage: scripts/align_meta_r.py ROOT_R ROOT ALIGN SCENARIO...
ROOT_R/{std,ALIGN}/S: meta_r runs; ROOT/std/S the std baselines, ROOT/ALIGN/S that alignment's
pooled and mean_shift (scripts/align_table.py's layout). Prints meta_r_A - meta_r_std and each
meta_r against its own world's best baseline, on the rounds all runs share."""
import os, sys
sys.path.insert(0, os.path.dirname(__file__))
from align_table import load, paired, mean, best, fmt

root_r, root, a = sys.argv[1:4]
print(f"| scenario | R | meta_r std AUC | meta_r {a} AUC | {a} - std (se) | std vs own best (se) | {a} vs own best (se) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for s in sys.argv[4:]:
    rs_, ra_ = load(os.path.join(root_r, "std", s)), load(os.path.join(root_r, a, s))
    std, va = load(os.path.join(root, "std", s)), load(os.path.join(root, a, s))
    if not (rs_ and ra_ and std and va):
        continue
    rs = sorted(set(rs_["meta_r"]) & set(ra_["meta_r"]) & set(std["all_gold"]) & set(va["pooled"]))
    world = dict(std, pooled=va["pooled"], mean_shift=va["mean_shift"])
    bs, ba = best(std, rs), best(world, rs)
    print(f"| {s} | {len(rs)} | {mean(rs_['meta_r'], rs):.5f} | {mean(ra_['meta_r'], rs):.5f} "
          f"| {fmt(*paired(ra_['meta_r'], rs_['meta_r'], rs))} | {fmt(*paired(rs_['meta_r'], std[bs], rs))} "
          f"| {fmt(*paired(ra_['meta_r'], world[ba], rs))} |")
