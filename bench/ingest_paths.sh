#!/usr/bin/env bash
# Ingest on both storage paths, side by side on the same stack, and the columnstore's
# compression ratio on simulated traffic (docs/ingest.md "Storage", bench/RESULTS.md):
#   1. bench/ingest.sh on the TimescaleDB hypertable, then on native daily partitions:
#      skyload ingest's rows/s against a raw COPY of the same rows into an identical
#      table of the same path (SKY_BENCH_SCHEMA_ARGS="--storage ...").
#   2. AIRCRAFT aircraft simulated for one hour (skyload simulate --rate max, starting on
#      an hour 3 h ago: one chunk), ingested into a hypertable and into native partitions;
#      then the chunk is compressed: bytes per row on disk (heap + indexes + TOAST) native,
#      hypertable before and after compression, and the ratio (chunk_columnstore_stats).
# The columnstore policy is pushed out of the way (--compress-after 365d) so that it does
# not compress a chunk under the measurement; the chunk is compressed by hand instead.
# Usage: bench/ingest_paths.sh [FLIGHTS=2000] [PER_FLIGHT=100] [BATCH_ROWS=20000] [AIRCRAFT=500]
# Env: as bench/ingest.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"
sky_need_stack kafka pg
flights=${1:-2000}
per=${2:-100}
batch=${3:-20000}
aircraft=${4:-500}
build=${SKY_BUILD_DIR:-$here/../build}
SKYLOAD=${SKYLOAD:-$build/skyload}
[[ $(sky_psql -c "SHOW shared_preload_libraries") == *timescaledb* ]] ||
  sky_fail "the stack's PostgreSQL does not preload TimescaleDB: nothing to compare (deploy/local/stack restart pg)"

for path in timescaledb native; do
  echo "== bench/ingest.sh $flights $per $batch, --storage $path"
  SKY_BENCH_SCHEMA_ARGS="--storage $path --compress-after 365d" \
    bash "$here/ingest.sh" "$flights" "$per" "$batch" | sed "s/^/$path: /"
done

echo "== compression: $aircraft aircraft simulated for 1 h"
name=$(sky_unique bench_paths)
work=$(mktemp -d)
sky_on_exit rm -rf "$work"
sky_on_exit sky_kafka_delete_topic "$name"
sky_on_exit sky_pg_drop_schema "${name}_ts"
sky_on_exit sky_pg_drop_schema "${name}_nat"
start=$((($(date +%s) / 3600 - 3) * 3600))
"$SKYLOAD" simulate -b "$SKY_BROKERS" -t "$name" -n "$aircraft" -d 1h --seed 1 --rate max \
  --start-time "$start" --json >"$work/sim.json" 2>"$work/sim.log"
rows=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["produced"])' "$work/sim.json")
pids=()
stop_all() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
sky_on_exit stop_all
for path in timescaledb native; do
  case $path in timescaledb) schema=${name}_ts ;; native) schema=${name}_nat ;; esac
  "$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$name" -g "$schema" --no-tile38 --pg "$SKY_PG_CONNINFO" \
    --init-schema --schema "$schema" --storage "$path" --compress-after 365d \
    --batch-rows "$batch" 2>"$work/$path.log" &
  pids+=($!)
  done_rows() { [[ $(sky_psql -c "SELECT count(*) FROM \"$1\".flight_positions" 2>/dev/null) == "$rows" ]]; }
  sky_wait_until 600 "$rows rows in $schema" done_rows "$schema"
  kill -TERM "${pids[-1]}"
  wait "${pids[-1]}" || true
done
sky_psql -c "SELECT count(public.compress_chunk(c)) FROM public.show_chunks('\"${name}_ts\".flight_positions') c" >/dev/null
sky_psql -c "VACUUM ANALYZE \"${name}_nat\".flight_positions" >/dev/null
sky_psql -F ' ' -v ts="${name}_ts" -v nat="${name}_nat" -v rows="$rows" <<'SQL' >"$work/sizes"
SELECT count(*), sum(before_compression_total_bytes), sum(after_compression_total_bytes),
       sum(before_compression_table_bytes + before_compression_toast_bytes),
       sum(after_compression_table_bytes + after_compression_toast_bytes),
       (SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
         WHERE i.inhparent = (:'nat' || '.flight_positions')::regclass)
FROM public.chunk_columnstore_stats((:'ts' || '.flight_positions')::regclass)
WHERE compression_status = 'Compressed';
SQL
read -r chunks before after before_data after_data native <"$work/sizes"
python3 - "$rows" "$aircraft" "$chunks" "$before" "$after" "$before_data" "$after_data" "$native" <<'PY'
import sys
rows, aircraft, chunks, before, after, bdata, adata, native = (int(x) for x in sys.argv[1:])
print("rows=%d (%d aircraft, 1 h at 5 s) in %d chunk(s)" % (rows, aircraft, chunks))
print("native partitions: %.0f bytes/row (heap + indexes + TOAST)" % (native / rows))
print("hypertable: %.0f bytes/row before compression, %.1f after; ratio %.1fx "
      "(data only: %.1fx)" % (before / rows, after / rows, before / after, bdata / adata))
PY
