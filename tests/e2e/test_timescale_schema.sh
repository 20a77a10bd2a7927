#!/usr/bin/env bash
# The TimescaleDB path against the real stack (the stack preloads TimescaleDB):
#   - ingest --init-schema makes a hypertable (1 h chunks), columnstore by flight_id
#     ordered by time, columnstore/retention policies, the flight_minutes continuous
#     aggregate and its refresh policy; the extension lives in public;
#   - a second --init-schema changes nothing (catalog snapshot identical), and
#     --print-schema's script, run by psql, makes a schema --init-schema finds complete;
#   - re-delivery into compressed chunks: compress every chunk, replay the same records
#     plus new ones through ingest: nothing stored twice, nothing lost;
#   - the continuous aggregate agrees with the raw rows;
#   - every query of docs/queries.md's TimescaleDB section runs exactly as written;
#   - an existing natively partitioned table is reported and kept, never dropped;
#   - a version-1 schema is brought to version 2 without losing anything.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka pg
exec 3>&2

ts=$(sky_psql -c "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
[[ -n $ts ]] || sky_skip "TimescaleDB is not installed on the stack's PostgreSQL (deploy/local/stack up builds it)"
[[ $(sky_psql -c "SHOW shared_preload_libraries") == *timescaledb* ]] ||
  sky_skip "the stack's PostgreSQL does not preload TimescaleDB (deploy/local/stack restart pg)"

name=$(sky_unique e2e_tsdb)
schema=$name native=${name}_n printed=${name}_p
fixture=$SKY_SOURCE_DIR/tests/e2e/test_ingest_fixture.py
work=$(mktemp -d)
sky_on_exit rm -rf "$work"
for t in "$name" "${name}_replay"; do
  sky_kafka_create_topic "$t" 4
  sky_on_exit sky_kafka_delete_topic "$t"
  sky_on_exit sky_kafka_delete_topic "$t.dlq"
done
for s in "$schema" "$native" "$printed"; do sky_on_exit sky_pg_drop_schema "$s"; done

# ingest_bg LOG GROUP TOPIC SCHEMA [ARGS...]: ingest in the background (PostgreSQL only)
ingest_bg() {
  local log=$1 group=$2 topic=$3 sch=$4
  shift 4
  "$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$topic" -g "$group" --no-tile38 --pg "$SKY_PG_CONNINFO" \
    --schema "$sch" --init-schema --batch-ms 100 --stats "$log.stats.json" "$@" 2>"$log" &
  ingest_pid=$!
}
# stop_ingest: SIGTERM, which stores and commits what was consumed; exit 0 expected
stop_ingest() {
  kill -TERM "$ingest_pid" 2>/dev/null || true
  local rc=0
  wait "$ingest_pid" || rc=$?
  ingest_pid=
  return $rc
}
kill_left() { [[ -z ${ingest_pid:-} ]] || kill -9 "$ingest_pid" 2>/dev/null || true; }
sky_on_exit kill_left
rows_in() { [[ $(sky_psql -c "SELECT count(*) FROM \"$1\".flight_positions" 2>/dev/null) == "$2" ]]; }
# init_only LOG SCHEMA [ARGS...]: --init-schema alone; its exit status (2 = refused)
init_only() {
  local log=$1 sch=$2 i
  shift 2
  ingest_bg "$log" "${name}_init" "${name}_empty" "$sch" "$@"
  for ((i = 0; i < 150; i++)); do
    grep -q 'schema: ' "$log" 2>/dev/null && break
    kill -0 "$ingest_pid" 2>/dev/null || break
    sleep 0.1
  done
  stop_ingest
}
sky_on_exit sky_kafka_delete_topic "${name}_empty"
# catalog: everything --init-schema defines in a schema, one line each
catalog() {
  sky_psql -v s="$1" <<'SQL'
SELECT x FROM (
  SELECT 'dim ' || column_name || ' ' || time_interval FROM timescaledb_information.dimensions
   WHERE hypertable_schema = :'s'
  UNION ALL SELECT 'columnstore ' || attname || ' seg=' || coalesce(segmentby_column_index::text, '-')
         || ' ord=' || coalesce(orderby_column_index::text, '-') || ' asc=' || coalesce(orderby_asc::text, '-')
    FROM timescaledb_information.compression_settings WHERE hypertable_schema = :'s'
  UNION ALL SELECT 'job ' || j.job_id || ' ' || j.proc_name || ' every ' || j.schedule_interval || ' ' || j.config
    FROM timescaledb_information.jobs j WHERE j.hypertable_schema = :'s' OR j.hypertable_name IN
     (SELECT materialization_hypertable_name FROM timescaledb_information.continuous_aggregates
       WHERE view_schema = :'s')
  UNION ALL SELECT 'cagg ' || view_name || ' materialized_only=' || materialized_only || ' '
         || md5(view_definition) FROM timescaledb_information.continuous_aggregates WHERE view_schema = :'s'
  UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = :'s'
  UNION ALL SELECT 'rel ' || c.relname || ' ' || c.relkind::text || ' oid=' || c.oid FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :'s'
  UNION ALL SELECT 'version ' || version || ' ' || timescaledb || ' ' || applied_at
    FROM :"s".skyload_schema) c(x)
ORDER BY x;
SQL
}

# ---- 1. the schema -----------------------------------------------------------
hour_ms=$((($(date +%s) / 3600 - 3) * 3600 * 1000)) # 3 h ago: one whole, closed chunk
base_ms=$((hour_ms + 60000))
produce() { # produce TOPIC FROM TO > expected.json
  "$SKY_PYTHON" "$fixture" produce --brokers "$SKY_BROKERS" --topic "$1" --prefix "${name}_F" \
    --flights 20 --from-seq "$2" --to-seq "$3" --base-ms "$base_ms"
}
produce "$name" 0 10 >"$work/exp1.json"
ingest_bg "$work/ingest1.log" "${name}_g1" "$name" "$schema"
sky_wait_until 60 "200 rows in $schema" rows_in "$schema" 200
stop_ingest || { cat "$work/ingest1.log" >&2; sky_fail "first ingest did not exit 0"; }
sky_assert_contains "$(cat "$work/ingest1.log")" \
  "\"$schema\".flight_positions is a TimescaleDB $ts hypertable (chunks of 1 hour, columnstore after 2 hours, kept 30 days, continuous aggregate flight_minutes)" \
  "init says what it made"

cat0=$(catalog "$schema")
echo "$cat0" >"$work/catalog1.txt"
sky_assert_contains "$cat0" "dim time 01:00:00" "chunk interval 1 hour"
sky_assert_contains "$cat0" "columnstore flight_id seg=1 ord=- asc=-" "segmented by flight_id"
sky_assert_contains "$cat0" "columnstore time seg=- ord=1 asc=true" "ordered by time"
sky_assert_contains "$cat0" 'policy_compression every 00:30:00 {"hypertable_id"' "columnstore policy"
sky_assert_contains "$cat0" '"compress_after": "02:00:00"' "columnstore after 2 hours"
sky_assert_contains "$cat0" '"drop_after": "30 days"' "retention policy"
sky_assert_contains "$cat0" 'policy_refresh_continuous_aggregate every 00:01:00 {"end_offset": "00:01:00", "start_offset": "29 days"' "aggregate refresh policy"
sky_assert_contains "$cat0" "cagg flight_minutes materialized_only=false" "real-time continuous aggregate"
sky_assert_contains "$cat0" "UNIQUE INDEX" "a unique index"
sky_assert_contains "$cat0" "USING gist (geom)" "GiST on geom"
sky_assert_contains "$cat0" "version 2 true" "schema version row"
sky_assert_eq "$(sky_psql -c "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'timescaledb'")" \
  public "the extension lives in public, not in a run's schema"
unique_cols=$(sky_psql -c "SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM pg_index x
  CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(att, i) JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.att
  WHERE x.indrelid = '\"$schema\".flight_positions'::regclass AND x.indisunique")
sky_assert_eq "$unique_cols" "flight_id,time" "the unique index (re-delivery key) includes time"

# ---- 2. idempotent -----------------------------------------------------------
init_only "$work/init2.log" "$schema" || { cat "$work/init2.log" >&2; sky_fail "second --init-schema failed"; }
sky_assert_contains "$(cat "$work/init2.log")" "\"$schema\" is at version 2 (a TimescaleDB hypertable): nothing to change" "second init reports nothing to do"
cat1=$(catalog "$schema")
[[ $cat1 == "$cat0" ]] || { diff <(echo "$cat0") <(echo "$cat1") >&2; sky_fail "a second --init-schema changed the catalog"; }
sky_log "ok: catalog identical after a second --init-schema ($(wc -l <<<"$cat0") lines)"
"$SKYLOAD" ingest --print-schema --pg "$SKY_PG_CONNINFO" --schema "$schema" >"$work/print-again.sql"
sky_assert_contains "$(cat "$work/print-again.sql")" "--init-schema runs nothing" "print on an initialised schema"

# --print-schema's script is what --init-schema runs: psql runs it, init finds it complete
"$SKYLOAD" ingest --print-schema --pg "$SKY_PG_CONNINFO" --schema "$printed" >"$work/print.sql"
sky_assert_contains "$(head -n1 "$work/print.sql")" "schema \"$printed\": TimescaleDB hypertable (TimescaleDB $ts)" "print header"
sky_psql -f "$work/print.sql" >/dev/null 2>"$work/print-run.log" || { cat "$work/print-run.log" >&2; sky_fail "psql could not run the printed script"; }
init_only "$work/init-printed.log" "$printed" || { cat "$work/init-printed.log" >&2; sky_fail "init after the printed script failed"; }
sky_assert_contains "$(cat "$work/init-printed.log")" "\"$printed\" is at version 2 (a TimescaleDB hypertable): nothing to change" "printed script = init"
sky_assert_eq "$(catalog "$printed" | grep -c '^cagg flight_minutes\|^job ')" 4 "printed script made the aggregate and 3 policies"

# ---- 3. re-delivery into compressed chunks -------------------------------------
sky_psql -c "SELECT count(public.compress_chunk(c, if_not_compressed => true))
  FROM public.show_chunks('\"$schema\".flight_positions') c" >/dev/null
sky_assert_eq "$(sky_psql -c "SELECT bool_and(is_compressed) FROM timescaledb_information.chunks
  WHERE hypertable_schema = '$schema' AND hypertable_name = 'flight_positions'")" t "every chunk compressed"
sky_assert_eq "$(sky_psql -c "SELECT count(*) FROM ONLY \"$schema\".flight_positions")" 0 "no rows outside the chunks"
# the same 200 records again, then 200 new ones of the same (compressed) hour
produce "${name}_replay" 0 10 >"$work/exp1-again.json"
produce "${name}_replay" 10 20 >"$work/exp2.json"
ingest_bg "$work/ingest2.log" "${name}_g2" "${name}_replay" "$schema"
sky_wait_until 90 "400 rows in $schema" rows_in "$schema" 400
stop_ingest || { cat "$work/ingest2.log" >&2; sky_fail "replay ingest did not exit 0"; }
python3 - "$work/ingest2.log.stats.json" <<'PY' || sky_fail "replay stats differ (above)"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["consumed"] == 400 and s["stored_pg"] == 200 and s["duplicates_ignored"] == 200, s
print("replay: consumed 400, stored 200 new, 200 duplicates ignored")
PY
sky_assert_eq "$(sky_psql -c "SELECT count(*) = count(DISTINCT (flight_id, time)) FROM \"$schema\".flight_positions")" t "nothing stored twice"
"$SKY_PYTHON" "$fixture" check --schema "$schema" --collection none --tile38 none \
  "$work/exp1.json" "$work/exp2.json" || sky_fail "stored rows differ from what was produced"
