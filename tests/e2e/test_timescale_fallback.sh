#!/usr/bin/env bash
# The native fallback, for real: a throwaway PostgreSQL cluster of its own (made by
# deploy/local/stack with SKY_NO_TIMESCALEDB=1, as the OS user skyload when root, on a
# spare loopback port) where TimescaleDB is installed but NOT preloaded -- the field
# failure: pg_available_extensions lists it, CREATE EXTENSION would end the session
# with FATAL and `skyload run` died with "PostgreSQL rollback: no connection to the
# server". Here:
#   - --print-schema and --init-schema say so in one line with the fix and take native
#     daily partitions; --storage timescaledb refuses with the fix (exit 2);
#   - `skyload run smoke` passes on it and its report names the native table;
#   - the e2e ingest, fault (PostgreSQL restarted mid-run) and run tests pass on it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
sky_need_cmd python3 psql

work=$(mktemp -d)
sky_on_exit rm -rf "$work"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# under /tmp and world-searchable: the cluster runs as user skyload when we are root
fb=$(mktemp -d /tmp/skyload-fallback.XXXXXX)
chmod 755 "$fb"
stack=$SKY_SOURCE_DIR/deploy/local/stack
fb_stack() { SKY_STACK_DIR=$fb SKY_PG_PORT=$port SKY_NO_TIMESCALEDB=1 "$stack" "$@"; }
cleanup_cluster() {
  fb_stack down pg >/dev/null 2>&1 || true
  local real
  real=$(readlink -f "$fb/pg" 2>/dev/null || true)
  [[ -n $real && $real != "$fb/pg" ]] && rm -rf "$real"
  rm -rf "$fb"
}
sky_on_exit cleanup_cluster
sky_log "throwaway cluster without the TimescaleDB preload on 127.0.0.1:$port"
fb_stack up pg >"$work/stack.log" 2>&1 || { cat "$work/stack.log" >&2; sky_fail "could not start the throwaway cluster"; }

conninfo="host=127.0.0.1 port=$port user=skyload dbname=skyload"
fbsql() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$conninfo" -c "$1"; }
available=$(fbsql "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'")
[[ -n $available ]] || sky_skip "TimescaleDB is not installed on this machine: the installed-but-not-preloaded case cannot be made"
sky_assert_eq "$(fbsql "SHOW shared_preload_libraries")" "" "the throwaway cluster preloads nothing"

# --print-schema reads the server (read-only) and says what --init-schema would do
schema=$(sky_unique e2e_fallback)
"$SKYLOAD" ingest --print-schema --pg "$conninfo" --schema "$schema" >"$work/print.sql"
sky_assert_contains "$(head -n1 "$work/print.sql")" "schema \"$schema\": native daily partitions" "print header"
sky_assert_contains "$(cat "$work/print.sql")" "TimescaleDB $available is installed but the server does not preload it" "print says why"
if grep -q 'CREATE EXTENSION IF NOT EXISTS timescaledb' "$work/print.sql"; then
  sky_fail "the printed script would create the unusable extension"
fi

# --storage timescaledb cannot be had here: exit 2 with the fix, nothing created
rc=0
timeout 60 "$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$schema" --no-tile38 --pg "$conninfo" \
  --schema "$schema" --init-schema --storage timescaledb 2>"$work/forced.log" || rc=$?
sky_assert_eq "$rc" 2 "exit status of --storage timescaledb without the preload"
sky_assert_contains "$(cat "$work/forced.log")" "shared_preload_libraries = 'timescaledb'" "the refusal names the fix"
sky_assert_eq "$(fbsql "SELECT count(*) FROM pg_namespace WHERE nspname = '$schema'")" 0 "nothing created by the refused init"

# The field failure: skyload run on this server. One line says why and the fix, the run
# passes on native partitions, the session survives.
topic=$(sky_unique e2e_fallback_run)
sky_on_exit sky_kafka_delete_topic "$topic"
rc=0
timeout 300 "$SKYLOAD" run smoke -b "$SKY_BROKERS" -t "$topic" --group "$topic" --tile38 "$SKY_TILE38" \
  --pg "$conninfo" --schema "$schema" --report "$work/report" >"$work/run.txt" 2>"$work/run.err" || rc=$?
[[ $rc == 0 ]] || { cat "$work/run.txt" "$work/run.err" >&2; sky_fail "run on the cluster without the preload exited $rc"; }
if grep -q 'no connection to the server' "$work/run.err"; then
  sky_fail "the session was lost: $(cat "$work/run.err")"
fi
sky_assert_eq "$(grep -c 'does not preload it' "$work/run.err")" 1 "lines saying TimescaleDB is not preloaded"
sky_assert_contains "$(grep 'does not preload it' "$work/run.err")" \
  "storing positions in native daily partitions instead (fix: shared_preload_libraries = 'timescaledb' in postgresql.conf, then restart PostgreSQL)" \
  "the line gives the fix"
sky_assert_contains "$(grep '^pg.storage' "$work/run.txt")" "natively partitioned table \"$schema\".flight_positions" "report names the storage"
sky_assert_eq "$(fbsql "SELECT relkind FROM pg_class WHERE oid = '\"$schema\".flight_positions'::regclass")" p "flight_positions is partitioned"
sky_assert_eq "$(fbsql "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")" 0 "the extension was never created"
sky_assert_ge "$(fbsql "SELECT count(*) FROM \"$schema\".flight_positions")" 1 "rows stored"

# The e2e ingest, fault and run tests, on this server: the same scripts with PostgreSQL
# pointed here (the pg fault stops and starts this cluster through the same stack script).
inserted() { fbsql "SELECT tup_inserted FROM pg_stat_database WHERE datname = 'skyload'"; }
before=$(inserted)
stops() { grep -c 'database system is shut down' "$(readlink -f "$fb/pg")/server.log" || true; }
stops_before=$(stops)
unset PGPORT SKY_PG_CONNINFO
for t in test_ingest_basic test_ingest_fault_pg test_run_ci; do
  sky_log "$t on native partitions"
  rc=0
  SKY_STACK_DIR=$fb SKY_PG_PORT=$port SKY_NO_TIMESCALEDB=1 \
    bash "$SKY_SOURCE_DIR/tests/e2e/$t.sh" >"$work/$t.log" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { tail -n 60 "$work/$t.log" >&2; sky_fail "$t on native partitions exited $rc"; }
  sky_log "ok: $t passed on native partitions"
done
# they did run here: rows went into this cluster, and the pg fault stopped this one
sky_assert_ge "$(($(inserted) - before))" 5000 "rows the three tests inserted into this cluster"
sky_assert_ge "$(($(stops) - stops_before))" 1 "shutdowns of this cluster by the pg fault"
sky_assert_eq "$(fbsql "SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")" 0 "still no extension after the suite"
echo "PASS: TimescaleDB installed but not preloaded: one line with the fix, native partitions, ingest/fault/run pass"
