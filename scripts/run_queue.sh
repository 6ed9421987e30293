#!/bin/bash
# Runs the commands of a queue file one at a time, in order (one study at a time on a shared
# machine). The file is re-read after every command, so lines may be appended while it runs;
# QUEUE.done counts the lines already run. Each command's time and load go to QUEUE.log.
# usage: scripts/run_queue.sh QUEUE   (stop: touch QUEUE.stop; it ends after the current line)
set -uo pipefail
Q=$1; touch "$Q.done"
while [ ! -e "$Q.stop" ]; do
  n=$(wc -l < "$Q.done")
  line=$(sed -n "$((n + 1))p" "$Q")
  if [ -z "$line" ]; then sleep 20; continue; fi
  start=$(date +%s)
  bash -c "$line" > /dev/null 2>> "$Q.err"; rc=$?
  echo "$(date -u +%H:%M:%S) rc=$rc $(( $(date +%s) - start ))s load $(cut -d' ' -f1-3 /proc/loadavg) :: $line" >> "$Q.log"
  echo "$line" >> "$Q.done"
done
