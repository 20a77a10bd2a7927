#!/usr/bin/env bash
# Runs the realism test: simulate SCENARIO into a file, the plans' types from
# sky_plan_info, then tests/realism/realism.py over them.
# usage: run.sh SKYLOAD_BIN BUILD_DIR PYTHON WORK_DIR [SCENARIO] [realism.py options...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
skyload=$1 build=$2 py=$3 work=$4
scenario=${5:-$here/world.yaml}
shift 5 2>/dev/null || shift $#
seed=$(awk '/^seed:/ {print $2}' "$scenario")
mkdir -p "$work"
# ~2.3 GB of JSON Lines for the world scenario: compressed on the way (through a FIFO,
# ~10x smaller), so the test needs little disk.
rm -f "$work/records.fifo"
mkfifo "$work/records.fifo"
gzip -1 <"$work/records.fifo" >"$work/records.jsonl.gz" &
gz=$!
"$skyload" simulate -s "$scenario" --sink "file:$work/records.fifo" \
  --manifest "$work/manifest.json" 2>"$work/simulate.err" || { cat "$work/simulate.err" >&2; kill "$gz"; exit 1; }
wait "$gz" || { echo "run.sh: gzip of the records failed" >&2; exit 1; }
count=$("$py" -c 'import json,sys; m=json.load(open(sys.argv[1]))
print(1 + max(int(f["id"].rsplit("-", 1)[1], 16) for f in m["flights"]))' "$work/manifest.json")
"$build/sky_plan_info" "$scenario" "$count" >"$work/plans.txt"
"$py" "$here/realism.py" --records "$work/records.jsonl.gz" --manifest "$work/manifest.json" \
  --plans "$work/plans.txt" --data-dir "$here/../../scenarios/data" --seed "${seed:-1}" "$@"
