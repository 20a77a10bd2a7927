#!/usr/bin/env bash
# Ingest throughput against its raw peers, in one run on the same stack:
#   ingest   - skyload ingest draining a filled topic into PostgreSQL (+ Tile38): rows/s from
#              its first stored row to the last (the group join is not counted), read from
#              its /metrics (no query on the table it is writing)
#   copy     - a raw PostgreSQL COPY of the same rows (exported from ingest's table) into an
#              identical fresh table (same schema, indexes, partitions or hypertable) by the
#              same number of connections, each a share of the rows, at the same time
#   tile38   - tile38-benchmark SET POINT, one connection, 100 per pipeline, beside ingest's
#              own Tile38 stage (its rows / the time its Tile38 thread spent writing)
# Targets: ingest >= 1.0 x the raw COPY (issue 17); ingest's Tile38 stage >= 0.8 x
# tile38-benchmark (issue 16).
# Usage: bench/ingest.sh [FLIGHTS=2000] [PER_FLIGHT=100] [BATCH_ROWS=20000]
# Env: SKYLOAD (the binary under test, e.g. an older build for an A/B), FILL,
#      SKY_PG_CONNECTIONS (ingest --pg-connections; default: ingest's own default),
#      SKY_INGEST_TILE38=none (PostgreSQL only), SKY_BROKERS, SKY_TILE38, PG*.
#      SKY_BENCH_SCHEMA_ARGS: --init-schema options for both tables, e.g. "--storage
#      native" (default: none, i.e. auto). bench/ingest_paths.sh runs both paths.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"
sky_need_stack kafka tile38 pg
flights=${1:-2000}
per=${2:-100}
batch=${3:-20000}
rows=$((flights * per))
build=${SKY_BUILD_DIR:-$here/../build}
SKYLOAD=${SKYLOAD:-$build/skyload}
FILL=${FILL:-$build/sky_fixture_produce}
tile38=${SKY_INGEST_TILE38:-$SKY_TILE38}
work=$(mktemp -d)
read -r -a schema_args <<<"${SKY_BENCH_SCHEMA_ARGS:-}"
name=$(sky_unique bench_ingest)
peer=${name}_copy
sky_kafka_create_topic "$name" 6
sky_on_exit sky_kafka_delete_topic "$name"
sky_on_exit sky_pg_drop_schema "$name"
sky_on_exit sky_pg_drop_schema "$peer"
sky_on_exit sky_tile38 DROP "$name"
sky_on_exit rm -rf "$work"

"$FILL" "$SKY_BROKERS" "$name" "$rows" "$flights" "run-$name" >/dev/null
echo "topic $name: $rows records ($flights flights x $per), ingest $SKYLOAD" >&2

# --- ingest
conns=()
[[ -n ${SKY_PG_CONNECTIONS:-} ]] && conns=(--pg-connections "$SKY_PG_CONNECTIONS")
"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$name" -g "$name" --tile38 "$tile38" \
  --pg "$SKY_PG_CONNINFO" --init-schema --schema "$name" --collection "$name" \
  --batch-rows "$batch" "${conns[@]}" --metrics 127.0.0.1:0 --stats "$work/stats.json" \
  "${schema_args[@]}" 2>"$work/ingest.log" &
pid=$!
stop_ingest() { kill "$pid" 2>/dev/null || true; }
sky_on_exit stop_ingest
# CPU seconds of each process over the drain (first stored row to the last): the per-row
# costs docs/capacity.md sizes a deployment from
kafka_pid=$(cat "$SKY_STACK_DIR/kafka/pid" 2>/dev/null || echo 0)
pg_pid=$(head -1 "$SKY_STACK_DIR/pg/data/postmaster.pid" 2>/dev/null || echo 0)
t38_pid=$(cat "$SKY_STACK_DIR/tile38/pid" 2>/dev/null || echo 0)
python3 - "$work/ingest.log" "$rows" "$pid" "$kafka_pid" "$pg_pid" "$t38_pid" \
  >"$work/ingest_rate" 2>"$work/ingest_cpu" <<'PY'
import os, re, sys, time, urllib.request
log, n = sys.argv[1], int(sys.argv[2])
pids = dict(zip(("ingest", "kafka", "postgres", "tile38"), (int(x) for x in sys.argv[3:7])))
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid, children):
    """utime + stime (+ the live children's, + the reaped ones'), seconds; 0 when gone."""
    def one(p, waited):
        try:
            f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
        except OSError:
            return 0
        return int(f[11]) + int(f[12]) + (int(f[13]) + int(f[14]) if waited else 0)
    t = one(pid, children)
    if children:
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    if int(open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()[1]) == pid:
                        t += one(int(d), False)
                except (OSError, IndexError, ValueError):
                    pass
    return t / tick
def cpus():
    return {k: cpu(p, k == "postgres") for k, p in pids.items() if p > 0}
end, url = time.time() + 600, None
while url is None and time.time() < end:
    m = re.search(r"metrics on (http://\S+/metrics)", open(log).read())
    url = m.group(1) if m else time.sleep(0.05)
