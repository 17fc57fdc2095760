#!/bin/bash
# A/B of the access log's cost on the request path, with wrk against a Node
# app in production (`bash bench/access-log-ab.sh [SECONDS] [ROUNDS]`):
# access log off, access log on (combined, to a file), as JSON, and request_id off,
# alternated so that the machine's drift spreads over all three.
#
# Two figures per run: requests/s (what wrk saw), and requests per CPU
# second of the core process (user + system time from /proc, over the wrk
# run). On a shared machine the first swings with whatever else runs; the
# second is the core's own cost per request and stays steady, so the ratio
# of the latter is the one to read. Printed: ratios to "off" of the sums.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-6}; rounds=${2:-3}
work=$(mktemp -d); chmod 711 "$work"
trap 'rm -rf "$work"' EXIT
declare -A args=(
  [off]="--access-log off"
  [on]="--access-log $work/access.log"
  [json]="--access-log $work/access-json.log --access-log-format json"
  [no_request_id]="--access-log off --no-request-id"
)
declare -A reqs=() cpu=() rps=()
tick=$(getconf CLK_TCK)
port=$((20000 + RANDOM % 20000))
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for round in $(seq "$rounds"); do
  for cfg in off on json no_request_id; do
    node --import tsx core/cli/main.ts run spec/fixtures/apps/node-basic --port "$port" --environment production --log-level warn \
      --instance-registry-dir "$work" ${args[$cfg]} >"$work/out.txt" 2>&1 &
    pid=$!
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
    core=$(pgrep -P "$pid" -f core-main)
    wrk -t1 -c8 -d2s "http://127.0.0.1:$port/" >/dev/null   # warm up
    before=$(cpu_of "$core")
    out=$(wrk -t1 -c8 -d"${secs}s" "http://127.0.0.1:$port/")
    after=$(cpu_of "$core")
    kill -TERM "$pid"; wait "$pid" || true
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    r=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    used=$(echo "($after - $before) / $tick" | bc -l)
    printf 'round %s %-14s %8.0f req/s  %8.0f req per core CPU second\n' "$round" "$cfg" "$r" "$(echo "$n / $used" | bc -l)"
    reqs[$cfg]=$(echo "${reqs[$cfg]:-0} + $n" | bc -l)
    cpu[$cfg]=$(echo "${cpu[$cfg]:-0} + $used" | bc -l)
    rps[$cfg]=$(echo "${rps[$cfg]:-0} + $r" | bc -l)
  done
done
for cfg in on json no_request_id; do
  printf '%s / off: req/s %.3f; req per core CPU second %.3f\n' "$cfg" \
    "$(echo "${rps[$cfg]} / ${rps[off]}" | bc -l)" \
    "$(echo "(${reqs[$cfg]} / ${cpu[$cfg]}) / (${reqs[off]} / ${cpu[off]})" | bc -l)"
done
