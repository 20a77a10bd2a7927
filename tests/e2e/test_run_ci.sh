#!/usr/bin/env bash
# skyload run on the ci scenario (500 aircraft, every fault kind) against the
# real stack: ingest + simulate + drain + verify must pass with every check,
# write the whole report directory, and a second run of the same scenario must
# pass again (run starts from a fresh schema; run ids differ per execution).
# Then a run with an impossible SLO must fail (exit 1) and name the stage.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
tile38=$SKY_TILE38

sky_fixture e2e_run
sky_on_exit "$SKYLOAD" geofence drop --scenario ci --tile38 "$tile38"
common=(-b "$SKY_BROKERS" -t "$topic" --group "$group" --schema "$schema" --pg "$SKY_PG_CONNINFO"
  --tile38 "$tile38" --drain-timeout 90s)

for pass in 1 2; do
  rc=0
  timeout 300 "$SKYLOAD" run "$SKY_SOURCE_DIR/scenarios/ci.yaml" "${common[@]}" \
    --report "$work/report$pass" >"$work/out$pass.txt" 2>"$work/err$pass.txt" || rc=$?
  [[ $rc == 0 ]] || { cat "$work/out$pass.txt" "$work/err$pass.txt" >&2; sky_fail "run $pass exited $rc"; }
  for f in manifest.json ingest-stats.json verify.txt verify.json verify.xml; do
    [[ -s $work/report$pass/$f ]] || sky_fail "run $pass: report file $f missing"
  done
  ls "$work/report$pass"/*.hgrm >/dev/null || sky_fail "run $pass: no .hgrm files"
  python3 - "$work/report$pass" <<'PY'
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
m = json.load(open(f"{d}/manifest.json"))
s = json.load(open(f"{d}/ingest-stats.json"))
faults = {f["kind"] for f in m["faults"]}
assert {"duplicate", "reorder", "drop", "malformed", "gap"} <= faults, faults
malformed = sum(1 for f in m["faults"] if f["kind"] == "malformed")
assert m["totals"]["failed"] == 0, m["totals"]
# ingest stored exactly the expected rows; the injected malformed ones went to the DLQ
assert s["stored_pg"] == m["totals"]["expected_unique"], (s["stored_pg"], m["totals"])
assert s["dlq"] == malformed, (s["dlq"], malformed)
suite = ET.parse(f"{d}/verify.xml").getroot()
cases = suite.iter("testcase")
names = [c.get("name") for c in cases]
assert any(n.startswith("kafka") for n in names) and any(n.startswith("pg") for n in names), names
assert not list(suite.iter("failure")), "a JUnit failure in a passing run"
print(f"run ok: {m['totals']['produced']} records, {len(m['flights'])} flights, "
      f"{len(m['faults'])} faults, {len(names)} checks")
PY
done

# PostgreSQL only (--tile38 none): the scenario's tile38 and geofence SLOs have nothing
# to judge and are not judged; the run passes on the checks it has.
rc=0
timeout 300 "$SKYLOAD" run smoke "${common[@]}" --tile38 none --report "$work/no-tile38" \
  >"$work/no-tile38.txt" 2>&1 || rc=$?
[[ $rc == 0 ]] || { cat "$work/no-tile38.txt" >&2; sky_fail "run smoke --tile38 none exited $rc"; }
! grep -Eq '^(slo\.tile38|slo\.geofence|tile38\.positions|geofence) ' "$work/no-tile38.txt" ||
  sky_fail "--tile38 none still judged Tile38 or geofence: $(cat "$work/no-tile38.txt")"

# An SLO no pipeline meets: kafka_ack p99 below a microsecond.
sed -e 's/^name: ci$/name: ci-tight/' -e 's/kafka_ack: {p99: [0-9.]*}/kafka_ack: {p99: 0.001}/' \
  "$SKY_SOURCE_DIR/scenarios/ci.yaml" >"$work/tight.yaml"
grep -q 'p99: 0.001' "$work/tight.yaml" || sky_fail "could not tighten the SLO in a copy of ci.yaml"
rc=0
timeout 300 "$SKYLOAD" run "$work/tight.yaml" "${common[@]}" --report "$work/tight" \
  >"$work/tight.txt" 2>&1 || rc=$?
sky_assert_eq "$rc" 1 "exit status with an SLO below the measured p99"
grep -q 'slo.kafka_ack' "$work/tight.txt" || sky_fail "report does not name slo.kafka_ack: $(cat "$work/tight.txt")"

# --external-ingest: the pipeline under test is a separate `skyload ingest`
# (into the same schema, which then keeps earlier runs' rows); run only
# simulates, waits for that group to drain and verifies, twice.
# (smoke's airspaces too: that pipeline registers them and relays their events)
"$SKYLOAD" ingest -b "$SKY_BROKERS" -t "$topic" -g "$group-ext" --tile38 "$tile38" \
  --pg "$SKY_PG_CONNINFO" --schema "$schema" --init-schema \
  --airspaces "$SKY_SOURCE_DIR/scenarios/smoke.yaml" 2>"$work/ext-ingest.log" &
ext_pid=$!
stop_ext() { kill "$ext_pid" 2>/dev/null || true; }
sky_on_exit stop_ext
for pass in 1 2; do
  rc=0
  timeout 300 "$SKYLOAD" run smoke "${common[@]}" --group "$group-ext" --external-ingest \
    --report "$work/ext$pass" >"$work/ext$pass.txt" 2>&1 || rc=$?
  [[ $rc == 0 ]] || { cat "$work/ext$pass.txt" "$work/ext-ingest.log" >&2; sky_fail "external run $pass exited $rc"; }
  grep -q '^pg.complete  *PASS' "$work/ext$pass.txt" || sky_fail "external run $pass: pg.complete not PASS"
done
echo "PASS: skyload run ci twice, an SLO failure named, and --external-ingest twice"
