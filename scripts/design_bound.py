#!/usr/bin/env python3
"""The most any gold-selection design can gain over uniform selection, per simulated scenario.

For a local (nonparametric) estimate of Delta from AIPW pseudo-outcomes, the gold rows' part of
the variance at x is v(x) / e(x), v(x) = gold_noise^2 + (Delta(x) - mean Delta)^2 (the gold
residual `o - mu0 - b` with the true `mu0`). Minimising its integral at a fixed expected gold
count gives the Neyman design e(x) ~ sqrt(v(x)), whose variance is the uniform design's divided
by E[v] / E[sqrt(v)]^2. Uniform selection with 100 (ratio - 1) more gold rows per 100 matches it:
an upper bound on what an oracle design is worth; an estimated design is worth less. It does not
bound designs aimed at a parametric final stage (leverage), see STATISTICS.md.

    for s in default nonlinear_bias ...; do meta-router simulate --scenario $s --n 20000 --seed 7 -o /tmp/sim_$s.csv; done
    python3 scripts/design_bound.py /tmp/sim_*.csv

`gold_noise` is read from the scenario's name (0.30 for noisy_pref, 0.55 otherwise: src/sim).
"""
import csv
import math
import os
import sys

GOLD_NOISE = {"noisy_pref": 0.30}

for path in sys.argv[1:]:
    name = os.path.basename(path).removeprefix("sim_").removesuffix(".csv")
    delta = [float(row["delta"]) for row in csv.DictReader(open(path))]
    mean = sum(delta) / len(delta)
    sd = math.sqrt(sum((d - mean) ** 2 for d in delta) / len(delta))
    g = GOLD_NOISE.get(name, 0.55)
    s = [math.sqrt(g * g + (d - mean) ** 2) for d in delta]
    ratio = (sum(v * v for v in s) / len(s)) / (sum(s) / len(s)) ** 2
    print(f"| {name} | {sd:.3f} | {g:.2f} | {ratio:.4f} | {100 * (ratio - 1):.2f} |")
