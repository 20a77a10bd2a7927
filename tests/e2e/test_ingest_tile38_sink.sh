#!/usr/bin/env bash
# The Tile38 sink on the ci scenario (500 aircraft, duplicates and reorders among its
# faults), ingested by `skyload ingest` into a collection of its own:
#  - every flight's object is its last position of the manifest, field for field
#    (seq, altitude, airspeed), with a TTL;
#  - a flight never moves backwards: ingest counts as stale exactly the records the
#    topic holds out of per-flight order or twice (computed here from the topic), and
#    those are the ones not applied (the objects above are the newest);
#  - offsets are committed only after both sinks answered: drained means lag 0;
#  - every Tile38 example of docs/queries.md, run as written, returns what the
#    manifest predicts;
#  - verify's tile38.positions check passes; its tile38 latency stage (intended ->
#    Tile38 acknowledged) is in the text, JSON, JUnit and .hgrm reports, judged by
#    ci.yaml's own slo.latency_ms.tile38 key, and an SLO below it fails naming it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg

sky_fixture e2e_t38sink 6
fixture=$SKY_SOURCE_DIR/tests/e2e/test_ingest_fixture.py

"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$name" -g "$name" --tile38 "$SKY_TILE38" \
  --pg "$SKY_PG_CONNINFO" --init-schema --schema "$name" --collection "$name" --ttl 300 \
  --metrics 127.0.0.1:0 --stats "$work/stats.json" 2>"$work/ingest.log" &
pid=$!
stop_ingest() { kill -9 "$pid" 2>/dev/null || true; }
sky_on_exit stop_ingest
sky_wait_until 60 "ingest assigned the topic's partitions" grep -q 'assigned 6 partition' "$work/ingest.log"

timeout 120 "$SKYLOAD" simulate --scenario ci -b "$SKY_BROKERS" -t "$name" \
  --manifest "$work/manifest.json" >/dev/null 2>"$work/simulate.log" ||
  { cat "$work/simulate.log" >&2; sky_fail "simulate ci"; }
produced=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["produced"])' \
  "$work/manifest.json")

metrics() {
  local port
  port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/ingest.log")
  [[ -n $port ]] && curl -fsS "http://127.0.0.1:$port/metrics"
}
drained() {
  kill -0 "$pid" 2>/dev/null || { cat "$work/ingest.log" >&2; sky_fail "ingest exited early"; }
  local m
  m=$(metrics) || return 1
  grep -qx "skyload_ingest_consumed_total $produced" <<<"$m" &&
    grep -qx 'skyload_ingest_consumer_lag 0' <<<"$m" && grep -qx 'skyload_ingest_pending_rows 0' <<<"$m"
}
sky_wait_until 120 "ingest consumed and committed all $produced records" drained
# committed: the group's lag is 0 (offsets go to Kafka only after both sinks answered)
lag=$("$SKY_PYTHON" - "$SKY_BROKERS" "$name" <<'PY'
import sys
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
b, t = sys.argv[1], sys.argv[2]
committed = KafkaAdminClient(bootstrap_servers=b).list_consumer_group_offsets(t)
c = KafkaConsumer(bootstrap_servers=b)
parts = [TopicPartition(t, p) for p in c.partitions_for_topic(t)]
end = c.end_offsets(parts)
print(sum(end[tp] - (committed[tp].offset if tp in committed else 0) for tp in parts))
PY
)
sky_assert_eq "$lag" 0 "the group's committed lag"
kill -TERM "$pid"
wait "$pid" || sky_fail "ingest exit status after SIGTERM"

"$SKY_PYTHON" "$fixture" tile38-check --manifest "$work/manifest.json" --collection "$name" \
  --tile38 "$SKY_TILE38" || sky_fail "Tile38 objects differ from the manifest's last positions"

expect=$("$SKY_PYTHON" "$fixture" stale-count --manifest "$work/manifest.json" \
  --brokers "$SKY_BROKERS" --topic "$name") || sky_fail "reading the topic back"
