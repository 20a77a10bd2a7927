#!/usr/bin/env bash
# verify must name real pipeline failures: a clean run passes; rows deleted from
# PostgreSQL -> the missing (flight, seq); a record produced out of order -> the
# ordering violation; a flight split across partitions -> named; an SLO below the
# measured p99 -> fails with the figure; an unreachable server -> exit 3.
# Records come from bench_verify_fill (library producer), rows from psql.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka pg
fill=$SKY_BUILD_DIR/bench_verify_fill
[[ -x $fill ]] || sky_fail "$fill not built"

work=$(mktemp -d)
sky_on_exit rm -rf "$work"
schema=$(sky_unique e2e_verify)
sky_on_exit sky_pg_drop_schema "$schema"

# ---- a clean run, then the same topic with rows deleted in PostgreSQL ----
topic=$(sky_unique e2e_verify_ok)
sky_kafka_create_topic "$topic" 6
sky_on_exit sky_kafka_delete_topic "$topic"
"$fill" -b "$SKY_BROKERS" -t "$topic" -f 40 -n 25 -r "run-$topic" -m "$work/ok.json" 2>/dev/null

sky_psql -c "CREATE SCHEMA $schema;
CREATE TABLE $schema.flight_positions (time timestamptz, flight_id text, seq bigint, geom text,
  altitude_ft int, airspeed_kt int, airline text, flight_number text, departure text,
  arrival text, intended_at timestamptz, stored_at timestamptz, UNIQUE (flight_id, time));
INSERT INTO $schema.flight_positions (time, flight_id, seq, intended_at, stored_at)
  SELECT now() + s * interval '5 s', 'BV' || lpad(f::text, 8, '0'), s, now(),
         now() + (10 + s) * interval '1 ms'
  FROM generate_series(0, 39) f, generate_series(0, 24) s;" >/dev/null

common=(-b "$SKY_BROKERS" --pg "$SKY_PG_CONNINFO" --schema "$schema" --skip tile38)
sky_assert_exit 0 "clean run passes" "$SKYLOAD" verify --manifest "$work/ok.json" "${common[@]}" \
  -o "$work/ok.txt"
sky_assert_contains "$(cat "$work/ok.txt")" "all 1000 expected rows stored" "pg check counted"

sky_psql -c "DELETE FROM $schema.flight_positions WHERE flight_id = 'BV00000007' AND seq IN (3, 17)" >/dev/null
rc=0
"$SKYLOAD" verify --manifest "$work/ok.json" "${common[@]}" --format json -o "$work/del.json" || rc=$?
sky_assert_eq "$rc" 1 "deleted rows fail verify"
python3 - "$work/del.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
pg = next(c for c in r["checks"] if c["name"] == "pg.complete")
assert pg["status"] == "fail", pg
got = sorted((e["flight_id"], e["seq"]) for e in pg["examples"])
assert got == [("BV00000007", 3), ("BV00000007", 17)], got
assert pg["counts"]["missing"] == 2, pg["counts"]
assert all(c["status"] == "pass" for c in r["checks"] if c["name"].startswith("kafka.")), r
PY
sky_log "ok: deleted rows named as missing (BV00000007 seq 3 and 17)"

# ---- SLO below the measured p99 (rows are stored 10..34 ms after intended) ----
echo '{"latency_ms": {"pg_commit": {"p99": 5}}}' >"$work/slo.json"
rc=0
"$SKYLOAD" verify --manifest "$work/ok.json" "${common[@]}" --skip kafka,dlq --slo "$work/slo.json" \
  --format junit -o "$work/slo.xml" || rc=$?
sky_assert_eq "$rc" 1 "SLO below p99 fails"
sky_assert_contains "$(cat "$work/slo.xml")" 'name="slo.pg_commit_table"' "JUnit testcase for the SLO"
sky_assert_contains "$(cat "$work/slo.xml")" 'p99 = 34.' "SLO failure carries the measured p99"
printf 'latency_ms:\n  pg_commit:\n    p99: 1000\n' >"$work/slo.yaml"
sky_assert_exit 1 "YAML SLO still fails on the deleted rows only" "$SKYLOAD" verify \
  --manifest "$work/ok.json" "${common[@]}" --skip kafka,dlq --slo "$work/slo.yaml" -o "$work/y.txt"
sky_assert_contains "$(cat "$work/y.txt")" "pg_commit_table latency within its SLO" "YAML SLO met"

# ---- out-of-order record and split flight ----
topic2=$(sky_unique e2e_verify_bad)
sky_kafka_create_topic "$topic2" 6
sky_on_exit sky_kafka_delete_topic "$topic2"
"$fill" -b "$SKY_BROKERS" -t "$topic2" -f 20 -n 10 -r "run-$topic2" -m "$work/bad.json" \
  --split 3 --swap 5:4 2>/dev/null
rc=0
"$SKYLOAD" verify --manifest "$work/bad.json" -b "$SKY_BROKERS" --skip pg,tile38 --format json \
  -o "$work/bad.out" || rc=$?
sky_assert_eq "$rc" 1 "order violation and split flight fail verify"
python3 - "$work/bad.out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = {c["name"]: c for c in r["checks"]}
o = c["kafka.ordering"]
assert o["status"] == "fail" and [(e["flight_id"], e["seq"]) for e in o["examples"]] == [("BV00000005", 4)], o
p = c["kafka.partitioning"]
assert p["status"] == "fail" and [e["flight_id"] for e in p["examples"]] == ["BV00000003"], p
assert c["kafka.complete"]["status"] == "pass", c["kafka.complete"]
PY
sky_log "ok: ordering violation (BV00000005 seq 4) and split flight (BV00000003) named"

# ---- the same reorder declared as an injected fault is not a failure ----
topic3=$(sky_unique e2e_verify_fault)
sky_kafka_create_topic "$topic3" 6
sky_on_exit sky_kafka_delete_topic "$topic3"
"$fill" -b "$SKY_BROKERS" -t "$topic3" -f 20 -n 10 -r "run-$topic3" -m "$work/fault.json" \
  --swap 5:4 --swap-declared 2>/dev/null
sky_assert_exit 0 "declared reorder fault passes" "$SKYLOAD" verify --manifest "$work/fault.json" \
  -b "$SKY_BROKERS" --skip pg,tile38 -o "$work/fault.txt"
sky_assert_contains "$(cat "$work/fault.txt")" "1 injected reorders" "reorder counted as injected"

# ---- unreachable server and usage errors ----
sky_assert_exit 3 "unreachable PostgreSQL exits 3" "$SKYLOAD" verify --manifest "$work/ok.json" \
  --skip kafka,dlq,tile38 --pg "host=127.0.0.1 port=1 connect_timeout=2" -o /dev/null
sky_assert_exit 2 "no manifest is a usage error" "$SKYLOAD" verify --skip tile38
