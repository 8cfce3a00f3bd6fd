#!/usr/bin/env bash
# Benchmarks `portctl profiles check` against PyYAML's safe_load on the same files (issue 11,
# item 6: any profile of at most 1 MB is checked in at most 1 s, and an alias bomb does not hang).
# Needs hyperfine, python3 with PyYAML, and builds a release portctl. No root, no network.
#   bench/profiles.sh           full run
#   RUNS=3 bench/profiles.sh    fewer runs
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
export PATH="/opt/swift/usr/bin:$PATH"
command -v hyperfine >/dev/null || { echo "bench/profiles.sh: install hyperfine (apt install hyperfine)" >&2; exit 69; }
python3 -c "import yaml" 2>/dev/null || { echo "bench/profiles.sh: needs PyYAML (apt install python3-yaml)" >&2; exit 69; }
scripts/build-release portctl || { echo "bench/profiles.sh: the release build failed (run scripts/build-release)" >&2; exit 1; }
portctl=$PWD/.build-release/bin/portctl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
# A valid profile just under 1 MB: many openings, as an honest large profile would have.
text = "name: mega\ntitle: Many openings\nsource: generated\nopenings:\n"
i = 0
while len(text) < 1_000_000:
    text += f"  - id: o{i}\n    purpose: opening {i}\n    ports: [{1000 + i % 60000}/tcp]\n"
    i += 1
open(f"{work}/mega.yaml", "w").write(text)
# The issue's alias bomb: aliases of aliases, one of them a key (644 bytes took 93 s before).
bomb = "name: bomb\ntitle: t\nsource: s\nx:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
for level, name in enumerate("bcdefgh"):
    prev = "abcdefgh"[level]
    bomb += f"  {name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]\n"
open(f"{work}/bomb-values.yaml", "w").write(bomb + "openings: []\n")
bomb += "  ? *h\n  : boom\nopenings: []\n"
open(f"{work}/bomb.yaml", "w").write(bomb)
PY
pyyaml="import sys, yaml; yaml.load(open(sys.argv[1]), Loader=getattr(yaml, 'CSafeLoader', yaml.SafeLoader))"
median() { python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['results'][0]['median']*1000, 1))" "$1"; }
ratio() { python3 -c "import sys; print(round(float(sys.argv[1])/float(sys.argv[2]), 2))" "$1" "$2"; }
run() { # name, command (may exit non-zero: a refused profile is the expected result)
  hyperfine -N -i --style none --runs "$RUNS" --warmup 1 --export-json "$work/$1.json" "$2" >"$work/$1.log" 2>&1 ||
    { echo "bench/profiles.sh: '$2' failed:" >&2; tail -5 "$work/$1.log" >&2; exit 1; }
  median "$work/$1.json"
}
echo "== profiles check, ms, median of $RUNS ($(wc -c < "$work/mega.yaml") and $(wc -c < "$work/bomb.yaml") bytes)"
mega_p=$(run mega-portctl "$portctl profiles check $work/mega.yaml")
mega_y=$(run mega-pyyaml "python3 -c \"$pyyaml\" $work/mega.yaml")
echo "1 MB valid profile   portctl $mega_p   PyYAML safe_load $mega_y   ratio $(ratio "$mega_p" "$mega_y")x  (target: portctl <= 1000 ms)"
bomb_p=$(run bomb-portctl "$portctl profiles check $work/bomb.yaml")
echo "alias bomb (key)     portctl $bomb_p (refused: $("$portctl" profiles check "$work/bomb.yaml" 2>&1 | cut -d: -f4- | head -c 70))"
values_p=$(run values-portctl "$portctl profiles check $work/bomb-values.yaml")
echo "alias bomb (values)  portctl $values_p (refused the same way)"
# PyYAML builds aliases as shared references, so loading is quick; anything that walks the
# result (here, serialising it) expands all 10^8 nodes.
start=$(date +%s%N)
status=0
timeout 20 python3 -c "import sys, yaml, json; d = yaml.load(open(sys.argv[1]), Loader=yaml.SafeLoader); print(len(json.dumps(d)))" "$work/bomb-values.yaml" >/dev/null 2>&1 || status=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
case $status in 0) what="finished" ;; 124) what="still expanding: stopped at the 20 s limit" ;; *) what="failed with status $status" ;; esac
echo "alias bomb (values)  PyYAML safe_load, then walking the result: $took ms ($what)"
