#!/usr/bin/env bash
# SIGTERM stops a run cleanly: exit 0, the records flushed, the manifest written
# and consistent with what was sent.
set -euo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
"$SKYLOAD" simulate -n 100 -d 1h --start-time 2026-11-25T10:00:00Z --speedup 5 \
  --sink "file:$work/out.jsonl" --manifest "$work/m.json" 2>"$work/err" &
pid=$!
sleep 2
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[[ $rc == 0 ]] || { echo "FAIL: exit status $rc after SIGTERM: $(cat "$work/err")" >&2; exit 1; }
[[ -s $work/m.json ]] || { echo "FAIL: no manifest after SIGTERM" >&2; exit 1; }
n=$(wc -l <"$work/out.jsonl")
[[ $n -ge 100 ]] || { echo "FAIL: only $n records before the signal" >&2; exit 1; }
python3 "$SKY_SOURCE_DIR/tests/cli/simulate_check_manifest.py" "$work/out.jsonl" "$work/m.json"
grep -q stopped "$work/err" || { echo "FAIL: summary does not say stopped" >&2; exit 1; }
echo "PASS: SIGTERM -> flushed, manifest written, exit 0 ($n records)"
