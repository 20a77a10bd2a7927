#!/usr/bin/env bash
# A geofence removed from Tile38 while the ci scenario runs (its vertical layers,
# which flights keep crossing): verify must fail the geofence check and name the
# missing events -- flight, seq, kind and the removed airspace -- and only those.
# Both routes: the relay's channels (DELCHAN), then Tile38's own hooks (DELHOOK).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg

work=$(mktemp -d)
sky_on_exit rm -rf "$work"
sky_on_exit "$SKYLOAD" geofence drop --scenario ci --tile38 "$SKY_TILE38"
removed=(BELOW-FL100 RVSM UPPER-FL245 US-CLASS-A)

# ci at 4x instead of 10x: 15 s of wall time, so the removal lands early in the run
sed -e 's/^speedup: .*/speedup: 4/' -e 's/^name: ci$/name: ci-slow/' \
  "$SKY_SOURCE_DIR/scenarios/ci.yaml" >"$work/ci-slow.yaml"
grep -q '^speedup: 4' "$work/ci-slow.yaml" || sky_fail "could not slow down a copy of ci.yaml"

# The run's first event on its own (unique) events topic: fences registered, flights moving.
first_event() { [[ $(kcat -C -b "$SKY_BROKERS" -t "$1" -c 1 -e -q 2>/dev/null | wc -l) -ge 1 ]]; }

one_route() {
  local route=$1 del=$2 topic schema group pid rc=0
  topic=$(sky_unique "e2e_geodel_$route")
  schema=$(sky_unique e2e_geodel)
  group=$(sky_unique e2e_geodel_group)
  for t in "$topic" "$topic.dlq" "$topic.events"; do sky_on_exit sky_kafka_delete_topic "$t"; done
  sky_on_exit sky_pg_drop_schema "$schema"
  timeout 300 "$SKYLOAD" run "$work/ci-slow.yaml" -b "$SKY_BROKERS" -t "$topic" \
    --group "$group" --schema "$schema" --pg "$SKY_PG_CONNINFO" --tile38 "$SKY_TILE38" \
    --geofence-route "$route" --report "$work/$route" >"$work/$route.txt" 2>&1 &
  pid=$!
  sky_wait_until 60 "the $route run's first geofence event" first_event "$topic.events"
  for name in "${removed[@]}"; do sky_tile38 "$del" "$name" >/dev/null; done
  sky_log "$route: removed ${removed[*]} mid-run"
  wait "$pid" || rc=$?
  sky_assert_eq "$rc" 1 "$route: exit status of a run that lost geofences"
  grep -qE '^geofence +FAIL' "$work/$route.txt" || sky_fail "$route: geofence not FAIL: $(cat "$work/$route.txt")"
  python3 - "$work/$route" "$route" "${removed[@]}" <<'PY'
import json, sys
d, route, removed = sys.argv[1], sys.argv[2], set(sys.argv[3:])
m = json.load(open(f"{d}/manifest.json"))
v = json.load(open(f"{d}/verify.json"))
c = next(c for c in v["checks"] if c["name"] == "geofence")
missing = [e for e in c["examples"] if e["detail"].startswith("missing ")]
assert c["status"] == "fail" and c["counts"]["missing"] > 0, c["counts"]
assert missing, c["examples"]
expected = {(e["flight"], e["seq"], e["kind"], e["airspace"]) for e in m["events"]}
for e in missing:  # "missing enter RVSM at (lat, lon, alt ft)"
    kind, airspace = e["detail"].split()[1:3]
    assert airspace in removed, f"missing event of an airspace still registered: {e}"
    assert (e["flight_id"], e["seq"], kind, airspace) in expected, e
assert c["counts"]["unexpected"] == 0 and c["counts"]["duplicates"] == 0, c["counts"]
# the other airspaces' events all arrived
kept = sum(1 for e in m["events"] if e["airspace"] not in removed)
assert c["counts"]["matched"] >= kept, (c["counts"], kept)
print(f"{route}: {c['counts']['missing']} missing of {c['counts']['expected']}, e.g. "
      f"{missing[0]['flight_id']} seq {missing[0]['seq']}: {missing[0]['detail']}")
PY
}

one_route relay DELCHAN
one_route hook DELHOOK
echo "PASS: removing geofences mid-run fails verify and names the missing events"
