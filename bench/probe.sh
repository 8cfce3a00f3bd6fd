#!/usr/bin/env bash
# Benchmarks `portctl probe` against nmap on the full DSS plan served by streamd (issue 6), on
# loopback and through the applied firewall between two namespaces made for the purpose.
# Needs root, nmap and hyperfine. Each tool runs RUNS times back to back (at least 10; issue 11
# item 13: repeated probes must stay fast, not only the first against a fresh conntrack table).
# Reports each tool's median and maximum whole-process time, their ratios, how many ports each
# tool left ambiguous (nmap's open|filtered; portctl's non-ok verdicts), and, over RUNS more
# back-to-back probes, how many UDP checks needed a resent knock (answered after a third of the
# timeout). nmap -sV (TCP only) runs only when SV_RUNS is set: since streamd streams the test
# stream to any GET on the ICY port (issue 7), nmap's GET probe there reads it for about 410 s a
# run. BIN=dir uses that directory's portctl and streamd instead of a static release build.
# Issue 16: twenty hosts in one probe (twenty namespaces, each with its streamd and ruleset)
# against one of them alone, through their firewalls; the target is at most 2x. FLEET_ONLY=1 runs
# only that. FLEET_DELAYS="0 10 25" (the default) repeats it with that many ms added each way to
# every packet between the client and the hosts (bench/delayline.c; needs iptables and
# libnetfilter-queue-dev; FLEET_DELAYS=0 needs neither).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
if (( RUNS < 10 )); then echo "bench/probe.sh: RUNS=$RUNS: give at least 10 back-to-back runs" >&2; exit 64; fi
if [[ $(id -u) -ne 0 ]]; then echo "bench/probe.sh: needs root (namespaces)" >&2; exit 77; fi
for tool in nmap hyperfine; do command -v $tool >/dev/null || { echo "bench/probe.sh: install $tool (apt install $tool)" >&2; exit 69; }; done
if [[ -n ${BIN:-} ]]; then
  portctl=$BIN/portctl streamd=$BIN/streamd