sky_assert_eq "$(sky_psql -c "SELECT count(*) FROM timescaledb_information.chunks
  WHERE hypertable_schema = '$schema' AND hypertable_name = 'flight_positions' AND is_compressed")" 1 "the chunk is still in the columnstore"

# ---- 4. the continuous aggregate agrees with the raw rows ------------------------
sky_psql -c "CALL public.refresh_continuous_aggregate('\"$schema\".flight_minutes', NULL, NULL)" >/dev/null
diffs=$(sky_psql -c "WITH raw AS (
    SELECT flight_id, public.time_bucket('1 minute', time) AS minute, count(*) AS positions,
           max(altitude_ft) AS max_alt, public.last(geom::public.geometry, time) AS geom
    FROM \"$schema\".flight_positions GROUP BY 1, 2)
  SELECT count(*) FROM raw FULL JOIN \"$schema\".flight_minutes m USING (flight_id, minute)
  WHERE raw.positions IS DISTINCT FROM m.positions OR raw.max_alt IS DISTINCT FROM m.max_altitude_ft
     OR NOT public.ST_Equals(raw.geom, m.geom::public.geometry)")
sky_assert_eq "$diffs" 0 "flight_minutes rows differing from the raw rows"
sky_assert_eq "$(sky_psql -c "SELECT sum(positions) FROM \"$schema\".flight_minutes")" 400 "positions in the aggregate"

