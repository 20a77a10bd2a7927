#!/usr/bin/env bash
# Fault: PostgreSQL stopped mid-run and started again: ingest pauses its partitions,
# retries with backoff, keeps its memory bounded and resumes.
# After it: 0 lost, 0 duplicate rows, every flight's Tile38 position is its latest
# (tests/e2e/test_ingest_fixture.py scenario does the run and the checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingest_fault.sh"
sky_need_stack kafka tile38 pg

sky_ingest_fault pg pg
