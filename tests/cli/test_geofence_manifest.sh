#!/usr/bin/env bash
# The expected geofence events in simulate's manifest: computed from the records it
# actually wrote (re-derived here from the JSON Lines file, faults included: a dropped,
# gap or malformed seq moves nothing, a reordered or duplicated one is stale), the
# same on every run, and the union of 3 shards' events is the unsharded run's.
# Also: the geofence CLI's usage errors (exit 2, a message naming the problem).
set -euo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# ci's traffic and faults; one square airspace whose floor and sides flights cross
sed -e '/^airspaces:/,$d' -e 's/^duration: .*/duration: 300s/' -e 's/^speedup: .*/rate: max/' \
  "$SKY_SOURCE_DIR/scenarios/ci.yaml" >"$work/s.yaml"
cat >>"$work/s.yaml" <<'YAML'
airspaces:
  - {name: LAYER, polygon: [[-60, -170], [-60, 170], [60, 170], [60, -170]], floor_ft: 10000,
     ceiling_ft: 36000}
YAML

"$SKYLOAD" simulate -s "$work/s.yaml" --sink "file:$work/a.jsonl" --manifest "$work/a.json" \
  2>/dev/null
"$SKYLOAD" simulate -s "$work/s.yaml" --sink null --manifest "$work/b.json" 2>/dev/null
for i in 0 1 2; do
  "$SKYLOAD" simulate -s "$work/s.yaml" --sink null --shard "$i/3" --manifest "$work/s$i.json" \
    2>/dev/null
done

python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
def ev(path):
    return [(e["flight"], e["airspace"], e["kind"], e["seq"], e["lat"], e["lon"], e["alt"])
            for e in json.load(open(path))["events"]]
a = ev(f"{w}/a.json")
assert len(a) > 200, f"only {len(a)} events"
assert ev(f"{w}/b.json") == a, "two runs of one scenario expect different events"
shards = sorted(sum((ev(f"{w}/s{i}.json") for i in range(3)), []))
assert shards == sorted(a), "the shards' events are not the unsharded run's"

# Re-derive from what was written: per flight, valid records in file order, each one
# newer than the flight's newest so far is what Tile38 keeps (7-decimal coordinates).
def t38(v):
    r = int(abs(v) * 1e7 + 0.5) / 1e7
    return -r if v < 0 else r
def inside(lat, lon, alt):
    return -60 <= lat <= 60 and -170 <= lon <= 170 and 10000 <= alt <= 36000
state, newest, want = {}, {}, []
for line in open(f"{w}/a.jsonl"):
    r = json.loads(line)
    if "error" in r:  # malformed: dead-letter topic, never in Tile38
        continue
    fid, seq, v = r["key"], int(r["headers"]["skyload-seq"]), r["value"]
    if seq <= newest.get(fid, -1):  # a duplicate's second copy, a reordered seq: stale
        continue
    newest[fid] = seq
    lat, lon = t38(v["location"]["latitude"]), t38(v["location"]["longitude"])
    now = inside(lat, lon, v.get("altitude", 0))
    if now != state.get(fid, False):  # the square is its own rectangle: always a candidate
        want.append((fid, "LAYER", "enter" if now else "exit", seq))
    state[fid] = now
got = [e[:4] for e in a]
assert got == want, f"manifest {len(got)} events, re-derived {len(want)}: " \
                    f"{sorted(set(got) ^ set(want))[:5]}"
m = json.load(open(f"{w}/a.json"))
assert m["geofence"]["airspaces"] == ["LAYER"] and m["geofence"]["expected_events"] == len(a)
assert {f["kind"] for f in m["faults"]} >= {"drop", "gap", "duplicate", "reorder", "malformed"}
print(f"{len(a)} events, as re-derived from the records; shards merge to the same")
PY

check() { # check STATUS "message part" ARGS...
  local want=$1 msg=$2 rc=0 out
  shift 2
  out=$("$SKYLOAD" "$@" 2>&1 >/dev/null) || rc=$?
  [[ $rc == "$want" ]] || fail "$*: exit $rc, want $want ($out)"
  [[ $out == *"$msg"* ]] || fail "$*: message '$out' lacks '$msg'"
}
check 2 "no action" geofence
check 2 "is not setup, list or drop" geofence remove
check 2 "no airspaces" geofence setup --tile38 127.0.0.1:1
check 2 "--geofence-route" geofence setup --scenario ci --geofence-route webhook
check 2 "cannot open" geofence setup --airspaces /nonexistent.geojson
check 2 "neither a file nor a scenario" simulate --airspaces no-such --sink null
check 2 "already in the scenario" simulate --scenario ci --airspaces ci --sink null
check 3 "127.0.0.1:1" geofence list --tile38 127.0.0.1:1
echo "PASS: expected geofence events as re-derived, deterministic, shards merge; CLI errors"
