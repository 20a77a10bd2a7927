#!/usr/bin/env bash
# Replay benchmarks (bench/RESULTS.md, section "replay"):
#  1. OpenSky CSV rows/s per core with --sink null (a generated 2,000,000-row file), on
#     one CPU, then on all;
#  2. publishing a capture of N fixture records to the local Kafka with `skyload replay
#     --rate max --original-headers` (keys, values and the 3 recorded skyload-* headers as
#     they are) against `kcat -P` on the same keys and values with 3 headers of the same
#     names (-H), both idempotent with the murmur2_random partitioner, fresh topics with the
#     same partition count, both timed with /usr/bin/time.
# usage: bench/replay.sh [BUILD_DIR]   (env: BROKERS, ROWS, RECORDS, PARTITIONS)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
skyload=$build/skyload
brokers=${BROKERS:-127.0.0.1:9092}
rows=${ROWS:-2000000}
records=${RECORDS:-1000000}
partitions=${PARTITIONS:-6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/../tests/e2e/lib.sh"

echo "== OpenSky CSV -> --sink null ($rows rows)"
python3 "$here/replay_gen_opensky.py" "$rows" >"$work/states.csv"
# per core: on one CPU (replay then reads in its own thread, no read-ahead hand-over);
# rows / (user + sys) is the figure. Then as a user runs it, with every CPU.
echo "-- one CPU (taskset -c 0)"
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" \
  taskset -c 0 "$skyload" replay --sink null --rate max "$work/states.csv"
echo "-- every CPU"
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" \
  "$skyload" replay --sink null --rate max "$work/states.csv"

echo "== capture of $records records -> Kafka: skyload replay vs kcat -P"
src=$(sky_unique bench_replay_src)
sky_kafka_create_topic "$src" "$partitions"
"$build/sky_fixture_produce" "$brokers" "$src" "$records" 10000 bench >/dev/null
"$skyload" record -b "$brokers" -t "$src" -o "$work/cap.skc" -e >/dev/null
python3 "$here/replay_capture_to_kcat.py" "$work/cap.skc" >"$work/kcat.in"
for tool in skyload kcat; do
  dst=$(sky_unique "bench_replay_$tool")
  sky_kafka_create_topic "$dst" "$partitions"
  if [[ $tool == skyload ]]; then
    cmd=("$skyload" replay -b "$brokers" -t "$dst" --rate max --original-headers "$work/cap.skc")
  else
    cmd=(kcat -P -b "$brokers" -t "$dst" -K $'\t|K|\t' -D $'\n|D|\n' -X enable.idempotence=true
         -H skyload-run=bench -H skyload-seq=17 -H skyload-intended=1795615949569978152
         -X partitioner=murmur2_random -X linger.ms=5 -l "$work/kcat.in")
  fi
  echo "-- $tool"
  /usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB peak" "${cmd[@]}" >/dev/null
  echo "records in $dst: $(sky_kafka_count "$dst")"
  sky_kafka_delete_topic "$dst"
done
sky_kafka_delete_topic "$src"
