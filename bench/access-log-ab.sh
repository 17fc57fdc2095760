#!/bin/bash
# A/B of the access log's cost on the request path, with wrk against a Node
# app in production (`bash bench/access-log-ab.sh [SECONDS] [ROUNDS]`):
# access log off, access log on (combined, to a file), and request_id off,
# alternated so that the machine's drift spreads over all three. Prints
# requests/s per run and the ratios to "off" of the means and of the best
# runs (on a shared machine other work only ever slows a run down, so the
# best of several is the steadier figure).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-6}; rounds=${2:-2}
work=$(mktemp -d); chmod 711 "$work"
trap 'rm -rf "$work"' EXIT
declare -A args=(
  [off]="--access-log off"
  [on]="--access-log $work/access.log"
  [no_request_id]="--access-log off --no-request-id"
)
declare -A sum=() best=()
port=$((20000 + RANDOM % 20000))
for round in $(seq "$rounds"); do
  for cfg in off on no_request_id; do
    node --import tsx core/cli/main.ts run spec/fixtures/apps/node-basic --port "$port" --environment production --log-level warn \
      --instance-registry-dir "$work" ${args[$cfg]} >"$work/out.txt" 2>&1 &
    pid=$!
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
    wrk -t1 -c8 -d2s "http://127.0.0.1:$port/" >/dev/null   # warm up
    rps=$(wrk -t1 -c8 -d"${secs}s" "http://127.0.0.1:$port/" | awk '/Requests\/sec/ {print $2}')
    kill -TERM "$pid"; wait "$pid" || true
    echo "round $round $cfg: $rps req/s"
    sum[$cfg]=$(echo "${sum[$cfg]:-0} + $rps" | bc -l)
    if [ -z "${best[$cfg]:-}" ] || [ "$(echo "$rps > ${best[$cfg]}" | bc -l)" = 1 ]; then best[$cfg]=$rps; fi
  done
done
for cfg in on no_request_id; do
  printf '%s / off: means %.3f, best runs %.3f\n' "$cfg" "$(echo "${sum[$cfg]} / ${sum[off]}" | bc -l)" "$(echo "${best[$cfg]} / ${best[off]}" | bc -l)"
done
