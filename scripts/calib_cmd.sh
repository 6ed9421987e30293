#!/bin/bash
# Prints the queue line of one calibration-slope screen shard (scripts/run_queue.sh runs them):
# usage: scripts/calib_cmd.sh SELECT SCENARIO SHARD [ROUTER] [BIN]
#   50-round study at seed 42 split in 5 shards (shard I = rounds r with r mod 5 = I - 1), one
#   router (meta_dr unless ROUTER) under --final-select SELECT, the default pipeline otherwise.
#   Output: out/calib/SELECT/ROUTER/SCENARIO/shardI/shard.json and trace.txt (stderr: the trace
#   build's CALIB_TRACE lines, one per final-stage fit); an existing shard.json is not rerun.
F=$1; S=$2; I=$3; R=${4:-meta_dr}; B=${5:-/work/wt/method/bin-calib-trace}
D=/work/wt/method/out/calib/$F/$R/$S/shard$I
echo "[ -f $D/shard.json ] || { mkdir -p $D && RAYON_NUM_THREADS=1 $B study --scenario $S --rounds 50 --shard $I/5 --seed 42 --quiet --routers $R --final-select $F --out $D 2> $D/trace.txt; }"
