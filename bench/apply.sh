#!/usr/bin/env bash
# Benchmarks `portctl apply` against `nft -f` of the same ruleset, inside a network namespace
# made for the purpose (never the host's firewall). Needs root, hyperfine and a release build.
#   bench/apply.sh            full run
#   RUNS=5 bench/apply.sh     fewer runs
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
if [[ $(id -u) -ne 0 ]]; then echo "bench/apply.sh: needs root (it makes its own network namespace)" >&2; exit 77; fi
if [[ -z "${PORTCTL_BENCH_IN_NS:-}" ]]; then
  command -v hyperfine >/dev/null || { echo "bench/apply.sh: install hyperfine (apt install hyperfine)" >&2; exit 69; }
  # Statically linked, as a deployed portctl should be: start-up is half of a dynamic build's.
  swift build -c release --product portctl --static-swift-stdlib --scratch-path .build-static 2>&1 | grep -E "error" && exit 1
  exec env PORTCTL_BENCH_IN_NS=1 unshare --net -- "$0" "$@"
fi

portctl=$PWD/.build-static/release/portctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state=$work/state
median() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 2))" "$1"; }
ratio() { python3 -c "import sys; print(round(float(sys.argv[1])/float(sys.argv[2]), 2))" "$1" "$2"; }
run() { # name, prepare, command
  if ! hyperfine -N --style none --runs "$RUNS" --warmup 2 --prepare "$2" --export-json "$work/$1.json" "$3" >"$work/$1.log" 2>&1; then
    echo "bench/apply.sh: '$3' failed:" >&2; tail -5 "$work/$1.log" >&2; exit 1
  fi
  median "$work/$1.json"
}

echo "== DSS plan (every option, admins and broadcasters declared), ms, median of $RUNS"
plan="dss --port80 --admin-from 192.0.2.0/24 --broadcaster 198.51.100.7 -q"
args="$plan --state-dir $state --wait 0"
$portctl plan $plan --format nft > "$work/dss.nft"
drop="sh -c 'nft delete table inet portctl 2>/dev/null; true'"
nft_ms=$(run nft "$drop" "nft -f $work/dss.nft")
apply_ms=$(run apply "$drop" "$portctl apply $args")
fast_ms=$(run fast "$drop" "$portctl apply $args --no-check")
$portctl apply $args >/dev/null 2>&1
noop_ms=$(run noop "true" "$portctl apply $args")
echo "nft -f (replace idiom)          $nft_ms"
echo "portctl apply (real change)     $apply_ms   ratio to nft -f: $(ratio "$apply_ms" "$nft_ms")x  (target <= 1.5x; includes the dry-run check)"
echo "portctl apply --no-check         $fast_ms   ratio to nft -f: $(ratio "$fast_ms" "$nft_ms")x"
check_ms=$(run check "true" "nft -c -f $work/dss.nft")
echo "nft -c -f (dry run alone)       $check_ms   (the kernel's fixed cost of a check)"
echo "portctl apply (no change)       $noop_ms   real/no-op: $(ratio "$apply_ms" "$noop_ms")x  (target >= 3x)"

echo
echo "== Scale: N ports plus a 10,000-CIDR allow-list, one transaction, ms"
mkdir -p "$work/profiles"
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
for n in (100, 1000, 10000):
    with open(f"{work}/profiles/scale{n}.yaml", "w") as f:
        f.write(f"name: scale{n}\ntitle: Scale {n}\nsource: bench\nopenings:\n")
        f.write("  - id: world\n    purpose: many ports\n    ports: [" + ", ".join(f"{1024 + 3*i}/tcp" for i in range(n // 2)) + "]\n")
        f.write("  - id: admin\n    purpose: admin ports\n    from: admins\n    ports: [" + ", ".join(f"{1024 + 3*i}/udp" for i in range(n - n // 2)) + "]\n")
# Addresses exist only inside this namespace's ruleset; no traffic is sent to them.
with open(f"{work}/allow-list", "w") as f:
    f.write("\n".join(f"10.{(i >> 8) & 255}.{i & 255}.0/24" for i in range(10000)) + "\n")
PY
admins="--admin-from @$work/allow-list"
printf "%-8s %-12s %-12s %s\n" N "apply ms" "nft -f ms" "ratio"
for n in 100 1000 10000; do
  splan="scale$n --profile-dir $work/profiles $admins -q"
  sargs="$splan --state-dir $state-$n --wait 0"
  $portctl plan $splan --format nft > "$work/scale$n.nft"
  s_apply=$(RUNS=$(( RUNS > 10 ? 10 : RUNS )) run "scale$n" "$drop" "$portctl apply $sargs")
  s_nft=$(RUNS=$(( RUNS > 10 ? 10 : RUNS )) run "scalenft$n" "$drop" "nft -f $work/scale$n.nft")
  printf "%-8s %-12s %-12s %sx\n" "$n" "$s_apply" "$s_nft" "$(ratio "$s_apply" "$s_nft")"
done
echo
echo "firewalld: not measured here (no firewalld daemon in the namespace); see bench/README.md."
