#!/usr/bin/env bash
# Benchmarks for `skyload simulate` (figures go to bench/RESULTS.md, section "simulate"):
#   1. generator throughput, --sink null, one core
#   2. to the local Kafka vs librdkafka's rdkafka_performance: same record count,
#      bytes per record (key + value), headers, acks (idempotence => all), linger,
#      batch and queue settings, 6 partitions, run in turn
#   3. the million scenario in real time for 60 s: schedule lag and RSS
# Usage: bench/simulate.sh [null|kafka|million|all] (default all)
# Needs: a build (SKY_BUILD_DIR, default build), /usr/bin/time; kafka/million need the
# local Kafka (deploy/local/stack up). rdkafka_performance is built into bench/tools/
# (gitignored) from Debian's librdkafka source package on first use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${SKY_BUILD_DIR:-$src/build}
skyload=${SKYLOAD:-$build/skyload}
brokers=${SKY_BROKERS:-127.0.0.1:9092}
tools=$here/tools
what=${1:-all}
source "$src/tests/e2e/lib.sh" # sky_on_exit, sky_kafka_delete_topic
out=$(mktemp -d)
sky_on_exit rm -rf "$out"

# rdkafka_performance from the example source Debian ships with librdkafka (it
# includes internal headers, so it needs the source package, configured).
build_rdkafka_performance() {
  [[ -x $tools/rdkafka_performance ]] && return 0
  mkdir -p "$tools"
  if ! apt-get source --print-uris librdkafka >/dev/null 2>&1; then
    local sudo=; [[ $(id -u) == 0 ]] || sudo=sudo
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources |
      $sudo tee /etc/apt/sources.list.d/debian-src.sources >/dev/null
    $sudo apt-get update -qq
  fi
  (cd "$tools" && apt-get source -qq librdkafka >/dev/null)
  local dir
  dir=$(find "$tools" -maxdepth 1 -type d -name 'librdkafka-*' | head -1)
  (cd "$dir" && ./configure >/dev/null)
  gcc -O2 -I"$dir/src" -I"$dir" "$dir/examples/rdkafka_performance.c" -o "$tools/rdkafka_performance" \
    -lrdkafka -lpthread -lm
}

bench_null() {
  echo "== generator, --sink null (single thread), 100,000 aircraft, 10 simulated minutes"
  /usr/bin/time -v "$skyload" simulate -n 100000 -d 600s --seed 1 --start-time 2026-11-25T10:00:00Z \
    --rate max --sink null --json >"$out/null.json" 2>"$out/null.time"
  cat "$out/null.json"
  grep -E "Elapsed|Maximum resident|User time" "$out/null.time"
}

bench_kafka() {
  build_rdkafka_performance
  local n=2000000 t1 t2
  t1=simbench_sky_$$ t2=simbench_perf_$$
  sky_on_exit sky_kafka_delete_topic "$t1"
  sky_on_exit sky_kafka_delete_topic "$t2"
  # Same producer settings for both; the peer gets the same bytes per record:
  # simulate's FlightData values average 95 B and its keys 14 B (measured from a
  # file sink), so the keyless peer sends 110-byte values. Without -k the
  # murmur2_random partitioner spreads the peer's records over the 6 partitions,
  # as simulate's many keys are -- record by record only with sticky partitioning
  # off: by default librdkafka keeps keyless records on one partition for
  # sticky.partitioning.linger.ms (10 ms), i.e. one batch ~6x larger than each of
  # simulate's per-partition batches, which costs the peer less per record.
  # bench/RESULTS.md gives both figures.
  local size=110
  local -a x=(-X enable.idempotence=true -X linger.ms=5 -X batch.num.messages=10000
              -X queue.buffering.max.messages=1000000)
  "$skyload" simulate -n 10 -d 5s --sink kafka -b "$brokers" -t "$t1" --partitions 6 \
    --rate max >/dev/null 2>&1 # creates both topics the same way
  "$skyload" simulate -n 10 -d 5s --sink kafka -b "$brokers" -t "$t2" --partitions 6 \
    --rate max >/dev/null 2>&1
  echo "== to Kafka: $n records (values ~95 B + keys ~14 B), acks=all (idempotence), linger.ms=5"
  /usr/bin/time -v "$skyload" simulate -n 100000 -d 100s --seed 1 --rate max -b "$brokers" \
    -t "$t1" --no-create-topic --sink kafka "${x[@]}" --json \
    >"$out/kafka.json" 2>"$out/kafka.err" || cat "$out/kafka.err"
  cat "$out/kafka.json"
  grep -E "Elapsed|Maximum res|User time|System time" "$out/kafka.err"
  # the same three headers as simulate's records (a Kafka run id is 35 characters)
  /usr/bin/time -v "$tools/rdkafka_performance" -P -t "$t2" -b "$brokers" -s "$size" -c "$n" -u \
    -H skyload-run=r-20261125T100000Z-1-0-19ab5fc3d40 -H skyload-seq=12 \
    -H skyload-intended=1795600800065778000 -X partitioner=murmur2_random \
    -X sticky.partitioning.linger.ms=0 "${x[@]}" 2>&1 |
    grep -E "^\|  |Elapsed|Maximum res|User time|System time" | tail -5
}

bench_million() {
  echo "== million scenario, real time, 60 s, --sink ${MILLION_SINK:-null}"
  [[ ${MILLION_SINK:-null} != kafka ]] || sky_on_exit sky_kafka_delete_topic "simbench_million_$$"
  /usr/bin/time -v "$skyload" simulate -s million -d 60s --sink "${MILLION_SINK:-null}" \
    -b "$brokers" -t "simbench_million_$$" --json >"$out/m.json" 2>"$out/m.time"
  cat "$out/m.json"
  grep -E "Elapsed|Maximum resident|User time" "$out/m.time"
}

case $what in
null) bench_null ;;
kafka) bench_kafka ;;
million) bench_million ;;
all) bench_null; bench_kafka; bench_million ;;
*) echo "usage: $0 [null|kafka|million|all]" >&2; exit 2 ;;
esac
