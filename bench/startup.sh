#!/usr/bin/env bash
# Start-up and size (issue 13): `portctl --version` and `portctl plan dss` against `nft --version`,
# and the size of the stripped release binaries. Needs hyperfine; builds with scripts/build-release
# (stripped binaries, debug symbols in .debug files beside them). Touches no firewall.
#   bench/startup.sh            full run
#   RUNS=50 bench/startup.sh     fewer runs
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-300}
command -v hyperfine >/dev/null || { echo "bench/startup.sh: install hyperfine (apt install hyperfine)" >&2; exit 69; }
scripts/build-release || { echo "bench/startup.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
bin=$PWD/.build-release/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mean() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['mean']*1000, 2))" "$1"; }
run() { hyperfine -N --style none --runs "$RUNS" --warmup 20 --export-json "$work/$1.json" "$2" >/dev/null 2>&1; mean "$work/$1.json"; }
nft_ms=$(run nft "nft --version")
version_ms=$(run version "$bin/portctl --version")
plan_ms=$(run plan "$bin/portctl plan dss")
echo "== Start-up, ms, mean of $RUNS"
echo "nft --version              $nft_ms"
echo "portctl --version          $version_ms   (target <= 3 ms)   ratio to nft: $(python3 -c "print(round($version_ms/$nft_ms, 2))")x"
echo "portctl plan dss           $plan_ms   (target <= 5 ms)"
echo
echo "== Size of the stripped release binaries, MB (debug symbols kept in .debug files)"
for product in portctl streamd; do
  size=$(stat -c %s "$bin/$product")
  debug=$(stat -c %s "$bin/$product.debug")
  target=$([[ $product == portctl ]] && echo 20 || echo 25)
  printf "%-8s %6.1f   (target <= %s MB)   debug symbols %6.1f MB\n" "$product" "$(python3 -c "print($size/1e6)")" "$target" "$(python3 -c "print($debug/1e6)")"
  if nm -D "$bin/$product" 2>/dev/null | grep icudt >/dev/null || strings -n 8 "$bin/$product" | grep "icudt[0-9]*_dat" >/dev/null; then
    echo "  $product still carries ICU's data table"
  fi
done
