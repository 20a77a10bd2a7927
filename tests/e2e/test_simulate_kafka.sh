#!/usr/bin/env bash
# simulate against the real Kafka: it creates the topic with the scenario's
# partition count, every record is acknowledged, the manifest's partitions and
# counts match the topic, every flight sits on its murmur2 partition, and the
# seed's own kafka-python consumer decodes everything simulate sent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# Only Kafka is needed here (not Tile38 or PostgreSQL).
h=${SKY_BROKERS%%,*}
timeout 2 bash -c "exec 3<>/dev/tcp/${h%:*}/${h##*:}" 2>/dev/null ||
  sky_skip "Kafka not reachable on $h (start it with deploy/local/stack up)"
sky_need_cmd kcat

topic=$(sky_unique e2e_simulate)
sky_on_exit sky_kafka_delete_topic "$topic"
work=$(mktemp -d)
sky_on_exit rm -rf "$work"

# ci scenario: 500 aircraft, all fault kinds, 60 simulated seconds at 10x
timeout 120 "$SKYLOAD" simulate -s ci -b "$SKY_BROKERS" -t "$topic" --partitions 4 \
  --manifest "$work/m.json" --json >"$work/summary.json"
sky_log "summary: $(cat "$work/summary.json")"
sky_assert_eq "$(sky_kafka_partitions "$topic")" 4 "partitions of the created topic"

python3 - "$work/m.json" "$work/summary.json" <<'PY'
import json, sys
m, s = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
t = m["totals"]
assert t["produced"] > 5000 and t["delivered"] == t["produced"] and t["failed"] == 0, t
assert s["delivered"] == t["produced"], s
assert sum(p["count"] for p in m["partitions"]) == t["produced"], m["partitions"]
assert all(p["last_offset"] - p["first_offset"] + 1 == p["count"] for p in m["partitions"] if p["count"])
assert {f["kind"] for f in m["faults"]} >= {"drop", "duplicate", "malformed"}, "faults missing"
assert "slo" in m and m["ack_latency_us"]["count"] == t["produced"]
PY

# Records in the topic: as many as the manifest says, each flight on its recorded partition.
timeout 120 "$SKYLOAD" tail -b "$SKY_BROKERS" -t "$topic" -e >"$work/tail.jsonl"
python3 - "$work/tail.jsonl" "$work/m.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[2]))
part = {f["id"]: f["partition"] for f in m["flights"]}
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line); n += 1
    assert part[r["key"]] == r["partition"], f"{r['key']} on {r['partition']}, manifest {part[r['key']]}"
    assert r["headers"]["skyload-run"] == m["run_id"]
assert n == m["totals"]["produced"], (n, m["totals"]["produced"])
print(f"topic: {n} records, every flight on its murmur2 partition")
PY

# The seed's consumer reads every record simulate produced.
count=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["produced"])' "$work/m.json")
timeout 240 "$SKY_PYTHON" "$SKY_SOURCE_DIR/tests/e2e/seed_consumer.py" --brokers "$SKY_BROKERS" \
  --topic "$topic" --group "$(sky_unique seed)" --count "$count" --timeout 180 >"$work/seed.json" ||
  sky_fail "seed consumer did not read $count records: $(cat "$work/seed.json")"
sky_assert_contains "$(cat "$work/seed.json")" "\"count\": $count" "seed consumer count"
echo "PASS: simulate -> Kafka ($count records) -> seed consumer"
