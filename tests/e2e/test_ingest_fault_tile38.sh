#!/usr/bin/env bash
# Fault: Tile38 killed (kill -9) mid-run and started again (it reloads its AOF): ingest pauses,
# retries with backoff, keeps its memory bounded, commits no offset while Tile38 is down
# and resumes; the test prints the figures (down time, pause, retries, committed offsets).
# After it: 0 lost, 0 duplicate rows, every flight's Tile38 position is its latest
# (tests/e2e/test_ingest_fixture.py scenario does the run and the checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ingest_fault.sh"
sky_need_stack kafka tile38 pg

sky_ingest_fault tile38 tile38