# ---- 5. docs/queries.md's TimescaleDB queries, exactly as written ---------------
python3 - "$SKY_SOURCE_DIR/docs/queries.md" "$work/q" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
section = text.split("\n## TimescaleDB", 1)[1].split("\n## ", 1)[0]
title, n = "", 0
for block in re.split(r"(^### [^\n]*$|^```sql\n.*?^```$)", section, flags=re.S | re.M):
    if block.startswith("### "):
        title = block[4:].strip()
    elif block.startswith("```sql"):
        n += 1
        open("%s%d.sql" % (sys.argv[2], n), "w").write(block[len("```sql\n"):-3])
        open("%s%d.title" % (sys.argv[2], n), "w").write(title)
assert n >= 6, "expected at least 6 SQL blocks in the TimescaleDB section, found %d" % n
PY
f3=${name}_F0003
read -r lat3 lon3 < <(sky_psql -F ' ' -c "SELECT public.ST_Y(geom::public.geometry), public.ST_X(geom::public.geometry)
  FROM \"$schema\".flight_positions WHERE flight_id = '$f3' ORDER BY time DESC LIMIT 1")
from=$(sky_psql -c "SELECT to_timestamp($hour_ms / 1000.0)")
to=$(sky_psql -c "SELECT to_timestamp($hour_ms / 1000.0) + interval '1 hour'")
vars=(-v "flight=$f3" -v "from=$from" -v "to=$to"
  -v "lon_min=$(echo "$lon3 - 0.01" | bc)" -v "lat_min=$(echo "$lat3 - 0.01" | bc)"
  -v "lon_max=$(echo "$lon3 + 0.01" | bc)" -v "lat_max=$(echo "$lat3 + 0.01" | bc)")
