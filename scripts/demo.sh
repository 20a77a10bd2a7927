#!/usr/bin/env bash
# make demo: the smoke scenario end to end on the local stack (ingest +
# simulate + drain + verify) and its report. Assumes `make build` and
# `deploy/local/stack up` ran (the Makefile does both first).
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
exit $rc
