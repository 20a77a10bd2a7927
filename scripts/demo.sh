#!/usr/bin/env bash
# make demo: the smoke scenario end to end on the local stack (ingest +
# simulate + drain + verify) and its report (report/smoke/report.html), then
# the live map (skyload map) left running in the background on the URL it
# prints, with a little live traffic (ingest + simulate) so that it has
# something to show after the smoke run's aircraft expire. Assumes `make build`
# and `deploy/local/stack up` ran (the Makefile does both first).
# MAP_LISTEN (default 127.0.0.1:8080; a free port if taken), DEMO_LIVE=0: no live traffic.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(deploy/local/stack env)" # PG* variables and the addresses of the local stack
report=${REPORT_DIR:-report/smoke}
rm -rf "$report"
echo "== skyload run scenarios/smoke.yaml (report in $report/)"
rc=0
./build/skyload run scenarios/smoke.yaml -b "$SKY_BROKERS" --tile38 "$SKY_TILE38" --report "$report" || rc=$?
echo
echo "== files in $report/: $(cd "$report" 2>/dev/null && ls | tr '\n' ' ')"
echo "== a few records as they are on the topic (skyload tail):"
./build/skyload tail -b "$SKY_BROKERS" -t "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["topic"])' "$report/manifest.json")" -c 2 2>/dev/null || true

# ---- the live map, left running ----------------------------------------------------
pids=()
if [[ ${DEMO_LIVE:-1} != 0 ]]; then
  # 300 aircraft worldwide in real time for an hour, into a schema and topic of their own
  nohup ./build/skyload ingest -b "$SKY_BROKERS" -t skyload-demo -g skyload-demo --tile38 "$SKY_TILE38" \
    --pg "" --schema skyload_demo --init-schema >"$report/demo-ingest.log" 2>&1 &
  pids+=($!)
  nohup ./build/skyload simulate -n 300 -d 1h --seed 7 -b "$SKY_BROKERS" -t skyload-demo \
    >"$report/demo-simulate.log" 2>&1 &
  pids+=($!)
fi
start_map() {
  nohup ./build/skyload map --tile38 "$SKY_TILE38" --listen "$1" --pg "" --schema skyload_demo \
    >"$report/map.log" 2>&1 &
  map_pid=$!
  for _ in $(seq 50); do
    grep -q '^skyload map: http' "$report/map.log" 2>/dev/null && return 0
    kill -0 "$map_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
start_map "${MAP_LISTEN:-127.0.0.1:8080}" || start_map 127.0.0.1:0 ||
  { cat "$report/map.log" >&2; echo "demo: skyload map did not start" >&2; exit 3; }
pids+=("$map_pid")
printf '%s\n' "${pids[@]}" >"$report/demo.pids"
url=$(grep -o 'http://[^ ]*' "$report/map.log" | head -n1)
echo
echo "== the run report:  $(cd "$report" && pwd)/report.html  (open it in a browser; it works from disk)"
echo "== the live map:    $url  (skyload map, PID $map_pid$([[ ${#pids[@]} -gt 1 ]] && echo "; live traffic: ingest PID ${pids[0]}, simulate PID ${pids[1]}"))"
echo "   stop it with:    kill \$(cat $report/demo.pids)"
exit $rc