nq=0
for q in "$work"/q*.sql; do
  title=$(cat "${q%.sql}.title")
  out=$(PGOPTIONS="-c search_path=$schema,public -c client_min_messages=warning" sky_psql -F '|' "${vars[@]}" -f "$q") ||
    sky_fail "docs/queries.md \"$title\" failed: $(cat "$q")"
  nq=$((nq + 1))
  case $title in
  *time_bucket*)
    sky_assert_eq "$(awk -F'|' '{s += $3} END {print s}' <<<"$out")" 400 "\"$title\": positions in the window" ;;
  *"last position"*)
    sky_assert_eq "$(wc -l <<<"$out")" 20 "\"$title\": one row per flight"
    sky_assert_contains "$(grep "^$f3|" <<<"$out")" "|$lat3|$lon3|" "\"$title\": $f3's last position" ;;
  *"minute by minute"*)
    if [[ $(cat "$q") == CALL* ]]; then
      sky_log "ok: \"$title\": refresh_continuous_aggregate ran"
    else
      sky_assert_eq "$(awk -F'|' '{s += $2} END {print s}' <<<"$out")" 20 "\"$title\": $f3's positions by minute"
      sky_assert_contains "$(tail -n1 <<<"$out")" "|$lat3|$lon3|" "\"$title\": $f3's last minute ends at its last position"
    fi ;;
  *"bounding box"*)
    sky_assert_contains "$out" "$f3|" "\"$title\": $f3 inside a box around its last position" ;;
  *Chunks*)
    if [[ $(cat "$q") == *hypertable_columnstore_stats* ]]; then
      ratio=$(awk -F'|' '{print $5}' <<<"$out")
      sky_assert_eq "$(awk -F'|' '{print $2}' <<<"$out")" 1 "\"$title\": compressed chunks"
      [[ -n $ratio ]] || sky_fail "\"$title\": no compression ratio in: $out"
      sky_log "ok: \"$title\": ratio $ratio"
    else
      sky_assert_contains "$out" "|t" "\"$title\": a compressed chunk listed"
    fi ;;
  *) sky_fail "docs/queries.md has a TimescaleDB query this test does not check: \"$title\"" ;;
  esac
