#!/usr/bin/env bash
# Benchmarks `portctl probe` against nmap on the full DSS plan served by streamd (issue 6), on
# loopback and through the applied firewall between two namespaces made for the purpose.
# Needs root, nmap and hyperfine. Reports the whole-process time ratio and how many ports each
# tool left ambiguous (nmap's open|filtered; portctl's non-ok verdicts).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
if [[ $(id -u) -ne 0 ]]; then echo "bench/probe.sh: needs root (namespaces)" >&2; exit 77; fi
for tool in nmap hyperfine; do command -v $tool >/dev/null || { echo "bench/probe.sh: install $tool (apt install $tool)" >&2; exit 69; }; done
swift build -c release --static-swift-stdlib --scratch-path .build-static 2>&1 | grep -E "error:" && exit 1
portctl=$PWD/.build-static/release/portctl
streamd=$PWD/.build-static/release/streamd
work=$(mktemp -d)
tag=$$
server=pbench-srv-$tag
client=pbench-cli-$tag
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
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
echo bench-key > "$work/key"
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
  ip netns exec "$ns" hyperfine -N --style none --runs "$RUNS" -i --export-json "$work/$label.json" "$ours" "$st" "$sv" >/dev/null 2>&1
  local times; times=$(python3 -c "import json;r=json.load(open('$work/$label.json'))['results'];print(' '.join(str(round(x['median']*1000)) for x in r))")
  read -r t_ours t_st t_sv <<<"$times"
  local bad; bad=$(ip netns exec "$ns" $ours 2>/dev/null | python3 -c "import json,sys;print(sum(1 for r in json.load(sys.stdin)['results'] if r['verdict']!='ok'))")
  local amb_st; amb_st=$(ip netns exec "$ns" $st 2>/dev/null | grep -c "open|filtered" || true)
  echo "$label: portctl probe ${t_ours} ms (${bad} not ok) | nmap -sT -sU ${t_st} ms (${amb_st} open|filtered) | nmap -sV ${t_sv} ms"
  echo "$label: nmap -sT -sU / portctl = $(python3 -c "print(round($t_st/$t_ours,1))")x, nmap -sV / portctl = $(python3 -c "print(round($t_sv/$t_ours,1))")x (target >= 10x)"
}
echo
measure loopback "$server" 127.0.0.1
ip netns exec "$server" env PORTCTL_CONFLICT_ROOT="$work/empty" "$portctl" apply $args -q --state-dir "$work/state" >/dev/null
measure through-firewall "$client" 192.0.2.1