def stored():
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    return int(re.search(r'^skyload_ingest_stored_total\{sink="pg"\} (\d+)', text, re.M).group(1))
t0 = c0 = None
while time.time() < end:
    c, t = stored(), time.time()
    if c > 0 and t0 is None:
        t0, c0, cpu0 = t, c, cpus()
    if c >= n:
        print("%.0f %.2f" % ((n - c0) / max(t - t0, 1e-3), t - t0))
        cpu1 = cpus()
        for k in cpu1:  # seconds of CPU per 100,000 rows
            print("%s %.3f" % (k, (cpu1[k] - cpu0.get(k, 0)) * 1e5 / max(n - c0, 1)), file=sys.stderr)
        sys.exit(0)
    time.sleep(0.01)
sys.exit("ingest did not store %d rows in 600 s" % n)
PY
kill -TERM "$pid"
wait "$pid" || true
read -r ingest_rate ingest_secs <"$work/ingest_rate"
nconn=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("pg_connections", 1))' \
  "$work/stats.json")

# --- raw COPY of the same rows into an identical, empty table (same indexes), by the same
# number of connections at once
timeout -s TERM 8 "$SKYLOAD" ingest -b "$SKY_BROKERS" -t "${name}_none" -g "${name}_none" \
  --tile38 none --pg "$SKY_PG_CONNINFO" --init-schema --schema "$peer" \
  "${schema_args[@]}" 2>/dev/null || true
sky_on_exit sky_kafka_delete_topic "${name}_none"
cols='"time", flight_id, seq, geom, altitude_ft, airspeed_kt, airline, flight_number, departure, arrival, intended_at'
sky_psql -c "\\copy (SELECT $cols FROM \"$name\".flight_positions) TO '$work/rows.copy'"
split -n "r/$nconn" -d -a 2 "$work/rows.copy" "$work/part."
# Every part.NN (+ SUFFIX) COPYed at once, one connection each; prints the seconds.
timed_copy() {
  local suffix=$1 opts=$2 start f
  start=$(date +%s.%N)
  for f in "$work"/part.??; do
    sky_psql -c "\\copy \"$peer\".flight_positions ($cols) FROM '$f$suffix'$opts" >/dev/null &
  done
  wait
  echo "$(date +%s.%N) - $start" | bc
}
copy_secs=$(timed_copy "" "")
copy_rate=$(echo "$rows / $copy_secs" | bc)
[[ $(sky_psql -c "SELECT count(*) FROM \"$peer\".flight_positions") == "$rows" ]] ||
  sky_fail "the raw COPY did not store $rows rows"
# the same in COPY's binary form (what ingest sends when the columns are the ones it knows):
# the fastest a client can hand PostgreSQL these rows
sky_psql -c "TRUNCATE \"$peer\".flight_positions"
sky_psql -c "CREATE TABLE \"$peer\".conv AS SELECT * FROM \"$peer\".flight_positions LIMIT 0" >/dev/null
for f in "$work"/part.??; do
  sky_psql -c "\copy \"$peer\".conv ($cols) FROM '$f'" >/dev/null
  sky_psql -c "\copy (SELECT $cols FROM \"$peer\".conv) TO '$f.bin' WITH (FORMAT binary)" >/dev/null
  sky_psql -c "TRUNCATE \"$peer\".conv" >/dev/null
done
bin_secs=$(timed_copy .bin " WITH (FORMAT binary)")
bin_rate=$(echo "$rows / $bin_secs" | bc)

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
  "$nconn" "$bin_rate" "$bin_secs" "$work/stats.json" "$work/ingest_cpu" <<'PY'
import json, sys
ing, ing_s, cp, cp_s, t38, n, nc, bn, bn_s = (float(x) for x in sys.argv[1:10])
st = json.load(open(sys.argv[10]))
cpu = dict(l.split() for l in open(sys.argv[11]) if len(l.split()) == 2)
stages = st.get("stages_us", {})
def total_s(h):  # a histogram's sum: count x mean, seconds
    return h.get("sum", 0) / 1e6 if h else 0
print("rows=%d  ingest %.0f rows/s (%.2f s, %d PostgreSQL connection(s))  raw COPY %.0f rows/s "
      "(%.2f s, %d connection(s))" % (n, ing, ing_s, nc, cp, cp_s, nc))
print("ingest / raw COPY = %.2f (target >= 1.00); raw COPY in binary form %.0f rows/s (%.2f s): "
      "ingest / that = %.2f" % (ing / cp, bn, bn_s, ing / bn))
tw = total_s(stages.get("tile38_write_batch"))
sets = st.get("tile38_sets", 0)
if t38 and tw and sets:
    print("ingest's Tile38 stage: %d SETs (%d rows) in %.2f s of its own write time = %.0f SETs/s; "
          "tile38-benchmark SET %.0f/s; ratio %.2f (target >= 0.80)"
          % (sets, st["stored_tile38"], tw, sets / tw, t38, sets / tw / t38))
if cpu:
    print("CPU seconds per 100,000 rows while ingest drained: " +
          ", ".join("%s %s" % kv for kv in sorted(cpu.items())) +
          "  (docs/capacity.md: cores per 100,000 msgs/s)")
pw = total_s(stages.get("pg_write_batch"))
print("stored_pg=%d stored_tile38=%d batches=%d  PostgreSQL write time %.2f s in all" %
      (st["stored_pg"], st["stored_tile38"], st["batches"], pw))
PY