done
sky_log "ok: $nq queries of docs/queries.md ran as written"

# ---- 6. an existing natively partitioned table is reported and kept --------------
ingest_bg "$work/native1.log" "${name}_g3" "$name" "$native" --storage native
sky_wait_until 60 "200 rows in $native" rows_in "$native" 200
stop_ingest || { cat "$work/native1.log" >&2; sky_fail "native ingest did not exit 0"; }
init_only "$work/native2.log" "$native" || { cat "$work/native2.log" >&2; sky_fail "init on the native schema failed"; }
sky_assert_contains "$(cat "$work/native2.log")" \
  "\"$native\".flight_positions exists as a natively partitioned table (made without TimescaleDB); kept with its rows" \
  "the existing native table is reported"
rc=0
init_only "$work/native3.log" "$native" --storage timescaledb || rc=$?
sky_assert_eq "$rc" 2 "exit status of --storage timescaledb on a native table"
sky_assert_contains "$(cat "$work/native3.log")" "it is never dropped" "the refusal says the table is kept"
sky_assert_eq "$(sky_psql -c "SELECT relkind FROM pg_class WHERE oid = '\"$native\".flight_positions'::regclass")" p "still natively partitioned"
sky_assert_eq "$(sky_psql -c "SELECT count(*) FROM \"$native\".flight_positions")" 200 "rows of the native table kept"
# ---- 7. a version-1 schema (1-day chunks, compression policy after 1 day, no aggregate,
# a compressed chunk) is brought to version 2: aggregate added, nothing dropped ----------
v1=${name}_v1
sky_on_exit sky_pg_drop_schema "$v1"
sky_psql -v s="$v1" >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA :"s";
CREATE TABLE :"s".skyload_schema (version integer PRIMARY KEY, timescaledb boolean NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE :"s".flights (flight_id text PRIMARY KEY, airline text, flight_number text,
  departure text, arrival text, first_seen timestamptz NOT NULL);
CREATE TABLE :"s".flight_positions ("time" timestamptz NOT NULL, flight_id text NOT NULL, seq bigint,
  geom public.geography(Point, 4326) NOT NULL, altitude_ft integer, airspeed_kt integer,
  airline text, flight_number text, departure text, arrival text, intended_at timestamptz,
  stored_at timestamptz NOT NULL DEFAULT now(), CONSTRAINT flight_positions_flight_time UNIQUE (flight_id, "time"));
SELECT public.create_hypertable(format('%I.flight_positions', :'s'), public.by_range('time', INTERVAL '1 day'));
ALTER TABLE :"s".flight_positions SET (timescaledb.compress, timescaledb.compress_segmentby = 'flight_id',
  timescaledb.compress_orderby = 'time DESC');
SELECT public.add_compression_policy(format('%I.flight_positions', :'s'), INTERVAL '1 days');
SELECT public.add_retention_policy(format('%I.flight_positions', :'s'), INTERVAL '30 days');
INSERT INTO :"s".flight_positions ("time", flight_id, seq, geom)
  VALUES (now() - interval '3 days', 'V1', 0, 'POINT(1 2)');
SELECT public.compress_chunk(c) FROM public.show_chunks(format('%I.flight_positions', :'s')) c;
INSERT INTO :"s".skyload_schema (version, timescaledb) VALUES (1, true);
SQL
init_only "$work/v1.log" "$v1" || { cat "$work/v1.log" >&2; sky_fail "init of a version-1 schema failed"; }
catv1=$(catalog "$v1")
sky_assert_contains "$catv1" "version 2 true" "version-1 schema brought to version 2"
sky_assert_contains "$catv1" "cagg flight_minutes materialized_only=false" "aggregate added to the version-1 schema"
sky_assert_contains "$catv1" '"compress_after": "1 day"' "the existing compression policy kept"
sky_assert_contains "$catv1" "dim time 1 day" "the existing chunk interval kept"
sky_assert_eq "$(sky_psql -c "SELECT count(*) FROM \"$v1\".flight_positions")" 1 "the compressed row kept"
sky_assert_eq "$(sky_psql -c "SELECT count(*) FROM \"$v1\".flight_minutes")" 1 "the aggregate sees the old row"

echo "PASS: TimescaleDB schema, idempotent init, re-delivery into compressed chunks, aggregate, docs queries, native kept"
