#!/usr/bin/env bash
# 10,000 FlightData records from the library producer to a fresh 6-partition
# topic, read back with `skyload tail`: every record present once, decoded
# field for field, every flight on one partition in sequence order. Then the
# seed's own kafka-python consumer must decode all 10,000.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka

topic=$(sky_unique e2e_tail)
sky_kafka_create_topic "$topic" 6
sky_on_exit sky_kafka_delete_topic "$topic"
work=$(mktemp -d)
sky_on_exit rm -rf "$work"

"$SKY_BUILD_DIR/sky_fixture_produce" "$SKY_BROKERS" "$topic" 10000 250 run-tail >"$work/produced.json"
sky_assert_contains "$(cat "$work/produced.json")" '"delivered":10000' "producer delivered all"

timeout 120 "$SKYLOAD" tail -b "$SKY_BROKERS" -t "$topic" -o beginning -e >"$work/tail.jsonl"

python3 - "$work/tail.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 10000, f"expected 10000 records, got {len(recs)}"
seen, part_of, last_seq = set(), {}, {}
for r in sorted(recs, key=lambda r: (r["partition"], r["offset"])):
    assert "error" not in r, f"record failed: {r}"
    v, h = r["value"], r["headers"]
    flight = int(v["flight_id"][2:]); seq = int(h["skyload-seq"])
    assert r["key"] == v["flight_id"]
    assert h["skyload-run"] == "run-tail"
    key = (flight, seq)
    assert key not in seen, f"duplicate {key}"
    seen.add(key)
    # the fixture's field functions (tests/tools/sky_fixture_produce.c)
    assert abs(v["location"]["latitude"] - (-60 + (flight * 7 + seq) % 120 + 0.123456)) < 1e-9
    assert abs(v["location"]["longitude"] - (-170 + (flight * 13 + seq) % 340 + 0.654321)) < 1e-9
    assert v["altitude"] == 1000 + seq * 10 and v["airspeed"] == 100 + flight % 400
    assert v["metadata"] == {"airline": "TST", "flight_number": f"TS{flight}",
                             "departure_airport": "EGLL", "arrival_airport": "KJFK"}, v["metadata"]
    assert part_of.setdefault(flight, r["partition"]) == r["partition"], f"flight {flight} split"
    assert seq == last_seq.get(flight, -1) + 1, f"flight {flight}: seq {seq} after {last_seq.get(flight)}"
    last_seq[flight] = seq
assert len(seen) == 10000 and len(part_of) == 250
print("tail: 10000 records, 250 flights, each on one partition in order")
PY

# A bad record: tail reports it and carries on.
printf 'not a protobuf' | kcat -P -b "$SKY_BROKERS" -t "$topic" -p 0 -k BAD
timeout 60 "$SKYLOAD" tail -b "$SKY_BROKERS" -t "$topic" -e >"$work/tail2.jsonl"
sky_assert_eq "$(wc -l <"$work/tail2.jsonl")" 10001 "records after a bad one"
sky_assert_contains "$(grep '"key":"BAD"' "$work/tail2.jsonl")" '"error":"does not decode' "bad record error"

# The seed's consumer (kafka-python + protoc-generated classes) decodes them all.
timeout 180 "$SKY_PYTHON" "$SKY_SOURCE_DIR/tests/e2e/seed_consumer.py" --brokers "$SKY_BROKERS" \
  --topic "$topic" --group "$(sky_unique seed)" --count 10000 --timeout 120 >"$work/seed.json" ||
  sky_fail "seed consumer did not read 10000 records: $(cat "$work/seed.json")"
sky_assert_contains "$(cat "$work/seed.json")" '"flights": 250' "seed consumer flights"
echo "PASS: tail round trip and seed consumer"
