#!/usr/bin/env bash
# Fault: two ingest processes in one group; one stopped and restarted mid-run
# (revoke: flush + commit before giving partitions up).
# After it: 0 lost, 0 duplicate rows, every flight's Tile38 position is its latest
# (tests/e2e/test_ingest_fixture.py scenario does the run and the checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka 'tile38?' pg

name=$(sky_unique e2e_ingest_rebalance)
work=$(mktemp -d)
sky_on_exit rm -rf "$work"
sky_kafka_create_topic "$name" 4
sky_kafka_create_topic "$name.dlq" 1
sky_on_exit sky_kafka_delete_topic "$name"
sky_on_exit sky_kafka_delete_topic "$name.dlq"
sky_on_exit sky_pg_drop_schema "$name"
sky_on_exit sky_tile38 DROP "$name"

timeout 600 "$SKY_PYTHON" "$SKY_SOURCE_DIR/tests/e2e/test_ingest_fixture.py" scenario --fault rebalance \
  --skyload "$SKYLOAD" --brokers "$SKY_BROKERS" --tile38 "$SKY_TILE38" --pg "$SKY_PG_CONNINFO" \
  --name "$name" --work "$work" || sky_fail "fault rebalance"
echo "PASS: ingest survives fault rebalance"
