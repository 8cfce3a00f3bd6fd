#!/usr/bin/env bash
# Benchmarks streamd's test stream under load (issue 7): 50, 200 and 500 concurrent RTSP/UDP
# sessions (50 packets/s each) on loopback, inside a network namespace made for the purpose,
# measured by portctl's own media client (`portctl probe --media --clients N`). The peer is
# GStreamer's RTSP server serving the same PCMU stream (bench/gst-rtsp-peer.py), measured by the
# same client. For each side it prints packet loss, p99 jitter, the server's CPU (percent of
# one core) and its peak RSS, and the CPU ratio. Targets for streamd at 500 sessions: loss under
# 0.1%, at most one core, RSS at most 150 MB, p99 jitter under 5 ms.
#   sudo bench/media.sh                 50 200 500 sessions, 10 s each
#   SERIES="50 500" SECONDS_EACH=5 sudo bench/media.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${SERIES:-"50 200 500"}
SECONDS_EACH=${SECONDS_EACH:-10}
if [[ $(id -u) -ne 0 ]]; then echo "bench/media.sh: needs root (a network namespace, port 554)" >&2; exit 77; fi
scripts/build-release || { echo "bench/media.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
portctl=$PWD/.build-release/bin/portctl
streamd=$PWD/.build-release/bin/streamd
peer=""
if /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0")' 2>/dev/null; then
  peer=$PWD/bench/gst-rtsp-peer.py
else
  echo "bench/media.sh: no peer (apt install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good); streamd only" >&2
fi
work=$(mktemp -d)
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

# Everything below runs in a namespace of its own: loopback only, gone when the script ends.
cat > "$work/inside.sh" <<'INSIDE'
set -euo pipefail
ip link set lo up
pids=()
trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
# Without --world or --broadcaster: the broadcast range and its redirect table stay off, so the
# two servers share nothing but the machine.
"$streamd" dss --sessions-max 1000 --log-file "$work/streamd.log" &
pids+=($!); streamd_pid=$!
for _ in $(seq 1 50); do grep -q serving "$work/streamd.log" 2>/dev/null && break; sleep 0.2; done
sleep 1
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# One run: N sessions against PORTS; prints "loss p99 cpu% rssMB failed".
measure() {
  local pid=$1 n=$2 ports=$3; shift 3
  local before after start end peak=0 rss sampler
  kill -0 "$pid" 2>/dev/null || { echo "- - - - - -"; return; }
  before=$(ticks "$pid"); start=$(date +%s.%N)
  ( while kill -0 "$pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$pid/status"; sleep 0.5; done ) > "$work/rss" &
  sampler=$!
  "$portctl" probe 127.0.0.1 --ports "$ports" --media --media-transport udp --clients "$n" \
    --media-duration "${SECONDS_EACH}s" --timeout 5s --format json "$@" > "$work/out.json" || true
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  # A server that died during the run (GStreamer's has aborted under load here) has no figures.
  after=$(ticks "$pid" 2>/dev/null) || { echo "- - - - - -"; return; }
  end=$(date +%s.%N)
  peak=$(sort -n "$work/rss" | tail -1)
  python3 - "$work/out.json" "$before" "$after" "$start" "$end" "$hz" "$peak" <<'PY'
import json, sys
out, before, after, start, end, hz, peak = sys.argv[1:]
media = [r for r in json.load(open(out))["results"] if r["check"] == "media/udp"][0]["media"]
cpu = (int(after) - int(before)) / int(hz) / (float(end) - float(start)) * 100
print(f'{media["loss_percent"]} {media["jitter_p99_ms"]} {cpu:.1f} {int(peak) / 1024:.1f} {media["failed_clients"]} {media["packets"]}')
PY
}
printf '%-9s | %-44s | %-44s | %s\n' "" "streamd (rtsp://127.0.0.1:554/test)" "GStreamer RTSP server (:8554/test)" "CPU"
printf '%-9s | %8s %9s %8s %8s %7s | %8s %9s %8s %8s %7s | %s\n' sessions "loss %" "p99 ms" "cpu %" "RSS MB" failed "loss %" "p99 ms" "cpu %" "RSS MB" failed "ratio"
for n in $SERIES; do
  read -r sl sj sc sr sf _ < <(measure "$streamd_pid" "$n" "554/tcp,6970-6999/udp")
  if [[ -n "$peer" ]]; then
    # A fresh peer for each run, as streamd's sessions all end between runs.
    /usr/bin/python3 "$peer" 8554 > "$work/peer.log" 2>&1 &
    peer_pid=$!; pids+=($peer_pid)
    for _ in $(seq 1 50); do grep -q serving "$work/peer.log" 2>/dev/null && break; sleep 0.2; done
    read -r pl pj pc pr pf _ < <(measure "$peer_pid" "$n" "8554/tcp")
    kill "$peer_pid" 2>/dev/null || true; wait "$peer_pid" 2>/dev/null || true
    ratio=-
    if [[ "$pc" != "-" && "$sc" != "-" ]]; then ratio=$(python3 -c "print(f'{$sc / max($pc, 0.1):.2f}')"); fi
    if [[ "$pl" == "-" ]]; then echo "peer failed at $n sessions: $(tail -2 "$work/peer.log" | tr '\n' ' ')" >&2; fi
  else
    pl=- pj=- pc=- pr=- pf=- ratio=-
  fi
  printf '%-9s | %8s %9s %8s %8s %7s | %8s %9s %8s %8s %7s | %s\n' "$n" "$sl" "$sj" "$sc" "$sr" "$sf" "$pl" "$pj" "$pc" "$pr" "$pf" "$ratio"
  sleep 1
done
echo "CPU ratio: streamd's CPU over the peer's (below 1: streamd uses less). Client: portctl probe --media, same machine."
INSIDE
export portctl streamd peer work SECONDS_EACH SERIES
unshare --net -- bash "$work/inside.sh"
