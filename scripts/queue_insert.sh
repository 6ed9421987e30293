#!/bin/bash
# Inserts a line into a scripts/run_queue.sh queue right after the line now running.
# usage: scripts/queue_insert.sh QUEUE 'command'
Q=$1; n=$(wc -l < "$Q.done"); sed -i "$((n + 1))a\\$2" "$Q"
