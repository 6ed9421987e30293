#!/bin/bash
# Runs the scenario suite for one variant of the meta-routers and prints the scenario x router
# table with per-round paired differences against the best baseline (and, with BASE_VARIANT, against
# another variant's meta routers).
#
# usage: scripts/method_suite.sh BIN OUTROOT VARIANT [study flags...]
#   VARIANT "baselines" runs every router once per scenario (the baselines do not change between
#   variants); any other name runs `--routers meta_r,meta_dr` with the given flags.
#   Env: ROUNDS (20), SEED (42), SCENARIOS (all 11), ROUTERS (meta_r,meta_dr; for variants).
# Results go to OUTROOT/VARIANT/SCENARIO/{summary.json,rounds.csv} (a finished scenario is not
# rerun); OUTROOT/log.txt gets one line per study (seconds, load). The tables are printed by
# scripts/method_table.py OUTROOT (rounds pair across runs: round r has the same seed and splits
# in every run with the same --seed, whatever --rounds and --routers).
set -euo pipefail
BIN=$1; ROOT=$2; VAR=$3; shift 3
ROUNDS=${ROUNDS:-20}; SEED=${SEED:-42}; ROUTERS=${ROUTERS:-meta_r,meta_dr}
SCENARIOS=${SCENARIOS:-"default nonlinear_bias orthogonal_bias aligned_bias noisy_pref distorted_scale weak_psi gold_1pct gold_10pct selected_gold raw384"}
for s in $SCENARIOS; do
  d=$ROOT/$VAR/$s
  [ -f "$d/rounds.csv" ] && continue
  if [ "$VAR" = baselines ]; then routers=(); else routers=(--routers "$ROUTERS"); fi
  start=$(date +%s)
  "$BIN" study --scenario "$s" --rounds "$ROUNDS" --seed "$SEED" --quiet "${routers[@]}" "$@" --out "$d.tmp" > /dev/null
  rm -rf "$d"; mv "$d.tmp" "$d"
  echo "$VAR $s $(( $(date +%s) - start ))s load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$ROOT/log.txt"
done
