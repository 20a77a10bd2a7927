#!/usr/bin/env bash
# skyload ingest's schema options without a server: --print-schema prints the SQL of the
# path asked for (--storage timescaledb|native) with the chunk interval, columnstore and
# retention from the flags; auto without a reachable server, an unknown --storage and
# out-of-range durations are refused with the right exit status and a message that says why.
set -euo pipefail
ROOT=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SKYLOAD=${SKYLOAD:-$ROOT/build/skyload}
fail() { echo "FAIL: $*" >&2; exit 1; }
nopg='host=127.0.0.1 port=1 connect_timeout=2' # refused at once: no server is asked
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# expected status | expected text in stdout+stderr | arguments (after `ingest`)
rows=(
  "0|schema \"cli_s\": native daily partitions|--print-schema --storage native --schema cli_s"
  "0|PARTITION BY RANGE (\"time\");|--print-schema --storage native"
  "0|TimescaleDB 2.28.3, assumed: no server was asked|--print-schema --storage timescaledb"
  "0|by_range('time', INTERVAL '1 hour')|--print-schema --storage timescaledb"
  "0|by_range('time', INTERVAL '1 day')|--print-schema --storage timescaledb --chunk-interval 1d"
  "0|after => INTERVAL '90 minutes'|--print-schema --storage timescaledb --compress-after 90m"
  "0|drop_after => INTERVAL '7 days'|--print-schema --storage timescaledb --retention-days 7"
  "0|CREATE MATERIALIZED VIEW IF NOT EXISTS \"public\".flight_minutes|--print-schema --storage timescaledb"
  "3|give --storage timescaledb or native to print without a server|--print-schema"
  "2|expected auto, timescaledb or native|--print-schema --storage Timescale"
  "2|--chunk-interval 10s: give 1m to 365d|--print-schema --storage timescaledb --chunk-interval 10s"
  "2|--compress-after|--print-schema --storage timescaledb --compress-after soon"
  "2|not starting with a digit|--print-schema --storage native --schema 1s"
)
for row in "${rows[@]}"; do
  IFS='|' read -r want text args <<<"$row"
  read -r -a argv <<<"$args"
  rc=0
  "$SKYLOAD" ingest --pg "$nopg" "${argv[@]}" >"$work/out" 2>&1 || rc=$?
  [[ $rc == "$want" ]] || fail "ingest $args: exit $rc, expected $want: $(cat "$work/out")"
  grep -qF -- "$text" "$work/out" || fail "ingest $args: no \"$text\" in: $(cat "$work/out")"
done
# the native script creates today's partition; the TimescaleDB one never partitions
"$SKYLOAD" ingest --pg "$nopg" --print-schema --storage native >"$work/native.sql"
grep -q "flight_positions_p$(date -u +%Y%m%d)\"" "$work/native.sql" || fail "no partition for today"
"$SKYLOAD" ingest --pg "$nopg" --print-schema --storage timescaledb >"$work/ts.sql"
grep -q PARTITION "$work/ts.sql" && fail "the TimescaleDB script partitions natively"
echo "PASS: ${#rows[@]} schema option cases"
