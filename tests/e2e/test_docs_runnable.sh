#!/usr/bin/env bash
# The blocks marked `sh runnable` in docs/*.md, run as written against the real stack:
# each file's blocks in a fresh shell (only PATH, with skyload on it as after README's
# first line, and HOME set), line by line, in a scratch directory that links the
# clone's files (tests/e2e/runnable.sh). Topics the blocks name with -t are deleted
# afterwards when they were not there before.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/runnable.sh"
sky_need_stack kafka tile38 pg
: "${SKY_BUILD_DIR:=$(dirname "$SKYLOAD")}"
if [[ $SKY_BROKERS != 127.0.0.1:9092 || $SKY_TILE38 != 127.0.0.1:9851 || $PGHOST != 127.0.0.1 ||
  $PGPORT != 5432 ]]; then
  sky_skip "the docs' commands use the default addresses; this stack runs on $SKY_BROKERS, $SKY_TILE38, PostgreSQL $PGHOST:$PGPORT"
fi

work=$(mktemp -d)
sky_on_exit rm -rf "$work"
existing=$(kcat -L -b "$SKY_BROKERS" -m 10 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p')
files=()
for f in "$SKY_SOURCE_DIR"/docs/*.md; do
  grep -q '^[[:space:]]*```sh[[:space:]]\+runnable[[:space:]]*$' "$f" && files+=("$f")
done
((${#files[@]})) || sky_fail "no docs/*.md has a runnable block"
for f in "${files[@]}"; do
  while read -r t; do
    grep -qxF -- "$t" <<<"$existing" || sky_on_exit sky_kafka_delete_topic "$t"
  done < <(runnable_lines "$f" | grep -o -- '-t [A-Za-z0-9._-]*' | sed 's/^-t //' | sort -u)
done
for f in "${files[@]}"; do
  name=$(basename "$f" .md)
  runnable_workdir "$work/$name" "$SKY_BUILD_DIR" "$SKY_STACK_DIR"
  sky_log "docs/$name.md: $(runnable_lines "$f" | wc -l) commands"
  runnable_run "$f" "$work/$name" "$SKY_BUILD_DIR:/usr/local/bin:/usr/bin:/bin" ||
    sky_fail "docs/$name.md's runnable block does not run as written (the failing line is above)"
done
sky_log "ok: ${#files[@]} docs file(s) run as written"
