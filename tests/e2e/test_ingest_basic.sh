#!/usr/bin/env bash
# ingest against the real stack: known records (with a duplicate, a reordered
# pair, a malformed record, garbage bytes and header-less records) end up
# exactly once in PostgreSQL, latest-per-flight in Tile38, bad ones in the DLQ
# with skyload-error; /metrics answers; SIGTERM exits 0 with the stats JSON;
# every query of docs/queries.md runs on the ingested data.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
exec 3>&2 # sky_wait_until silences its command: failures inside it report here

sky_fixture e2e_ingest 4
fixture=$SKY_SOURCE_DIR/tests/e2e/test_ingest_fixture.py

base_ms=$(( $(date +%s) * 1000 - 3600 * 1000 ))
"$SKY_PYTHON" "$fixture" produce --brokers "$SKY_BROKERS" --topic "$topic" --prefix "${name}_F" \
  --flights 20 --to-seq 10 --base-ms "$base_ms" --faults >"$work/exp1.json"

"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$topic" -g "$name" --tile38 "$SKY_TILE38" \
  --pg "$SKY_PG_CONNINFO" --init-schema --schema "$schema" --collection "$collection" \
  --batch-ms 100 --metrics 127.0.0.1:0 --stats "$work/stats.json" 2>"$work/ingest.log" &
pid=$!
stop_ingest() { kill -9 "$pid" 2>/dev/null || true; }
sky_on_exit stop_ingest

expected=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rows"])' "$work/exp1.json")
rows_are() {
  kill -0 "$pid" 2>/dev/null || { cat "$work/ingest.log" >&3; sky_fail "ingest exited early" 2>&3; }
  [[ $(sky_psql -c "select count(*) from \"$schema\".flight_positions" 2>/dev/null) == "$1" ]]
}
sky_wait_until 60 "$expected rows in PostgreSQL" rows_are "$expected"

# Prometheus endpoint
port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/ingest.log")
metrics=$(curl -fsS "http://127.0.0.1:$port/metrics")
sky_assert_contains "$metrics" "skyload_ingest_stored_total{sink=\"pg\"} $expected" "metrics pg"
sky_assert_contains "$metrics" "skyload_ingest_dlq_total 2" "metrics dlq"
sky_assert_contains "$metrics" "skyload_ingest_pg_commit_latency_seconds{quantile=\"0.99\"}" "summary"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
sky_assert_eq "$rc" 0 "ingest exit status after SIGTERM"

"$SKY_PYTHON" "$fixture" check --schema "$schema" --collection "$collection" \
  --tile38 "$SKY_TILE38" "$work/exp1.json" || sky_fail "stored data differs (see above)"

python3 - "$work/stats.json" "$expected" "$SKY_TILE38" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); rows = int(sys.argv[2]); tile38 = sys.argv[3] != "none"
assert s["skyload_ingest_stats"] == 1, s
assert s["dlq"] == 2 and s["stored_pg"] == rows, s
assert s["consumed"] == rows + 1 + 2, s            # + the duplicate + 2 bad records
assert s["duplicates_ignored"] == 1, s
assert s["stale_dropped"] >= 1 or not tile38, s    # the reordered seq and the duplicate
assert s["latency_us"]["pg_commit"]["count"] > 0, s
PY

# dead letters: original key and bytes plus skyload-error
timeout 60 "$SKYLOAD" tail -b "$SKY_BROKERS" -t "$topic.dlq" -e >"$work/dlq.jsonl"
sky_assert_eq "$(wc -l <"$work/dlq.jsonl")" 2 "DLQ records"
sky_assert_contains "$(grep '"key":"GARBAGE"' "$work/dlq.jsonl")" '"skyload-error":' "garbage has reason"
sky_assert_contains "$(cat "$work/dlq.jsonl")" 'latitude' "malformed reason names the field"

# docs/queries.md, on the ingested data
f0=${name}_F0000 f3=${name}_F0003
track=$(sky_psql -c "SELECT count(*) FROM \"$schema\".flight_positions
  WHERE flight_id = '$f0' AND time >= to_timestamp($base_ms / 1000.0)
  AND time < to_timestamp($base_ms / 1000.0) + interval '30 seconds'")
sky_assert_eq "$track" 6 "track over a time range (seq 0..5)"
inbox=$(sky_psql -c "SELECT count(DISTINCT flight_id) FROM \"$schema\".flight_positions
  WHERE public.ST_Intersects(geom, public.ST_MakeEnvelope(-131.0, -39.5, -130.0, -38.5, 4326)::public.geography)
  AND time >= to_timestamp($base_ms / 1000.0) AND time < to_timestamp($base_ms / 1000.0) + interval '1 hour'")
sky_assert_ge "$inbox" 1 "flights in a bbox during a time window"
hourly=$(sky_psql -c "SELECT sum(n) FROM (SELECT flight_id, date_bin('1 hour', time, TIMESTAMPTZ '2000-01-01') AS hour,
  count(*) AS n FROM \"$schema\".flight_positions GROUP BY 1, 2) h")
sky_assert_eq "$hourly" "$expected" "hourly positions per flight cover every row"
read -r lat lon < <(sky_psql -F ' ' -c "SELECT public.ST_Y(geom::public.geometry), public.ST_X(geom::public.geometry)
  FROM \"$schema\".flight_positions WHERE flight_id = '$f3' ORDER BY seq DESC LIMIT 1")
within=$(sky_tile38_json WITHIN "$collection" IDS BOUNDS "$(echo "$lat - 0.01" | bc)" \
  "$(echo "$lon - 0.01" | bc)" "$(echo "$lat + 0.01" | bc)" "$(echo "$lon + 0.01" | bc)")
sky_assert_contains "$within" "\"$f3\"" "WITHIN BOUNDS finds the flight"
nearby=$(sky_tile38_json NEARBY "$collection" IDS POINT "$lat" "$lon" 1000)
sky_assert_contains "$nearby" "\"$f3\"" "NEARBY POINT finds the flight"
get=$(sky_tile38_json GET "$collection" "$f3" WITHFIELDS)
sky_assert_contains "$get" '"seq":9' "GET returns the latest seq"
echo "PASS: ingest basic"
