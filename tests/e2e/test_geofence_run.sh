#!/usr/bin/env bash
# skyload run on the ci scenario, whose airspaces ingest registers as Tile38 channels
# and relays to <topic>.events: the report says `geofence PASS` with the count of
# events, that count is the manifest's (hundreds, both kinds, several airspaces), and
# every event on the topic is Tile38's own JSON message for one of the run's flights.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg

sky_fixture e2e_geo
sky_on_exit "$SKYLOAD" geofence drop --scenario ci --tile38 "$SKY_TILE38"

rc=0
timeout 300 "$SKYLOAD" run "$SKY_SOURCE_DIR/scenarios/ci.yaml" -b "$SKY_BROKERS" -t "$topic" \
  --group "$group" --schema "$schema" --pg "$SKY_PG_CONNINFO" --tile38 "$SKY_TILE38" \
  --report "$work/report" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
[[ $rc == 0 ]] || { cat "$work/out.txt" "$work/err.txt" >&2; sky_fail "skyload run ci exited $rc"; }
line=$(grep -E '^geofence +PASS' "$work/out.txt") ||
  { cat "$work/out.txt" >&2; sky_fail "no 'geofence PASS' line in the report"; }
sky_log "$line"
[[ $line =~ all\ ([0-9]+)\ expected\ events ]] || sky_fail "no event count in: $line"
count=${BASH_REMATCH[1]}
sky_assert_ge "$count" 100 "geofence events of the ci scenario"
[[ -s $work/report/geofence.hgrm ]] || sky_fail "no geofence.hgrm in the report"
grep -q 'testcase classname="skyload.verify" name="geofence"/>' "$work/report/verify.xml" ||
  sky_fail "verify.xml has no passing geofence testcase"

kcat -C -b "$SKY_BROKERS" -t "$topic.events" -e -q -f '%k\t%s\n' >"$work/events.tsv"
python3 - "$work/report" "$work/events.tsv" "$count" "$topic" <<'PY'
import json, sys, collections
d, events, count, topic = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
m = json.load(open(f"{d}/manifest.json"))
v = json.load(open(f"{d}/verify.json"))
exp = m["events"]
assert len(exp) == count == m["geofence"]["expected_events"], (len(exp), count)
assert m["geofence"]["events_topic"] == topic + ".events", m["geofence"]
kinds = collections.Counter(e["kind"] for e in exp)
spaces = {e["airspace"] for e in exp}
assert kinds["enter"] > 0 and kinds["exit"] > 0, kinds
assert len(spaces) >= 5, spaces
assert sum(1 for e in exp if e["seq"] > 0) >= 10, "flights must cross airspaces, not only start in them"
check = next(c for c in v["checks"] if c["name"] == "geofence")
assert check["status"] == "pass" and check["counts"]["matched"] == count, check
stage = next(s for s in v["latency"] if s["stage"] == "geofence")
assert stage["count"] == count and stage["source"] == "LogAppendTime", stage
flights = {f["id"] for f in m["flights"]}
got = []
for line in open(events):
    key, value = line.rstrip("\n").split("\t", 1)
    e = json.loads(value)  # Tile38's own message, as the web map reads it
    assert e["command"] == "set" and e["detect"] in ("enter", "exit"), e
    assert key == f"{e['key']}-{e['id']}" and e["id"] in flights, (key, e["id"])
    assert e["hook"] in m["geofence"]["airspaces"] and e["object"]["type"] == "Point", e
    got.append((e["id"], e["hook"], e["detect"], e.get("fields", {}).get("seq", 0)))
want = sorted((e["flight"], e["airspace"], e["kind"], e["seq"]) for e in exp)
assert sorted(got) == want, "the topic's events differ from the manifest's"
print(f"geofence: {count} events ({kinds['enter']} enter, {kinds['exit']} exit) over "
      f"{len(spaces)} airspaces, identical on the topic")
PY
echo "PASS: skyload run ci reports geofence PASS with $count events"
