#!/usr/bin/env bash
# simulate -> record -> replay -> verify: the smoke scenario is recorded and replayed with
# --original-headers to a fresh topic, which must hold the same records per partition (keys,
# headers, values) and pass verify against simulate's manifest; a default replay (this run's
# headers) passes verify against replay's own manifest and fails against simulate's.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka

sky_fixture e2e_rsim
src=${name}_src same=${name}_same fresh=${name}_fresh
sky_topics 6 "$src" "$same" "$fresh"
k=(-b "$SKY_BROKERS")
verify() { timeout 180 "$SKYLOAD" verify "${k[@]}" --skip pg,tile38,dlq,geofence --timeout 20s "$@"; }

timeout 120 "$SKYLOAD" simulate "${k[@]}" -t "$src" --scenario smoke --no-create-topic \
  --rate max --manifest "$work/sim.json" >/dev/null
timeout 120 "$SKYLOAD" record "${k[@]}" -t "$src" -o "$work/src.skc" -e >/dev/null
timeout 120 "$SKYLOAD" replay "${k[@]}" -t "$same" --original-headers --rate max \
  "$work/src.skc" >/dev/null
timeout 120 "$SKYLOAD" record "${k[@]}" -t "$same" -o "$work/same.skc" -e >/dev/null

# Per partition, in order: the same keys, headers and values (docs/formats.md's layout).
python3 - "$work" "$SKY_SOURCE_DIR/tests/tools" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[2])
from skycapture import records
def by_part(path):
    parts = {}
    for _ts, part, _off, key, hdrs, value in records(path):
        parts.setdefault(part, []).append((key, hdrs, value))
    return parts
a, b = by_part(sys.argv[1] + "/src.skc"), by_part(sys.argv[1] + "/same.skc")
m = json.load(open(sys.argv[1] + "/sim.json"))
n = sum(map(len, a.values()))
assert n > 0 and n == m["totals"]["delivered"], (n, m["totals"])
assert a == b, "the replayed topic differs from the simulated one"
names = {h[0] for recs in a.values() for r in recs for h in r[1]}
assert {b"skyload-run\0", b"skyload-seq\0", b"skyload-intended\0"} <= names or \
       {b"skyload-run", b"skyload-seq", b"skyload-intended"} <= names, names
print(f"same records: {n} in {len(a)} partitions")
PY

verify --manifest "$work/sim.json" -t "$same" >"$work/v1.txt" ||
  sky_fail "verify of the --original-headers replay against simulate's manifest: $(cat "$work/v1.txt")"

# Default replay: this run's headers; its own manifest verifies, simulate's does not.
timeout 120 "$SKYLOAD" replay "${k[@]}" -t "$fresh" --rate max --manifest "$work/rp.json" \
  "$work/src.skc" >/dev/null
verify --manifest "$work/rp.json" -t "$fresh" >"$work/v2.txt" ||
  sky_fail "verify of the default replay against its manifest: $(cat "$work/v2.txt")"
rc=0
verify --manifest "$work/sim.json" -t "$fresh" >"$work/v3.txt" 2>&1 || rc=$?
sky_assert_eq "$rc" 1 "verify of the default replay against simulate's manifest (other run id)"
echo "PASS: simulate -> record -> replay -> verify"
