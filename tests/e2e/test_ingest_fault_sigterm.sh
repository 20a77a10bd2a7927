#!/usr/bin/env bash
# Fault: SIGTERM mid-stream: ingest stores its batch, commits and exits 0 with
# nothing consumed left unstored; a restart finishes the topic.
# After it: 0 lost, 0 duplicate rows, every flight's Tile38 position is its latest
# (tests/e2e/test_ingest_fixture.py scenario does the run and the checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingest_fault.sh"
sky_need_stack kafka tile38 pg

sky_ingest_fault sigterm