sky_log "topic: $expect"
python3 - "$expect" "$work/stats.json" <<'PY'
import json, sys
e, s = json.loads(sys.argv[1]), json.load(open(sys.argv[2]))
# the faults this run relies on were injected, and each of them reached the sink
assert e["duplicates_injected"] > 0 and e["reorders_injected"] > 0, e
assert e["stale"] >= e["duplicates_injected"], e
assert s["stale_dropped"] == e["stale"], ("ingest dropped %d as stale, the topic holds %d out of "
                                          "order or twice" % (s["stale_dropped"], e["stale"]))
assert s["stored_tile38"] + s["stale_dropped"] == e["records"], (s, e)
assert s["tile38_refused"] == 0, s
print("stale: %d dropped = %d in the topic (%d duplicates, %d reorders injected)"
      % (s["stale_dropped"], e["stale"], e["duplicates_injected"], e["reorders_injected"]))
PY

"$SKY_PYTHON" "$fixture" doc-queries --doc "$SKY_SOURCE_DIR/docs/queries.md" \
  --manifest "$work/manifest.json" --collection "$name" --tile38 "$SKY_TILE38" ||
  sky_fail "docs/queries.md's Tile38 examples do not return what the manifest predicts"

# verify: the tile38 stage (intended -> Tile38 acknowledged) in text, JSON, JUnit and
# .hgrm, judged by the scenario's own key (ci.yaml: slo.latency_ms.tile38)
vargs=(--manifest "$work/manifest.json" -b "$SKY_BROKERS" -t "$name" --pg "$SKY_PG_CONNINFO"
  --schema "$name" --tile38 "$SKY_TILE38" --tile38-collection "$name" --ingest-stats "$work/stats.json"
  --skip geofence) # ci has airspaces; their events are test_geofence_*.sh's
rc=0
"$SKYLOAD" verify "${vargs[@]}" --hgrm-dir "$work/hgrm" >"$work/verify.txt" 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat "$work/verify.txt" >&2; sky_fail "verify exited $rc"; }
grep -q '^tile38.positions  *PASS' "$work/verify.txt" || sky_fail "tile38.positions not PASS"
grep -q '^slo.tile38  *PASS' "$work/verify.txt" || sky_fail "no slo.tile38 check from ci.yaml's key"
grep -Eq '^tile38  *ingest-stats  *[1-9][0-9]* .* p99<=' "$work/verify.txt" ||
  sky_fail "no tile38 latency row with samples and its SLO"
"$SKYLOAD" verify "${vargs[@]}" --format json -o "$work/verify.json"
"$SKYLOAD" verify "${vargs[@]}" --format junit -o "$work/verify.xml"
python3 - "$work" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
st = [s for s in json.load(open(d + "/verify.json"))["latency"] if s["stage"] == "tile38"]
assert st and st[0]["count"] > 0 and "p99" in st[0]["slo_ms"], st
props = {p.get("name"): p.get("value") for p in ET.parse(d + "/verify.xml").getroot().iter("property")}
assert int(props["latency.tile38.count"]) == st[0]["count"], props
assert abs(float(props["latency.tile38.p99_ms"]) - st[0]["p99_ms"]) < 0.01, (props, st)
assert "latency.tile38.slo.p99_ms" in props, props
names = [c.get("name") for c in ET.parse(d + "/verify.xml").getroot().iter("testcase")]
assert "slo.tile38" in names, names
hgrm = open(d + "/hgrm/tile38.hgrm").read()
assert "#[Max" in hgrm or "Max" in hgrm, hgrm[:200]
print("tile38 stage: %d samples, p99 %.1f ms (SLO %s ms), in text, JSON, JUnit and tile38.hgrm"
      % (st[0]["count"], st[0]["p99_ms"], st[0]["slo_ms"]["p99"]))
PY
# an SLO no Tile38 meets fails verify and names the stage
echo '{"latency_ms": {"tile38": {"p99": 0.001}}}' >"$work/tight.json"
rc=0
"$SKYLOAD" verify "${vargs[@]}" --slo "$work/tight.json" >"$work/tight.txt" 2>&1 || rc=$?
sky_assert_eq "$rc" 1 "verify exit status with a tile38 SLO below the measured p99"
grep -q '^slo.tile38  *FAIL  *tile38 latency (ingest-stats): p99 = ' "$work/tight.txt" ||
  sky_fail "the report does not name slo.tile38: $(cat "$work/tight.txt")"
echo "PASS: the Tile38 sink on the ci scenario"
