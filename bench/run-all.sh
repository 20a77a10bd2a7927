#!/usr/bin/env bash
# `make bench`: the capacity ramp and the peers on the local stack, then regenerates the
# "capacity" and "peers" sections at the top of bench/RESULTS.md (every other section is
# kept as it is) and keeps this run's figures as bench/results/<stamp>-*.json.
# Needs: a build (SKY_BUILD_DIR, default build), the stack up, gnuplot for the charts.
# About 12-15 min per capacity run (components, the ramp, the half-knee step; two runs:
# both sinks, PostgreSQL only) and 4-5 min for peers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${SKY_BUILD_DIR:-$src/build}
skyload=${SKYLOAD:-$build/skyload}
stack=${SKY_STACK_DIR:-$src/.stack}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${SKY_BENCH_OUT:-${TMPDIR:-/tmp}/skyload-bench/$stamp}
results=$here/results
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-skyload}
export PGDATABASE=${PGDATABASE:-skyload}
mkdir -p "$out" "$results"

# rdkafka_performance: the same build steps as bench/simulate.sh (Debian's librdkafka
# source package, configured, the example compiled against the system library).
if [[ ! -x $here/tools/rdkafka_performance ]]; then
  (cd "$here" && bash -c 'source <(sed -n "/^build_rdkafka_performance()/,/^}/p" simulate.sh)
    tools=$PWD/tools; build_rdkafka_performance')
fi

# The seed's pipeline writes both sinks; the PostgreSQL-only loop is the second knee.
tile38=(--tile38 "${SKY_TILE38:-127.0.0.1:9851}")
brokers=(-b "${SKY_BROKERS:-127.0.0.1:9092}")

# SKY_BENCH_REPORT_ONLY=1 with SKY_BENCH_OUT=DIR: only regenerate RESULTS.md from DIR.
cap_rc=0
if [[ -z ${SKY_BENCH_REPORT_ONLY:-} ]]; then
  mkdir -p "$out/pg-only"
  echo "== bench capacity, Tile38 + PostgreSQL (report in $out)"
  "$skyload" bench capacity --scenario capacity-ramp "${brokers[@]}" "${tile38[@]}" \
    --stack-dir "$stack" --report "$out" >"$out/capacity.stdout" 2>"$out/capacity.stderr" || cap_rc=$?
  cat "$out/capacity.stdout"
  echo "== bench capacity, PostgreSQL only (report in $out/pg-only)"
  "$skyload" bench capacity --scenario capacity-ramp "${brokers[@]}" --tile38 none \
    --stack-dir "$stack" --report "$out/pg-only" >"$out/pg-only/capacity.stdout" \
    2>"$out/pg-only/capacity.stderr" || cap_rc=$?
  cat "$out/pg-only/capacity.stdout"
  echo "== bench peers"
  "$skyload" bench peers "${brokers[@]}" "${tile38[@]}" --stack-dir "$stack" \
    --tools-dir "$here/tools" --report "$out" >"$out/peers.stdout" 2>"$out/peers.stderr"
  cat "$out/peers.stdout"
fi

cp "$out/capacity.json" "$results/$stamp-capacity.json"
cp "$out/pg-only/capacity.json" "$results/$stamp-capacity-pg-only.json"
cp "$out/peers.json" "$results/$stamp-peers.json"
for f in capacity.png capacity.svg; do [[ -f $out/$f ]] && cp "$out/$f" "$results/$f"; done

machine() {
  echo "- machine: $(nproc) vCPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "- stack: $("$src/deploy/local/stack" status 2>/dev/null | awk 'NR>1 && NF>2 && $1!="data:" {printf "%s %s (%s); ", $1, $3, $2}')"
  echo "- librdkafka $(pkg-config --modversion rdkafka), kcat $(kcat -V 2>&1 | sed -n 's/^kcat - .* version \([^ ]*\).*/\1/p' | head -1), $(java -version 2>&1 | head -1), $(psql --version), $(gnuplot --version 2>/dev/null || echo 'no gnuplot')"
  echo "- skyload $(git -C "$src" rev-parse --short HEAD), run $stamp"
}

section() {
  echo "## capacity"
  echo
  echo "\`make bench\` (\`bench/run-all.sh\`) ran, on the shared local stack, the seed's pipeline"
  echo "(Tile38 + PostgreSQL) and then the PostgreSQL-only loop:"
  echo
  echo '```'
  echo "skyload bench capacity --scenario capacity-ramp --tile38 HOST:PORT --report DIR"
  echo "skyload bench capacity --scenario capacity-ramp --tile38 none --report DIR/pg-only"
  echo '```'
  echo
  machine
  echo
  echo "Each step: N aircraft at a 1 s cadence in real time (N msgs/s offered), 10 s warm-up"
  echo "then 30 s held, a fresh topic/group/schema; e2e = intended emit time -> row committed"
  echo "in PostgreSQL, over the hold window only; ack = intended -> Kafka ack (whole step);"
  echo "t38 = intended -> Tile38 acknowledged (whole step, ingest's stats); lag slope in"
  echo "records/s over the hold; CPU in cores over the hold (sk = skyload: simulate and ingest"
  echo "in one process; kf = broker; pg = postmaster + backends; 38 = tile38-server)."
  echo
  echo "Tile38 + PostgreSQL:"
  echo
  echo '```'
  cat "$out/capacity.txt"
  echo '```'
  echo
  echo "PostgreSQL only (\`--tile38 none\`):"
  echo
  echo '```'
  cat "$out/pg-only/capacity.txt"
  echo '```'
  echo
  echo "![capacity](results/capacity.png) ([SVG](results/capacity.svg)); raw: \`results/$stamp-capacity.json\`, \`results/$stamp-capacity-pg-only.json\`."
  echo
  echo "## peers"
  echo
  echo '```'
  echo "skyload bench peers --tile38 HOST:PORT --report DIR    # docs/bench.md: each tool's command line"
  cat "$out/peers.txt"
  echo '```'
  echo
  echo "Raw runs: \`results/$stamp-peers.json\`. Older runs stay in \`bench/results/\`."
  echo
}

# Keep every section but ours; put ours first.
tmp=$(mktemp)
{
  echo "# skyload benchmark results"
  echo
  section
  if [[ -f $here/RESULTS.md ]]; then
    awk '/^## /{keep = ($2 != "capacity" && $2 != "peers")} /^# skyload benchmark results/{next} keep' \
      "$here/RESULTS.md"
  fi
} >"$tmp"
mv "$tmp" "$here/RESULTS.md"
echo "bench/RESULTS.md regenerated (capacity + peers sections; others kept)"
