#!/usr/bin/env bash
# Tile38's geometry rules, asserted against the real Tile38 through the whole pipeline
# (replay -> Kafka -> ingest -> Tile38 -> channel -> relay -> events topic):
#  - points exactly on a polygon's edge, on a vertex and on a hole's edge are inside;
#    inside the hole is outside; the altitude ceiling is inclusive;
#  - a flight crossing the antimeridian westbound into a circle centred at 179.8 E:
#    Tile38 sends no enter (its hook rectangle, from a 64-gon, is inside out there),
#    then an exit, and an enter when it comes back from the west.
# The topic must hold exactly these events, and verify (expected events computed by
# replay with simulator/airspace.c) must pass: our rules are Tile38's.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg

sky_fixture e2e_georules
coll=$collection
tag=$(sky_unique r)
sq=SQ_$tag am=AM_$tag
sky_on_exit sky_tile38 DELCHAN "$sq"
sky_on_exit sky_tile38 DELCHAN "$am"

# a square (0..10 degrees, ceiling 20,000 ft) with a hole (4..6), and a circle whose
# 60 nm radius reaches over the antimeridian: GeoJSON, [lon, lat]
cat >"$work/airspaces.geojson" <<EOF
{"type": "FeatureCollection", "features": [
 {"type": "Feature", "properties": {"name": "$sq", "ceiling_ft": 20000},
  "geometry": {"type": "Polygon", "coordinates": [
    [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]], [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]]}},
 {"type": "Feature", "properties": {"name": "$am", "radius_nm": 60},
  "geometry": {"type": "Point", "coordinates": [179.8, -17.0]}}]}
EOF
# flight, time, lat, lon, altitude: one position a second per flight
python3 - "$work/flights.csv" "$tag" <<'PY'
import sys
path, tag = sys.argv[1], sys.argv[2]
tracks = {
  "EDGE": [(5, -1, 5000), (5, 0, 5000), (4, 5, 5000), (5, 5, 5000), (6, 6, 5000),
           (10, 5, 5000), (10.0000001, 5, 5000)],
  "VTX":  [(0, 0, 5000), (0, 0.5, 5000)],
  "ALT":  [(2, 2, 25000), (2, 2, 15000), (2, 2, 20000), (2, 2, 20001)],
  "AM":   [(-17, -178.0, 30000), (-17, -179.5, 30000), (-17, 179.9, 30000),
           (-17, 178.0, 30000), (-17, 179.5, 30000)],
}
with open(path, "w") as f:
    f.write("flight_id,timestamp,latitude,longitude,altitude,airspeed,airline,flight_number,"
            "departure_airport,arrival_airport\n")
    for name, pts in tracks.items():
        for i, (lat, lon, alt) in enumerate(pts):
            f.write(f"{name}-{tag},2026-11-25T10:00:{i:02d}.000Z,{lat},{lon},{alt},300,"
                    f"TST,TS1,EGLL,LFPG\n")
PY

# the topic first: a consumer subscribed to a topic that does not exist yet only finds it
# at its next metadata refresh
sky_kafka_create_topic "$topic" 3
"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$topic" -g "$topic" --tile38 "$SKY_TILE38" \
  --collection "$coll" --pg "$SKY_PG_CONNINFO" --schema "$schema" --init-schema \
  --airspaces "$work/airspaces.geojson" 2>"$work/ingest.log" &
ingest=$!
stop_ingest() { kill "$ingest" 2>/dev/null || true; }
sky_on_exit stop_ingest
# the channels are registered at ingest's start
registered() { [[ -n $(sky_tile38 CHANS "$am" 2>/dev/null) ]]; }
sky_wait_until 60 "ingest to register the channels" registered

"$SKYLOAD" replay -b "$SKY_BROKERS" -t "$topic" --rate max --airspaces "$work/airspaces.geojson" \
  --manifest "$work/manifest.json" "$work/flights.csv" >"$work/replay.txt"
last_stored() { # the AM flight's last position (seq 4) is in Tile38
  local out # (not piped into grep -q: with pipefail an early exit fails the pipe)
  out=$(sky_tile38 GET "$coll" "AM-$tag" WITHFIELDS 2>/dev/null) && grep -qx 4 <<<"$out"
}
sky_wait_until 60 "ingest to store the last position" last_stored
kill -TERM "$ingest"
wait "$ingest" || sky_fail "ingest exited $?: $(cat "$work/ingest.log")"

rc=0
"$SKYLOAD" verify --manifest "$work/manifest.json" -b "$SKY_BROKERS" -t "$topic" \
  --skip pg,tile38,dlq >"$work/verify.txt" 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat "$work/verify.txt" >&2; sky_fail "verify exited $rc"; }
grep -qE '^geofence +PASS +all 9 expected events' "$work/verify.txt" ||
  sky_fail "verify: $(grep -E '^geofence' "$work/verify.txt")"

kcat -C -b "$SKY_BROKERS" -t "$topic.events" -e -q -f '%s\n' >"$work/events.jsonl"
python3 - "$work/events.jsonl" "$tag" "$sq" "$am" <<'PY'
import json, sys
path, tag, sq, am = sys.argv[1:]
got = sorted((e["id"].rsplit("-", 1)[0], e["hook"], e["detect"], e.get("fields", {}).get("seq", 0))
             for e in map(json.loads, open(path)))
want = sorted([
    ("EDGE", sq, "enter", 1),  # onto the west edge
    ("EDGE", sq, "exit", 3),   # into the hole (its edge at seq 2 kept it inside)
    ("EDGE", sq, "enter", 4),  # a vertex of the hole
    ("EDGE", sq, "exit", 6),   # 1e-7 degree past the top edge (seq 5 on it stayed inside)
    ("VTX", sq, "enter", 0),   # first position on the corner
    ("ALT", sq, "enter", 1),   # down from 25,000 ft through the ceiling
    ("ALT", sq, "exit", 3),    # 20,001 ft: 20,000 (seq 2) was still inside
    ("AM", am, "exit", 3),     # no enter at seq 1 or 2: Tile38 never looked
    ("AM", am, "enter", 4),    # back from the west side
])
assert got == want, f"Tile38 sent\n{got}\nexpected\n{want}"
print("Tile38's events: edges and vertices inside, hole and ceiling as expected, "
      "antimeridian entry unseen")
PY
echo "PASS: boundary points and the antimeridian circle behave as Tile38 does"
