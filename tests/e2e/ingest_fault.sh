# tests/e2e/ingest_fault.sh — sourced by test_ingest_fault_*.sh after lib.sh:
#   sky_ingest_fault FAULT [SERVICE]
# runs tests/e2e/test_ingest_fixture.py's scenario with FAULT (pg, tile38,
# kafka, kill9, sigterm, rebalance) on its own topic, schema and collection,
# and checks 0 lost, 0 duplicate rows and Tile38 at each flight's latest.
# SERVICE, when given, is a shared server the fault stops: it is started
# again on exit whatever happens.

# shellcheck shell=bash
sky_ingest_fault() {
  local fault=$1 service=${2:-} name work topic group schema collection
  sky_fixture "e2e_ingest_$fault" 4
  [[ -z $service ]] || sky_on_exit "$SKY_SOURCE_DIR/deploy/local/stack" start "$service"
  timeout 600 "$SKY_PYTHON" "$SKY_SOURCE_DIR/tests/e2e/test_ingest_fixture.py" scenario \
    --fault "$fault" --skyload "$SKYLOAD" --brokers "$SKY_BROKERS" --tile38 "$SKY_TILE38" \
    --pg "$SKY_PG_CONNINFO" --name "$name" --work "$work" || sky_fail "fault $fault"
  echo "PASS: ingest survives fault $fault"
}
