#!/bin/bash
# Several hosts behind nginx on one machine (root only): three Linux network
# namespaces stand in for three hosts, each with a veth pair and one
# `passenger run`; nginx runs in the root namespace with the configuration
# `passenger nginx-config --upstream` prints. Then it shows round robin,
# a graceful stop of one host (nothing fails: nginx skips it) and cleans up.
# Everything it makes (namespaces, links, processes, files) is removed on
# every exit path, Ctrl-C included. spec/e2e/multi-host.spec.ts does the same
# under load, with failure counts.
#
#   sudo deploy/multi-host-demo.sh [APP_DIR] [SECONDS_TO_KEEP_RUNNING]
#
# Private test addresses 10.213.250-252.0/24, only on the links it creates.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
app=${1:-$here/examples/hello-node}
keep=${2:-0}
passenger=(node "$here/bin/passenger.js")
# In a source checkout (with its dev dependencies), run the TypeScript itself: dist/ may be older.
[ -f "$here/core/cli/main.ts" ] && [ -d "$here/node_modules/tsx" ] && passenger=(node --import "file://$here/node_modules/tsx/dist/loader.mjs" "$here/core/cli/main.ts")
tag="psgdemo$$"
work=$(mktemp -d)
pids=()
hosts=()

cleanup() {
  set +e
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  # SIGINT, like Ctrl-C: a graceful stop without the drain pause.
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null; done
  for _ in $(seq 1 100); do
    running=0; for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running=1; done
    [ "$running" = 0 ] && break; sleep 0.1
  done
  for ns in "${hosts[@]}"; do
    # Whatever still runs in the namespace, by PID.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  for i in 0 1 2; do ip link del "${tag:0:10}r$i" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

upstreams=()
for i in 0 1 2; do
  ns="$tag-$i"; outer="${tag:0:10}r$i"; inner="${tag:0:10}n$i"; net="10.213.$((250 + i))"
  ip netns add "$ns"; hosts+=("$ns")
  ip link add "$outer" type veth peer name "$inner"
  ip link set "$inner" netns "$ns"
  ip addr add "$net.1/24" dev "$outer"; ip link set "$outer" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$net.2/24" dev "$inner"; ip -n "$ns" link set "$inner" up
  # One server per "host", trusting nginx's address on that link for X-Forwarded-For.
  ip netns exec "$ns" "${passenger[@]}" run "$app" --address "$net.2" --port 3000 \
    --trusted-proxies "$net.1" --drain-delay 2 --instance-registry-dir "$work" >"$work/host$i.log" 2>&1 &
  pids+=($!)
  upstreams+=(--upstream "$net.2:3000")
done

echo "waiting for the three hosts..."
for i in 0 1 2; do
  for _ in $(seq 1 120); do grep -q 'serving ' "$work/host$i.log" && break; sleep 0.5; done
  grep -q 'serving ' "$work/host$i.log" || { echo "host$i did not start:"; cat "$work/host$i.log"; exit 1; }
done

"${passenger[@]}" nginx-config "${upstreams[@]}" --listen 127.0.0.1:8080 >"$work/passenger.conf"
echo "--- the load balancer's configuration (passenger nginx-config --upstream ...):"
cat "$work/passenger.conf"
cp /etc/nginx/scgi_params "$work/"
cat >"$work/nginx.conf" <<CONF
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $work/client_body_temp;
    proxy_temp_path $work/proxy_temp;
    fastcgi_temp_path $work/fastcgi_temp;
    uwsgi_temp_path $work/uwsgi_temp;
    scgi_temp_path $work/scgi_temp;
    include passenger.conf;
}
CONF
nginx -p "$work" -c "$work/nginx.conf"
sleep 0.5

echo "--- six requests through nginx (round robin over the hosts):"
for _ in 1 2 3 4 5 6; do curl -s http://127.0.0.1:8080/; done

echo "--- graceful stop of host 0 (SIGTERM: /readyz 503, drain_delay 2 s, in-flight requests finish):"
kill -TERM "${pids[0]}"
for _ in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:8080/; done; echo
wait "${pids[0]}" || true
echo "host 0 exited; nginx sends everything to hosts 1 and 2:"
for _ in 1 2 3 4; do curl -s http://127.0.0.1:8080/; done

if [ "$keep" -gt 0 ]; then echo "--- keeping it running for $keep s: http://127.0.0.1:8080/"; sleep "$keep"; fi
