#!/bin/bash
# The CPU a hello-world answer costs node:http's server against a minimal head
# parser on net (bench/experiments/front-engine-cost.mjs): the most a lean
# front engine could save per request. Needs wrk. Prints one line per run.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$(dirname "$0")"
for round in 1 2 3 4 5; do
  for kind in http lean; do
    node front-engine-cost.mjs $kind > "$tmp/port.$kind" & pid=$!
    sleep 0.5; port=$(cat "$tmp/port.$kind")
    wrk -t1 -c32 -d2s http://127.0.0.1:$port/ >/dev/null
    t0=$(awk '{print $14+$15}' /proc/$pid/stat)
    out=$(wrk -t1 -c32 -d5s http://127.0.0.1:$port/)
    t1=$(awk '{print $14+$15}' /proc/$pid/stat)
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    echo "round $round $kind rps=$rps cpu_us_per_req=$(echo "($t1-$t0)*10000/$reqs" | bc -l | cut -c1-6)"
    kill $pid; wait $pid 2>/dev/null
  done
done
