#!/usr/bin/env bash
# simulate is deterministic: two runs of one scenario + seed + start time give
# byte-identical files; the union of 4 shards equals the unsharded run line for
# line; the manifest describes exactly what was written (faults included).
set -euo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$work/s.yaml" <<'YAML'
name: determinism
seed: 7
start_time: 2026-11-25T10:00:00Z
load: {profile: step, from: 150, to: 200, at: 300s}
duration: 600s
rate: max
faults: {duplicate: 0.02, reorder: 0.02, drop: 0.02, malformed: 0.01, gap: 0.01, gap_length: 3}
YAML

"$SKYLOAD" simulate -s "$work/s.yaml" --sink "file:$work/a.jsonl" --manifest "$work/a.json" 2>/dev/null
"$SKYLOAD" simulate -s "$work/s.yaml" --sink "file:$work/b.jsonl" 2>/dev/null
a=$(sha256sum <"$work/a.jsonl") b=$(sha256sum <"$work/b.jsonl")
[[ $a == "$b" ]] || fail "two runs differ: $a vs $b"
[[ $(wc -l <"$work/a.jsonl") -gt 10000 ]] || fail "too few records: $(wc -l <"$work/a.jsonl")"

# the record path's own id formatting agrees with the model's (it falls back to the
# model's snprintf, and says so at debug level, when a sampled flight differs)
"$SKYLOAD" simulate -s "$work/s.yaml" --sink null --log-level debug 2>"$work/debug.err" >/dev/null
grep -q "flight id format differs" "$work/debug.err" &&
  fail "fast flight ids differ from the model's: $(grep -m1 'format differs' "$work/debug.err")"
grep -Eq '"key":"[A-Z0-9]{3}[0-9]+-[0-9a-f]{6}"' "$work/a.jsonl" || fail "flight id format"

# stdout sink = file sink, byte for byte
"$SKYLOAD" simulate -s "$work/s.yaml" --sink stdout 2>/dev/null | sha256sum >"$work/c.sum"
[[ $(cat "$work/c.sum") == "$a" ]] || fail "stdout sink differs from the file sink"

# shards: the run id carries the shard index, everything else is identical
strip() { sed 's/"skyload-run":"[^"]*"//' "$@" | LC_ALL=C sort; }
for i in 0 1 2 3; do
  "$SKYLOAD" simulate -s "$work/s.yaml" --shard "$i/4" --sink "file:$work/s$i.jsonl" \
    --manifest "$work/s$i.json" 2>/dev/null
done
cmp -s <(strip "$work/a.jsonl") <(strip "$work"/s?.jsonl) || fail "union of shards != unsharded run"

python3 "$SKY_SOURCE_DIR/tests/cli/simulate_check_manifest.py" "$work/a.jsonl" "$work/a.json" ||
  fail "manifest does not match the records"
for i in 0 1 2 3; do
  python3 "$SKY_SOURCE_DIR/tests/cli/simulate_check_manifest.py" "$work/s$i.jsonl" "$work/s$i.json" ||
    fail "shard $i manifest does not match its records"
done
python3 - "$work/a.json" "$work"/s?.json <<'PY' || fail "shard manifests do not add up to the unsharded one"
import json, sys
full, shards = json.load(open(sys.argv[1])), [json.load(open(p)) for p in sys.argv[2:]]
for k in ("flights", "produced", "expected_unique"):
    assert sum(s["totals"][k] for s in shards) == full["totals"][k], k
assert sorted(f["id"] for s in shards for f in s["flights"]) == sorted(f["id"] for f in full["flights"])
assert len(full["faults"]) == sum(len(s["faults"]) for s in shards)
assert {f["kind"] for f in full["faults"]} == {"drop", "gap", "duplicate", "reorder", "malformed"}
PY
echo "PASS: deterministic, shards add up, manifest matches"
