#!/usr/bin/env bash
# skyload map in a real browser (Debian's Chromium, driven by playwright-core):
# ci-like traffic (ingest + simulate, 500 aircraft at 4x speed) flows into a
# collection of its own, a geofence hook on Europe sends Tile38's events to a
# topic, and the page must draw exactly the aircraft Tile38 holds in its bounds
# (count and ids), with headings, the airspace, the events and a hover label;
# no script error. Bad query strings get 400. The screenshot is kept in
# $SKY_BUILD_DIR/test-output/map.png.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
sky_need_cmd node curl
[[ -x ${SKY_CHROMIUM:-/usr/bin/chromium} ]] || sky_skip "Chromium is not installed (.ci/install-deps installs it)"
driver=$SKY_SOURCE_DIR/tests/e2e/browser/map_check.js
[[ -d ${SKY_BUILD_DIR:-}/web/node_modules/playwright-core ]] ||
  sky_fail "playwright-core is not in \$SKY_BUILD_DIR/web/node_modules (the build runs npm ci there)"

sky_fixture e2e_map 6
events=$name.events hook=EUROPE-$$
out=${SKY_BUILD_DIR}/test-output
mkdir -p "$out"
sky_on_exit sky_tile38 DELHOOK "$hook"
pids=()
stop_all() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
sky_on_exit stop_all

sky_kafka_create_topic "$events" 1
# Europe as Tile38 geofences it: every aircraft set inside is an "enter" event.
# (A short name: it is what the page shows; tests run one at a time.)
sky_tile38 SETHOOK "$hook" "kafka://$SKY_BROKERS/$events" WITHIN "$collection" FENCE \
  DETECT enter,exit BOUNDS 36 -10 60 30 >/dev/null

"$SKYLOAD" map --tile38 "$SKY_TILE38" --collection "$collection" --listen 127.0.0.1:0 \
  --events-topic "$events" -b "$SKY_BROKERS" --pg "$SKY_PG_CONNINFO" --schema "$schema" \
  >"$work/map.out" 2>"$work/map.err" &
pids+=($!)
sky_wait_until 20 "skyload map to print its URL" grep -q '^skyload map: http' "$work/map.out"
url=$(grep -o 'http://[^ ]*' "$work/map.out")
sky_log "map on $url"

# ---- bad query strings are 400, with a JSON reason -------------------------------
expect_status() { # STATUS WHAT CURL-ARGS...
  local want=$1 what=$2 got
  shift 2
  got=$(curl -s -o "$work/body" -w '%{http_code}' "$@")
  [[ $got == "$want" ]] || sky_fail "$what: expected HTTP $want, got $got: $(cat "$work/body")"
  if [[ $want != 200 ]]; then grep -q '"ok":false' "$work/body" || sky_fail "$what: no JSON error: $(cat "$work/body")"; fi
  sky_log "ok: $what -> $got"
}
expect_status 200 "a good bbox" "${url}api/flights?bbox=-10,36,30,60"
expect_status 400 "no bbox" "${url}api/flights"
expect_status 400 "three numbers" "${url}api/flights?bbox=-10,36,30"
expect_status 400 "five numbers" "${url}api/flights?bbox=-10,36,30,60,1"
expect_status 400 "latitude 91" "${url}api/flights?bbox=-10,36,30,91"
expect_status 400 "south of north" "${url}api/flights?bbox=-10,60,30,36"
expect_status 400 "not a number" "${url}api/flights?bbox=a,b,c,d"
expect_status 400 "nan" "${url}api/flights?bbox=nan,0,1,1"
expect_status 400 "an unknown parameter" "${url}api/flights?bbox=-10,36,30,60&token=x"
expect_status 400 "a repeated parameter" "${url}api/flights?bbox=-10,36,30,60&bbox=0,0,1,1"
expect_status 400 "limit 0" "${url}api/flights?bbox=-10,36,30,60&limit=0"
expect_status 400 "limit not a number" "${url}api/flights?bbox=-10,36,30,60&limit=1e3"
expect_status 400 "events negative" "${url}api/flights?bbox=-10,36,30,60&events=-1"
expect_status 400 "flight without id" "${url}api/flight"
expect_status 400 "airspaces with a parameter" "${url}api/airspaces?x=1"
expect_status 400 "an asset with a query" "${url}assets/map.js?v=1"
expect_status 404 "an unknown path" "${url}etc/passwd"
expect_status 404 "an asset outside the table" --path-as-is "${url}assets/../../etc/passwd"
expect_status 405 "a POST" -X POST "${url}api/flights?bbox=-10,36,30,60"
expect_status 403 "a foreign Host header (DNS rebinding)" -H 'Host: attacker.example' "${url}"
expect_status 200 "the page" "${url}"
curl -s -D - -o /dev/null "$url" | grep -qi '^content-security-policy:' || sky_fail "the page has no CSP header"

# ---- traffic while the browser watches --------------------------------------------
"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$topic" -g "$name" --tile38 "$SKY_TILE38" \
  --collection "$collection" --pg "$SKY_PG_CONNINFO" --schema "$schema" --init-schema \
  --ttl 900 2>"$work/ingest.log" &
pids+=($!)
( "$SKYLOAD" simulate --scenario "$SKY_SOURCE_DIR/scenarios/ci.yaml" -b "$SKY_BROKERS" -t "$topic" \
    --speedup 4 --duration 40s >"$work/sim.out" 2>"$work/sim.err" ||
    echo "simulate failed" >"$work/sim.failed"
  sleep 3 # let ingest store the last batch
  touch "$work/sim.done" ) &
pids+=($!)

rc=0
MAP_URL=$url TILE38=$SKY_TILE38 COLLECTION=$collection SIM_DONE=$work/sim.done \
  OUT=$out/map.png AIRSPACE=$hook VIEW=4/48/10 timeout 300 node "$driver" || rc=$?
[[ ! -f $work/sim.failed ]] || { cat "$work/sim.err" >&2; sky_fail "simulate failed"; }
if ((rc)); then
  cat "$work/map.err" "$work/ingest.log" >&2
  sky_fail "the browser check failed (exit $rc); screenshot, if any, in $out/"
fi
[[ -s $out/map.png ]] || sky_fail "no screenshot"
sky_log "screenshots: $out/map.png $out/map-world.png"
echo "PASS: skyload map in Chromium: aircraft drawn = Tile38's, airspace, events, label, 400s"
