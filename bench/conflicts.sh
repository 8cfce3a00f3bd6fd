#!/usr/bin/env bash
# Benchmarks `portctl conflicts --port 80/tcp` against `ss -ltnp` and `lsof`, with one listener on
# port 80 and 500 extra processes holding sockets, all inside a network namespace made for the
# purpose. Needs root (the namespace), hyperfine, lsof and python3. Cleans up its own processes.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
EXTRA=${EXTRA:-500}
if [[ $(id -u) -ne 0 ]]; then echo "bench/conflicts.sh: needs root (it makes its own network namespace)" >&2; exit 77; fi
if [[ -z "${PORTCTL_BENCH_IN_NS:-}" ]]; then
  for tool in hyperfine lsof python3 ss; do
    command -v $tool >/dev/null || { echo "bench/conflicts.sh: install $tool (apt install hyperfine lsof python3 iproute2)" >&2; exit 69; }
  done
  scripts/build-release portctl || { echo "bench/conflicts.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
  exec env PORTCTL_BENCH_IN_NS=1 unshare --net -- "$0" "$@"
fi

portctl=$PWD/.build-release/bin/portctl
work=$(mktemp -d)
ip link set lo up
# 500 processes that each hold a socket: sleep(1) children inheriting one UDP socket each.
python3 - "$EXTRA" "$work/pids" <<'PY' &
import socket, subprocess, sys, time
n, pidfile = int(sys.argv[1]), sys.argv[2]
children = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.set_inheritable(True)
    children.append(subprocess.Popen(["sleep", "600"], pass_fds=[s.fileno()]))
    s.close()
# The port-80 holder is started last, so it has the highest pid: the worst case for a scan of
# /proc that stops once it has found the owner.
web = socket.socket(); web.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
web.bind(("0.0.0.0", 80)); web.listen(16); web.set_inheritable(True)
children.append(subprocess.Popen(["sleep", "600"], pass_fds=[web.fileno()]))
web.close()
open(pidfile, "w").write(" ".join(str(c.pid) for c in children))
time.sleep(600)
PY
holder=$!
cleanup() {
  [[ -f "$work/pids" ]] && kill $(cat "$work/pids") 2>/dev/null || true
  kill "$holder" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 200); do [[ -s "$work/pids" ]] && break; sleep 0.1; done
echo "$(( $(wc -w < "$work/pids") - 1 )) extra processes hold sockets; the last one started holds port 80"

median() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 2))" "$1"; }
run() {
  hyperfine -N --style none --runs "$RUNS" --warmup 3 -i --export-json "$work/$1.json" "$2" >/dev/null 2>&1
  median "$work/$1.json"
}
ours=$(run portctl "$portctl conflicts --port 80/tcp")
ss_ms=$(run ss "ss -ltnp 'sport = :80'")
lsof_ms=$(run lsof "lsof -nP -iTCP:80 -sTCP:LISTEN")
{ "$portctl" conflicts --port 80/tcp 2>/dev/null || true; } | sed -n 2p
ratio() { python3 -c "import sys; print(round(float(sys.argv[1])/float(sys.argv[2]), 2))" "$1" "$2"; }
echo "portctl conflicts --port 80/tcp   $ours ms"
echo "ss -ltnp 'sport = :80'            $ss_ms ms   portctl/ss = $(ratio "$ours" "$ss_ms")x (target <= 1)"
echo "lsof -nP -iTCP:80 -sTCP:LISTEN    $lsof_ms ms   lsof/portctl = $(ratio "$lsof_ms" "$ours")x (target >= 5)"
