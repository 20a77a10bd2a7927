#!/usr/bin/env bash
# README.md's usage block, run as written: every line in a fresh shell (only PATH
# and HOME set, so every command must find the local stack by its defaults), line
# by line, against the real stack (tests/e2e/runnable.sh says how lines are run
# and stopped). The block's two recorded files are made here from tests/data:
#   states_2026-11-25-10.csv.gz  <- tests/data/replay/opensky.csv (gzip)
#   basestation.txt              <- tests/data/replay/feed.sbs
# What the block creates on the stack under its default names (topics, the public
# and skyload_run schemas' tables, the Tile38 collection "flights") is removed
# afterwards when it was not there before.
#   usage: test_readme_usage.sh [MARKDOWN]   (default README.md; ctest passes none)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/runnable.sh"
sky_need_stack kafka tile38 pg
: "${SKY_BUILD_DIR:=$(dirname "$SKYLOAD")}"

# The block runs with no address given: the stack under test must be the default one.
if [[ $SKY_BROKERS != 127.0.0.1:9092 || $SKY_TILE38 != 127.0.0.1:9851 || $PGHOST != 127.0.0.1 ||
  $PGPORT != 5432 || $PGUSER != skyload || $PGDATABASE != skyload ]]; then
  sky_skip "README's commands use the default addresses; this stack runs on $SKY_BROKERS, $SKY_TILE38, PostgreSQL $PGHOST:$PGPORT"
fi

readme=${1:-$SKY_SOURCE_DIR/README.md} # another copy: to see the test fail on a broken line
work=$(mktemp -d)
sky_on_exit rm -rf "$work"
runnable_workdir "$work/clone" "$SKY_BUILD_DIR" "$SKY_STACK_DIR"
gzip -c "$SKY_SOURCE_DIR/tests/data/replay/opensky.csv" >"$work/clone/states_2026-11-25-10.csv.gz"
cp "$SKY_SOURCE_DIR/tests/data/replay/feed.sbs" "$work/clone/basestation.txt"

# ---- what the block will create, to remove afterwards ----------------------------
mapfile -t topics < <(runnable_lines "$readme" | grep -o -- '-t [A-Za-z0-9._-]*' | sed 's/^-t //' | sort -u)
topics+=(flights) # scenarios/ci.yaml's topic
existing=$(kcat -L -b "$SKY_BROKERS" -m 10 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p')
new_topics=()
for t in "${topics[@]}" "${topics[@]/%/.dlq}"; do
  grep -qxF -- "$t" <<<"$existing" || new_topics+=("$t")
done
tables_before=$(sky_psql -c "select n.nspname||'.'||c.relname from pg_class c join pg_namespace n
  on n.oid = c.relnamespace where c.relkind in ('r','p') and n.nspname in ('public','skyload_run')" | sort)
run_schema_existed=$(sky_psql -c "select count(*) from pg_namespace where nspname = 'skyload_run'")
collection_existed=$(sky_tile38 KEYS '*' 2>/dev/null | grep -cx flights || true)
cleanup() {
  local t
  for t in "${new_topics[@]}"; do sky_kafka_delete_topic "$t" || true; done
  if [[ $run_schema_existed == 0 ]]; then sky_pg_drop_schema skyload_run; fi
  comm -13 <(printf '%s\n' "$tables_before") <(sky_psql -c "select n.nspname||'.'||c.relname
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r','p')
    and n.nspname = 'public' and c.relispartition is false" | sort) |
    while read -r t; do sky_psql -c "DROP TABLE IF EXISTS $t CASCADE" >/dev/null 2>&1 || true; done
  if [[ $collection_existed == 0 ]]; then sky_tile38 DROP flights >/dev/null 2>&1 || true; fi
}
sky_on_exit cleanup

sky_log "README.md: $(runnable_lines "$readme" | wc -l) commands, in $work/clone"
if ! runnable_run "$readme" "$work/clone"; then
  sky_fail "README.md's usage block does not run as written (the failing line is above)"
fi

# The lines did their work, not only exit 0.
[[ -s $work/clone/report/ci/verify.xml ]] || sky_fail "skyload run wrote no report/ci/verify.xml"
grep -q 'failures="0"' "$work/clone/verify.xml" || sky_fail "verify.xml reports failures"
[[ -s $work/clone/flights.skc && -s $work/clone/replay.json && -s $work/clone/shard0.json ]] ||
  sky_fail "record / replay / simulate --manifest left no file"
sky_assert_eq "$(wc -l <"$work/clone/sample.jsonl")" 1000 "records tail wrote to sample.jsonl"
sky_log "ok: README.md's usage block runs as written"
