#!/usr/bin/env bash
# Geofence event routes under the capacity scenario (bench/RESULTS.md, "geofence"):
# `skyload run` of scenarios/capacity-ramp.yaml's first step (8,000 aircraft at a 1 s
# cadence, real time) with bench/geofence-airspaces.yaml, once per route:
#   relay - SETCHAN; ingest SUBSCRIBEs and produces with the idempotent producer
#   hook  - SETHOOK kafka://; Tile38 produces itself (sarama, one sync send at a time
#           per hook, queue entries expire after 30 s)
# Per route: events expected (the manifest), delivered once, lost, duplicated, out of
# per-flight order (verify's geofence check); throughput = events on the topic per
# second of their LogAppendTime span, and the busiest second; latency intended -> topic.
# FAULT=kafka|tile38 stops that server for OUTAGE seconds (default 40) once the run's
# first event is on the topic, then starts it again (a private stack only: it is
# the stack's own server that goes down); DURATION then defaults to 70s, so that the
# simulation outlives the outage and its records are delivered.
# Usage: bench/geofence.sh [relay|hook|both] (default both)
# Env: AIRCRAFT (8000), DURATION (40s), CADENCE (1s), FAULT, OUTAGE, SKYLOAD,
#      SKY_BROKERS, SKY_TILE38, PG*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"
sky_need_stack kafka tile38 pg
build=${SKY_BUILD_DIR:-$here/../build}
SKYLOAD=${SKYLOAD:-$build/skyload}
aircraft=${AIRCRAFT:-8000}
duration=${DURATION:-$([[ -n ${FAULT:-} ]] && echo 70s || echo 40s)}
cadence=${CADENCE:-1s}
routes=${1:-both}
fault=${FAULT:-}
outage=${OUTAGE:-40}
stack=$here/../deploy/local/stack
[[ -z $fault || $fault == kafka || $fault == tile38 ]] || sky_fail "FAULT=$fault: kafka or tile38"
[[ -z $fault ]] || sky_on_exit "$stack" start "$fault"
[[ $routes == both ]] && routes="relay hook"
work=$(mktemp -d)
sky_on_exit rm -rf "$work"
sky_on_exit "$SKYLOAD" geofence drop --airspaces "$here/geofence-airspaces.yaml" --tile38 "$SKY_TILE38"
sed -e "s/^aircraft: .*/aircraft: $aircraft/" -e "s/^duration: .*/duration: $duration/" \
  -e "s/^cadence: .*/cadence: $cadence/" -e 's/^name: .*/name: capacity-geofence/' \
  "$here/../scenarios/capacity-ramp.yaml" >"$work/scenario.yaml"

printf '%-6s %8s %9s %9s %6s %5s %6s %9s %9s %9s %9s %9s %9s  %s\n' route aircraft expected \
  delivered lost dups order offered/s topic/s peak/s p50_ms p99_ms max_ms checks
for route in $routes; do
  name=$(sky_unique "bench_geo_$route")
  for t in "$name" "$name.dlq" "$name.events"; do sky_on_exit sky_kafka_delete_topic "$t"; done
  sky_on_exit sky_pg_drop_schema "$name"
  rc=0
  "$SKYLOAD" run "$work/scenario.yaml" -b "$SKY_BROKERS" -t "$name" --group "$name" \
    --schema "$name" --pg "$SKY_PG_CONNINFO" --tile38 "$SKY_TILE38" --drain-timeout 300s \
    --airspaces "$here/geofence-airspaces.yaml" --geofence-route "$route" \
    --report "$work/$route" >"$work/$route.txt" 2>"$work/$route.err" &
  pid=$!
  if [[ -n $fault ]]; then
    first_event() { [[ $(kcat -C -b "$SKY_BROKERS" -t "$1" -c 1 -e -q 2>/dev/null | wc -l) -ge 1 ]]; }
    sky_wait_until 120 "the first event on $name.events" first_event "$name.events"
    "$stack" kill "$fault" >/dev/null
    echo "$route: $fault down for ${outage}s" >&2
    sleep "$outage"
    "$stack" start "$fault" >/dev/null
  fi
  wait "$pid" || rc=$?
  ((rc <= 1)) || { cat "$work/$route.err" >&2; sky_fail "$route: skyload run exited $rc"; }
  kcat -C -b "$SKY_BROKERS" -t "$name.events" -e -q -f '%T\n' >"$work/$route.ts" 2>/dev/null || true
  python3 - "$work/$route" "$work/$route.ts" "$route" "$aircraft" <<'PY'
import collections, json, sys
d, tsfile, route, aircraft = sys.argv[1:]
m = json.load(open(f"{d}/manifest.json"))
v = json.load(open(f"{d}/verify.json"))
c = next(c for c in v["checks"] if c["name"] == "geofence")["counts"]
st = next((s for s in v["latency"] if s["stage"] == "geofence"), {})
ts = [int(x) for x in open(tsfile) if x.strip()]
span = (max(ts) - min(ts)) / 1000 if len(ts) > 1 else 0
peak = max(collections.Counter(t // 1000 for t in ts).values()) if ts else 0
ints = [e["intended_ns"] for e in m["events"]]
offered_span = (max(ints) - min(ints)) / 1e9 if len(ints) > 1 else 0
failed = [x["name"] for x in v["checks"] if x["status"] == "fail"]
print("%-6s %8s %9d %9d %6d %5d %6d %9.0f %9.0f %9d %9.1f %9.1f %9.1f  %s" % (
    route, aircraft, c["expected"], c["matched"], c["missing"], c["duplicates"],
    c["out_of_order"], c["expected"] / offered_span if offered_span else 0,
    len(ts) / span if span else 0, peak, st.get("p50_ms", 0), st.get("p99_ms", 0),
    st.get("max_ms", 0), "all pass" if not failed else "failed: " + ",".join(failed)))
PY
  "$SKYLOAD" geofence drop --airspaces "$here/geofence-airspaces.yaml" --tile38 "$SKY_TILE38" \
    >/dev/null 2>&1 || true
done
