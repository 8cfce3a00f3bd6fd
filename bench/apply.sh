#!/usr/bin/env bash
# Benchmarks `portctl apply` against `nft -f` of the same ruleset, inside a network namespace
# made for the purpose (never the host's firewall). Needs root, hyperfine and python3; builds
# the release binaries with scripts/build-release.
#   bench/apply.sh            full run
#   RUNS=5 bench/apply.sh     fewer runs
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
if [[ $(id -u) -ne 0 ]]; then echo "bench/apply.sh: needs root (it makes its own network namespace)" >&2; exit 77; fi
if [[ -z "${PORTCTL_BENCH_IN_NS:-}" ]]; then
  for tool in hyperfine python3; do
    command -v $tool >/dev/null || { echo "bench/apply.sh: install $tool (apt install hyperfine python3)" >&2; exit 69; }
  done
  [[ -x /usr/bin/time ]] || { echo "bench/apply.sh: install GNU time for peak RSS (apt install time)" >&2; exit 69; }
  scripts/build-release portctl || { echo "bench/apply.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
  exec env PORTCTL_BENCH_IN_NS=1 unshare --net -- "$0" "$@"
fi

portctl=$PWD/.build-release/bin/portctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state=$work/state
median() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 2))" "$1"; }
ratio() { python3 -c "import sys; print(round(float(sys.argv[1])/float(sys.argv[2]), 2))" "$1" "$2"; }
run() { # name, runs, prepare, command
  if ! hyperfine -N --style none --runs "$2" --warmup 2 --prepare "$3" --export-json "$work/$1.json" "$4" >"$work/$1.log" 2>&1; then
    echo "bench/apply.sh: '$4' failed:" >&2; tail -5 "$work/$1.log" >&2; exit 1
  fi
  median "$work/$1.json"
}
drop="sh -c 'nft delete table inet portctl 2>/dev/null; true'"

echo "== DSS plan (every option, admins and broadcasters declared), ms, median of $RUNS"
plan="dss --port80 --admin-from 192.0.2.0/24 --broadcaster 198.51.100.7 -q"
args="$plan --state-dir $state --wait 0"
$portctl plan $plan --format nft > "$work/dss.nft"
nft_ms=$(run nft "$RUNS" "$drop" "nft -f $work/dss.nft")
apply_ms=$(run apply "$RUNS" "$drop" "$portctl apply $args")
$portctl apply $args >/dev/null 2>&1
noop_ms=$(run noop "$RUNS" "true" "$portctl apply $args")
# Another program's commit moves the kernel's generation: the no-op then reads portctl's table.
other_ms=$(run noop-other "$RUNS" "nft add table inet other" "$portctl apply $args")
echo "nft -f (replace idiom)            $nft_ms"
echo "portctl apply (real change)       $apply_ms   ratio to nft -f: $(ratio "$apply_ms" "$nft_ms")x  (target <= 1.2x)"
echo "portctl apply (no change)         $noop_ms   (target <= 4 ms)"
echo "  after another program's commit  $other_ms"

echo
echo "== Scale: ports plus an admin allow-list of networks, one transaction, ms"
mkdir -p "$work/profiles"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
for n in (100, 10000):
    with open(f"{work}/profiles/scale{n}.yaml", "w") as f:
        f.write(f"name: scale{n}\ntitle: Scale {n}\nsource: bench\nopenings:\n")
        f.write("  - id: world\n    purpose: many ports\n    ports: [" + ", ".join(f"{1024 + 3*i}/tcp" for i in range(n // 2)) + "]\n")
        f.write("  - id: admin\n    purpose: admin ports\n    from: admins\n    ports: [" + ", ".join(f"{1024 + 3*i}/udp" for i in range(n - n // 2)) + "]\n")
# Addresses exist only inside this namespace's ruleset; no traffic is sent to them.
for count in (10000, 100000):
    with open(f"{work}/allow-{count}", "w") as f:
        f.write("\n".join(f"{10 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.0/24" for i in range(count)) + "\n")
PY
printf "%-9s %-9s %-10s %-10s %-7s %-9s %s\n" ports networks "apply ms" "nft -f ms" ratio "peak RSS" "no-op ms"
scale_runs=$(( RUNS > 10 ? 10 : RUNS ))
for row in "100 10000" "10000 10000" "100 100000"; do
  read -r n count <<<"$row"
  runs=$scale_runs
  [[ $count -gt 10000 ]] && runs=$(( scale_runs > 3 ? 3 : scale_runs ))
  splan="scale$n --profile-dir $work/profiles --admin-from @$work/allow-$count -q"
  sargs="$splan --state-dir $state-$n-$count --wait 0"
  $portctl plan $splan --format nft > "$work/scale.nft"
  s_nft=$(run "nft-$n-$count" "$runs" "$drop" "nft -f $work/scale.nft")
  s_apply=$(run "apply-$n-$count" "$runs" "$drop" "$portctl apply $sargs")
  nft delete table inet portctl
  rss=$( { /usr/bin/time -f "%M" "$portctl" apply $sargs >/dev/null; } 2>&1 | tail -1)
  s_noop=$(run "noop-$n-$count" "$runs" "true" "$portctl apply $sargs")
  printf "%-9s %-9s %-10s %-10s %-7s %-9s %s\n" "$n" "$count" "$s_apply" "$s_nft" "$(ratio "$s_apply" "$s_nft")x" "$((rss / 1024)) MB" "$s_noop"
done
echo "(targets: ratio <= 1.5x at 100 + 10,000 and 10,000 + 10,000; peak RSS <= 100 MB at 10,000 + 10,000;"
echo " 100,000 networks in line with 10,000, that is about ten times the time)"
echo
echo "firewalld: not measured here (no firewalld daemon in the namespace); see bench/README.md."
