#!/bin/bash
# Prints the queue line of one alignment-comparison study shard (scripts/run_queue.sh runs them):
# usage: scripts/align_cmd.sh ALIGN SCENARIO SHARD [ROUTERS]
#   50-round study at seed 42 split in 5 shards (shard I = rounds r with r mod 5 = I - 1);
#   ALIGN std runs the baselines too (gold_only,pref_only,pooled,mean_shift,meta_dr,all_gold), the
#   other alignments only the routers that read c's effect (pooled,mean_shift,meta_dr).
#   Output: out/align/ALIGN/SCENARIO/shardI/shard.json (an existing one is not rerun).
A=$1; S=$2; I=$3
if [ "$A" = std ]; then R=${4:-gold_only,pref_only,pooled,mean_shift,meta_dr,all_gold}; else R=${4:-pooled,mean_shift,meta_dr}; fi
D=/work/wt/method/out/align/$A/$S/shard$I
echo "[ -f $D/shard.json ] || RAYON_NUM_THREADS=1 /work/wt/method/bin-main study --scenario $S --rounds 50 --shard $I/5 --seed 42 --quiet --routers $R --align $A --out $D"
