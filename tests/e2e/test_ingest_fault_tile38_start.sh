#!/usr/bin/env bash
# Fault: Tile38 down when ingest starts. ingest says so (which server, what to check)
# and keeps running: it consumes, pauses the partitions, retries with backoff and
# commits nothing until Tile38 answers; once Tile38 is started, everything is stored.
# After it: 0 lost, 0 duplicate rows, every flight's Tile38 position is its latest
# (tests/e2e/test_ingest_fixture.py scenario does the run and the checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingest_fault.sh"
sky_need_stack kafka tile38 pg

sky_ingest_fault tile38_start tile38