else
  scripts/build-release || { echo "bench/probe.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
  portctl=$PWD/.build-release/bin/portctl
  streamd=$PWD/.build-release/bin/streamd
fi
work=$(mktemp -d)
tag=$$
server=pbench-srv-$tag
client=pbench-cli-$tag
pids=()
fleet_ns=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for ns in "${fleet_ns[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  ip netns del "$server" 2>/dev/null || true
  ip netns del "$client" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$server"; ip netns add "$client"
ip link add "bs$tag" netns "$server" type veth peer name "bc$tag" netns "$client"
ip -n "$server" addr add 192.0.2.1/24 dev "bs$tag"; ip -n "$client" addr add 192.0.2.2/24 dev "bc$tag"
for ns in "$server" "$client"; do ip -n "$ns" link set lo up; done
ip -n "$server" link set "bs$tag" up; ip -n "$client" link set "bc$tag" up

args="dss --port80 --admin-from 192.0.2.2 --admin-from 127.0.0.1 --broadcaster 192.0.2.2 --broadcaster 127.0.0.1"
(umask 077; head -c 32 /dev/urandom > "$work/key")
ip netns exec "$server" "$streamd" $args --key "$work/key" --log-file "$work/streamd.log" &
pids+=($!)
sleep 1.5
# The same ports for every tool: the probe's sample, read back from its JSON.
ip netns exec "$server" "$portctl" probe 127.0.0.1 $args --key "$work/key" --format json > "$work/targets.json" || true
tcp=$(python3 -c "import json;print(','.join(str(r['port']) for r in json.load(open('$work/targets.json'))['results'] if r['transport']=='tcp'))")
udp=$(python3 -c "import json;print(','.join(str(r['port']) for r in json.load(open('$work/targets.json'))['results'] if r['transport']=='udp'))")
echo "ports: $(tr ',' '\n' <<<"$tcp" | wc -l) TCP, $(tr ',' '\n' <<<"$udp" | wc -l) UDP (30 media + a sample of 10000-65535)"

measure() { # label namespace target
  local label=$1 ns=$2 target=$3
  local ours="$portctl probe $target $args --key $work/key --timeout 1s --format json"
  local st="nmap -n -Pn -sT -sU -p T:$tcp,U:$udp --max-retries 1 $target"
  local sv="nmap -n -Pn -sV -p $tcp $target"
  # hyperfine runs all of one command's runs, then the next's: each tool's runs are back to back.
  ip netns exec "$ns" hyperfine -N --style none --runs "$RUNS" -i --export-json "$work/$label.json" "$ours" "$st" >/dev/null 2>&1
  local times; times=$(python3 -c "
import json, statistics
r = json.load(open('$work/$label.json'))['results']
print(' '.join(f\"{round(statistics.median(x['times']) * 1000)} {round(max(x['times']) * 1000)}\" for x in r))")
  read -r m_ours x_ours m_st x_st <<<"$times"
  local bad; bad=$(ip netns exec "$ns" $ours 2>/dev/null | python3 -c "import json,sys;print(sum(1 for r in json.load(sys.stdin)['results'] if r['verdict']!='ok'))")
  local amb_st; amb_st=$(ip netns exec "$ns" $st 2>/dev/null | grep -c "open|filtered" || true)
  # RUNS more probes back to back: UDP checks whose first knock went unanswered (a resend is due
  # after a third of the 1 s timeout), and the slowest UDP check of each run.
  local resent=0 slowest=()
  for ((run = 0; run < RUNS; run++)); do
    read -r r s < <(ip netns exec "$ns" $ours 2>/dev/null | python3 -c "
import json, sys
udp = [float(r['seconds']) for r in json.load(sys.stdin)['results'] if r['transport'] == 'udp']
print(sum(1 for t in udp if t >= 1 / 3), round(max(udp) * 1000))")
    resent=$((resent + r)); slowest+=("$s")
  done
  echo "$label: portctl probe median ${m_ours} ms, max ${x_ours} ms (${bad} not ok) | nmap -sT -sU median ${m_st} ms, max ${x_st} ms (${amb_st} open|filtered)"
  echo "$label: nmap -sT -sU / portctl = $(python3 -c "print(round($m_st/$m_ours,1))")x median, $(python3 -c "print(round($x_st/$x_ours,1))")x max (target >= 10x)"
  if [[ -n ${SV_RUNS:-} ]]; then
    ip netns exec "$ns" hyperfine -N --style none --runs "$SV_RUNS" -i --export-json "$work/$label-sv.json" "$sv" >/dev/null 2>&1
    local m_sv; m_sv=$(python3 -c "import json,statistics;print(round(statistics.median(json.load(open('$work/$label-sv.json'))['results'][0]['times'])*1000))")
    echo "$label: nmap -sV median ${m_sv} ms over $SV_RUNS runs; nmap -sV / portctl = $(python3 -c "print(round($m_sv/$m_ours,1))")x median"
  fi
  echo "$label: $RUNS more probes back to back: $resent UDP checks needed a resent knock; slowest UDP check per run (ms): ${slowest[*]}"
}
fleet() {
  # Twenty hosts, each a namespace of its own with its own streamd and applied ruleset, joined to
  # the client namespace by a veth pair each (10.200.N.1 <-> 10.200.N.2). Then, for each one-way
  # delay in FLEET_DELAYS (ms), the same pair of probes with every packet to and from the hosts
  # held that long in the client namespace: bench/delayline.c behind iptables NFQUEUE rules there
  # (this kernel has neither sch_netem nor sch_fq). 0 is the bare veth pairs.
  local fargs="dss --port80 --admin-from 10.200.0.0/16 --broadcaster 10.200.0.0/16" hosts=()
  for n in $(seq 1 20); do
    local ns=pbench-f$n-$tag
    ip netns add "$ns"; fleet_ns+=("$ns")
    ip link add "bf$n-$tag" netns "$ns" type veth peer name "bg$n-$tag" netns "$client"
    ip -n "$ns" addr add "10.200.$n.1/24" dev "bf$n-$tag"; ip -n "$client" addr add "10.200.$n.2/24" dev "bg$n-$tag"
    ip -n "$ns" link set lo up; ip -n "$ns" link set "bf$n-$tag" up; ip -n "$client" link set "bg$n-$tag" up
    ip netns exec "$ns" "$portctl" apply $fargs --conflict-root "$work/empty" -q --state-dir "$work/state-f$n" >/dev/null
    ip netns exec "$ns" "$streamd" $fargs --key "$work/key" --log-file "$work/streamd-f$n.log" &
    pids+=($!)
    hosts+=("10.200.$n.1")
  done
  sleep 2
  local one="$portctl probe 10.200.1.1 $fargs --key $work/key --timeout 1s --format json"
  local many="$portctl probe ${hosts[*]} $fargs --key $work/key --timeout 1s --format json"
  local checks bad
  read -r checks bad < <(ip netns exec "$client" $many 2>/dev/null | python3 -c "
import json, sys
d = json.load(sys.stdin)
r = [x for h in d['hosts'] for x in h['results']]
print(len(r), sum(1 for x in r if x['verdict'] != 'ok'))")
  echo "fleet: ${#hosts[@]} hosts, $checks checks, $bad not ok"
  local delays=${FLEET_DELAYS:-0 10 25} delayline=
  if [[ $delays != 0 ]]; then
    if command -v iptables >/dev/null && [[ -e /usr/include/libnetfilter_queue/libnetfilter_queue.h ]] &&
      cc -O2 -o "$work/delayline" bench/delayline.c -lnetfilter_queue; then
      # Two queues, flows spread between them by hash, a delay line each: one thread
      # re-injecting every packet of a twenty-host probe was itself a bottleneck.
      ip netns exec "$client" iptables -A OUTPUT -o "bg+" -j NFQUEUE --queue-balance 7:8 --queue-bypass
      ip netns exec "$client" iptables -A INPUT -i "bg+" -j NFQUEUE --queue-balance 7:8 --queue-bypass
      delayline=$work/delayline
    else
      echo "fleet: no delays (install iptables and libnetfilter-queue-dev for bench/delayline.c); bare veth pairs only"
      delays=0
    fi
  fi
  echo "| one-way delay | round trip | one host median | 20 hosts median | 20 hosts max | ratio (target <= 2x) | portctl CPU, 20 hosts | machine CPU, 20 hosts |"
  echo "|---|---|---|---|---|---|---|---|"
  for delay in $delays; do
    local dl=()
    if (( delay > 0 )); then
      for queue in 7 8; do
        ip netns exec "$client" "$delayline" "$queue" "$delay" >"$work/delayline-$queue.log" 2>&1 &
        dl+=($!); pids+=($!)
      done
      sleep 0.3
    fi
    ip netns exec "$client" hyperfine -N --style none --runs "$RUNS" -i --export-json "$work/fleet.json" "$one" "$many" >/dev/null 2>&1
    # The whole machine's busy CPU time (user, system, irq, softirq of both cores, from
    # /proc/stat) over RUNS more twenty-host probes: the probe, the twenty streamds, every
    # namespace's network stack and the delay line share the two cores.
    local before after
    before=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
    for _ in $(seq 1 "$RUNS"); do ip netns exec "$client" $many >/dev/null 2>&1 || true; done
    after=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
    if (( ${#dl[@]} > 0 )); then kill "${dl[@]}"; wait "${dl[@]}" 2>/dev/null || true; fi
    python3 -c "
import json, os, statistics
r = json.load(open('$work/fleet.json'))['results']
one, many = (statistics.median(x['times']) * 1000 for x in r)
cpu = (r[1]['user'] + r[1]['system']) * 1000
machine = ($after - $before) * 1000 / os.sysconf('SC_CLK_TCK') / $RUNS
print(f'| {$delay} ms | {2 * $delay} ms | {one:.0f} ms | {many:.0f} ms | {max(r[1][\"times\"]) * 1000:.0f} ms | **{many / one:.2f}x** | {cpu:.0f} ms | {machine:.0f} ms |')"
  done
}
echo
if [[ -z ${FLEET_ONLY:-} ]]; then measure loopback "$server" 127.0.0.1; fi
ip netns exec "$server" "$portctl" apply $args --conflict-root "$work/empty" -q --state-dir "$work/state" >/dev/null
if [[ -z ${FLEET_ONLY:-} ]]; then measure through-firewall "$client" 192.0.2.1; fi
fleet
