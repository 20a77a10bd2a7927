#!/usr/bin/env bash
# Ingest throughput against its two raw peers, in one run on the same stack:
#   ingest   - skyload ingest, topic -> Tile38 + PostgreSQL, rows/s while draining a full topic
#   copy     - a raw PostgreSQL COPY of the same rows into an identical fresh table
#   tile38   - tile38-benchmark SET POINT, pipelined (.stack/bin/tile38-benchmark)
# Target: ingest >= 0.8 x the slower of the two peers.
# Usage: bench/ingest.sh [FLIGHTS=2000] [PER_FLIGHT=100] [BATCH_ROWS=5000]
# Env: SKYLOAD, FILL (default build/ binaries), SKY_BROKERS, SKY_TILE38, PG*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"
sky_need_stack kafka tile38 pg
flights=${1:-2000}
per=${2:-100}
batch=${3:-5000}
rows=$((flights * per))
build=${SKY_BUILD_DIR:-$here/../build}
SKYLOAD=${SKYLOAD:-$build/skyload}
FILL=${FILL:-$build/sky_fixture_produce}
work=$(mktemp -d)
name=$(sky_unique bench_ingest)
peer=${name}_copy
sky_kafka_create_topic "$name" 6
sky_on_exit sky_kafka_delete_topic "$name"
sky_on_exit sky_pg_drop_schema "$name"
sky_on_exit sky_pg_drop_schema "$peer"
sky_on_exit sky_tile38 DROP "$name"
sky_on_exit rm -rf "$work"

"$FILL" "$SKY_BROKERS" "$name" "$rows" "$flights" "run-$name" >/dev/null
echo "topic $name: $rows records ($flights flights x $per)" >&2

# --- ingest: rows/s from its first stored row to the last (group join excluded)
"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$name" -g "$name" --tile38 "$SKY_TILE38" \
  --pg "$SKY_PG_CONNINFO" --init-schema --schema "$name" --collection "$name" \
  --batch-rows "$batch" --stats "$work/stats.json" 2>"$work/ingest.log" &
pid=$!
stop_ingest() { kill "$pid" 2>/dev/null || true; }
sky_on_exit stop_ingest
python3 - "$name" "$rows" >"$work/ingest_rate" <<'PY'
import subprocess, sys, time
schema, n = sys.argv[1], int(sys.argv[2])
def count():
    r = subprocess.run(["psql", "-X", "-A", "-t", "-c",
                        'SELECT count(*) FROM "%s".flight_positions' % schema],
                       capture_output=True, text=True)
    return int(r.stdout.strip() or -1) if r.returncode == 0 else -1
end = time.time() + 600
t0 = c0 = None
while time.time() < end:
    c, t = count(), time.time()
    if c > 0 and t0 is None:
        t0, c0 = t, c
    if c >= n:
        print("%.0f %.2f" % ((n - c0) / max(t - t0, 1e-3), t - t0))
        sys.exit(0)
    time.sleep(0.05)
sys.exit("ingest did not store %d rows in 600 s" % n)
PY
kill -TERM "$pid"
wait "$pid" || true
read -r ingest_rate ingest_secs <"$work/ingest_rate"

# --- raw COPY of the same rows into an identical, empty table (same indexes)
timeout -s TERM 8 "$SKYLOAD" ingest -b "$SKY_BROKERS" -t "${name}_none" -g "${name}_none" \
  --tile38 "$SKY_TILE38" --pg "$SKY_PG_CONNINFO" --init-schema --schema "$peer" \
  2>/dev/null || true
cols='"time", flight_id, seq, geom, altitude_ft, airspeed_kt, airline, flight_number, departure, arrival, intended_at'
sky_psql -c "\\copy (SELECT $cols FROM \"$name\".flight_positions) TO '$work/rows.copy'"
start=$(date +%s.%N)
sky_psql -c "\\copy \"$peer\".flight_positions ($cols) FROM '$work/rows.copy'"
copy_secs=$(echo "$(date +%s.%N) - $start" | bc)
copy_rate=$(echo "$rows / $copy_secs" | bc)

# --- tile38-benchmark SET POINT, pipelined (beside the stack's server: SKY_TILE38_BIN's
# folder when the stack runs an existing binary, else the stack's bin/)
t38=${SKY_TILE38_BENCHMARK:-}
[[ -n $t38 ]] || t38=$( [[ -n ${SKY_TILE38_BIN:-} ]] && echo "$(dirname "$SKY_TILE38_BIN")/tile38-benchmark" ||
  echo "$SKY_STACK_DIR/bin/tile38-benchmark")
[[ -x $t38 ]] || sky_fail "tile38-benchmark not found at $t38 (deploy/local/stack up builds it)"
tile38_rate=$("$t38" -h "${SKY_TILE38%:*}" -p "${SKY_TILE38##*:}" -n "$rows" -c 1 -P 100 -q -t SET-POINT |
  tr '\r' '\n' | sed -n 's/^SET (point): \([0-9.]*\) requests per second.*/\1/p' | tail -1 | cut -d. -f1)
sky_tile38 DROP key:bench >/dev/null

python3 - "$ingest_rate" "$ingest_secs" "$copy_rate" "$copy_secs" "${tile38_rate:-0}" "$rows" \
  "$work/stats.json" <<'PY'
import json, sys
ing, ing_s, cp, cp_s, t38, n = (float(x) for x in sys.argv[1:7])
st = json.load(open(sys.argv[7]))
h = st["latency_us"]
print("rows=%d  ingest %.0f rows/s (%.2f s)  raw COPY %.0f rows/s (%.2f s)  "
      "tile38-benchmark SET %s" % (n, ing, ing_s, cp, cp_s,
                                   "%.0f/s" % t38 if t38 else "failed"))
peers = [p for p in (cp, t38) if p > 0]
print("ingest / slower peer = %.2f (target >= 0.80)" % (ing / min(peers)))
print("stored_pg=%d stored_tile38=%d batches=%d" % (st["stored_pg"], st["stored_tile38"],
                                                    st["batches"]))
PY
