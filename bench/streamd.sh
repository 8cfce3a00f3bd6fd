#!/usr/bin/env bash
# Benchmarks streamd (issue 5) inside a network namespace made for the purpose; traffic stays on
# its loopback. Needs root, cc (gcc), python3 and a release build.
#   knock throughput: one streamd event-loop thread pinned to one core, answering knocks from
#     2,000 loopback source addresses (the rate limit is per source);
#   idle connections: 10,000 TCP connections held open, then streamd's RSS, and whether a new
#     request is still answered.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-5}
IDLE=${IDLE:-10000}
if [[ $(id -u) -ne 0 ]]; then echo "bench/streamd.sh: needs root (it makes its own network namespace)" >&2; exit 77; fi
if [[ -z "${PORTCTL_BENCH_IN_NS:-}" ]]; then
  command -v cc >/dev/null || { echo "bench/streamd.sh: needs a C compiler (apt install gcc)" >&2; exit 69; }
  scripts/build-release streamd || { echo "bench/streamd.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
  exec env PORTCTL_BENCH_IN_NS=1 unshare --net -- "$0" "$@"
fi
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # nginx daemonises: stop it by its pid file, whatever step failed.
  [[ -f "$work/nginx/nginx.pid" ]] && kill "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip link set lo up
cc -O2 -o "$work/knockload" bench/knockload.c
cc -O2 -o "$work/reqload" bench/reqload.c
echo bench-key > "$work/key"
streamd=$PWD/.build-release/bin/streamd
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
echo "open files limit: $(ulimit -n)"

echo "== knock throughput, streamd pinned to one core"
taskset -c 0 "$streamd" rtsp --key "$work/key" --user nobody --log-file "$work/streamd.log" &
pids+=($!)
sleep 1
taskset -c 1 "$work/knockload" 554 "$SECONDS_RUN" 2000 | tee "$work/knock.txt"
rate=$(sed -E 's/.*rate=([0-9]+).*/\1/' "$work/knock.txt")
echo "knocks answered per second on one core: $rate (target >= 50000)"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

echo
echo "== $IDLE idle TCP connections"
"$streamd" rtsp --key "$work/key" --user root --idle-timeout 600 --max-connections 20000 --log-file "$work/streamd2.log" &
server=$!
pids+=($server)
sleep 1
rss_before=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
python3 - "$IDLE" <<'PY' &
import socket, sys, time
n = int(sys.argv[1])
held = []
for i in range(n):
    s = socket.socket()
    s.bind((f"127.2.{(i >> 8) & 255}.{i & 255}", 0))
    s.connect(("127.0.0.1", 554))
    held.append(s)
print(f"holding {len(held)} connections", flush=True)
time.sleep(30)
PY
holder=$!
pids+=($holder)
established=0
for _ in $(seq 1 120); do
  established=$(ss -Htn state established '( sport = :554 )' | wc -l)
  [[ $established -ge $IDLE ]] && break
  sleep 0.5
done
rss=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
answer=$(curl -s -i -X OPTIONS --max-time 5 rtsp://127.0.0.1:554/test | head -1 | tr -d '\r')
echo "established connections: $established"
echo "streamd RSS: $((rss_before / 1024)) MB before, $((rss / 1024)) MB holding them (target <= 150 MB)"
echo "a new OPTIONS while they are held: ${answer:-no answer}"

kill "$holder" "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true

echo
echo "== RTSP OPTIONS per second against streamd, and a small HTTP GET against nginx (same load tool)"
if command -v nginx >/dev/null; then
  "$streamd" rtsp --key "$work/key" --user nobody --log-file "$work/streamd3.log" &
  pids+=($!)
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  server { listen 127.0.0.1:8080; location / { return 200 "streamd test resource\n"; } }
}
NGINX
  nginx -c "$work/nginx/nginx.conf" -p "$work/nginx"
  sleep 1
  ours=$("$work/reqload" 554 "$SECONDS_RUN" 64 rtsp)
  theirs=$("$work/reqload" 8080 "$SECONDS_RUN" 64 http)
  echo "streamd RTSP OPTIONS: $ours"
  echo "nginx HTTP GET:       $theirs"
  a=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$ours"); b=$(sed -E 's/.*rate=([0-9]+).*/\1/' <<<"$theirs")
  echo "streamd/nginx: $(python3 -c "print(round($a/$b, 2))")x"
else
  echo "nginx is not installed (apt install nginx-light): skipped"
fi
