#!/usr/bin/env bash
# The report pages in a real browser (Chromium, from disk): `skyload run smoke`
# writes report.html beside verify.txt/json/xml; opened as file:// it must show
# every check of verify.json, the latency chart (stages and SLO), the tracks
# map with coastlines, fetch nothing and raise no script error. `skyload
# verify -o` writes one beside its output too. The capacity page rendered from a
# bench result is checked the same way. Screenshots in $SKY_BUILD_DIR/test-output/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
sky_need_cmd node
[[ -x ${SKY_CHROMIUM:-/usr/bin/chromium} ]] || sky_skip "Chromium is not installed (.ci/install-deps installs it)"
driver=$SKY_SOURCE_DIR/tests/e2e/browser/report_check.js
out=${SKY_BUILD_DIR}/test-output
mkdir -p "$out"

sky_fixture e2e_report

rc=0
timeout 300 "$SKYLOAD" run smoke -b "$SKY_BROKERS" -t "$name" --group "$name" --schema "$name" \
  --pg "$SKY_PG_CONNINFO" --tile38 "$SKY_TILE38" --report "$work/smoke" >"$work/run.out" 2>&1 || rc=$?
((rc == 0)) || { cat "$work/run.out" >&2; sky_fail "skyload run smoke exited $rc"; }
for f in verify.txt verify.json verify.xml report.html; do
  [[ -s $work/smoke/$f ]] || sky_fail "report file $f missing"
done
checks=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["checks"]))' "$work/smoke/verify.json")
grep -q 'https\?://[a-z]' <(grep -o '<script src=[^>]*>\|<link [^>]*href="http[^>]*>' "$work/smoke/report.html") &&
  sky_fail "report.html loads something from the network"
timeout 120 node "$driver" "$work/smoke/report.html" "$out/report.png" "$checks"

# verify -o DIR/verify.xml: report.html beside it
mkdir -p "$work/v"
"$SKYLOAD" verify --manifest "$work/smoke/manifest.json" -b "$SKY_BROKERS" -t "$name" \
  --pg "$SKY_PG_CONNINFO" --schema "$name" --tile38 "$SKY_TILE38" --format junit \
  -o "$work/v/verify.xml" >/dev/null 2>"$work/verify.err" || { cat "$work/verify.err" >&2; sky_fail "verify failed"; }
[[ -s $work/v/report.html ]] || sky_fail "verify -o did not write report.html beside its output"
vchecks=$(grep -c '<testcase ' "$work/v/verify.xml")
timeout 120 node "$driver" "$work/v/report.html" "$out/report-verify.png" "$vchecks"

# the capacity page, from a bench result in the tree
cap=$(ls "$SKY_SOURCE_DIR"/bench/results/*-capacity.json | tail -n1)
steps=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["steps"]))' "$cap")
"$SKY_BUILD_DIR/sky_capacity_html" "$cap" "$work/capacity.html"
timeout 120 node "$driver" "$work/capacity.html" "$out/capacity.png" --capacity "$steps"
echo "PASS: report.html of run and verify, capacity.html, in Chromium from disk"
