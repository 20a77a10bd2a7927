#!/usr/bin/env bash
# Benchmark of verify's Kafka check: fill a 6-partition topic once with
# FLIGHTS x PER_FLIGHT small records (bench_verify_fill, library producer), then
# time `skyload verify --skip pg,tile38,dlq` and report records/s and max RSS.
# Usage: bench/verify.sh [FLIGHTS=100000] [PER_FLIGHT=100]
# Env: SKYLOAD, FILL (binaries; default build/), SKY_BROKERS, KEEP_TOPIC=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/e2e/lib.sh"
flights=${1:-100000}
per=${2:-100}
build=${SKY_BUILD_DIR:-$here/../build}
SKYLOAD=${SKYLOAD:-$build/skyload}
FILL=${FILL:-$build/bench_verify_fill}
work=$(mktemp -d)
topic=$(sky_unique bench_verify)
sky_kafka_create_topic "$topic" 6
[[ ${KEEP_TOPIC:-0} == 1 ]] || sky_on_exit sky_kafka_delete_topic "$topic"
sky_on_exit rm -rf "$work"

"$FILL" -b "$SKY_BROKERS" -t "$topic" -f "$flights" -n "$per" -r "run-$topic" -m "$work/m.json"
/usr/bin/time -v "$SKYLOAD" verify -b "$SKY_BROKERS" --manifest "$work/m.json" \
  --skip pg,tile38,dlq --format json -o "$work/report.json" 2>"$work/time.txt" || true
python3 - "$work/report.json" "$work/time.txt" "$((flights * per))" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read()
n = int(sys.argv[3])
wall = t.split("Elapsed (wall clock) time (h:mm:ss or m:ss): ")[1].split()[0]
parts = [float(x) for x in wall.split(":")]
secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
c = next(c for c in r["checks"] if c["name"] == "kafka.complete")
print(f"records={c['counts']['records_read']} expected={n} passed={r['passed']}")
print(f"verify wall={secs:.2f}s  {c['counts']['records_read'] / secs:,.0f} records/s  "
      f"max RSS={rss / 1024:.0f} MiB")
PY
