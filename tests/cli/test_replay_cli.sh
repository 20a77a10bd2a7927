#!/usr/bin/env bash
# skyload replay on tests/data/replay with --sink stdout/null: each format's records,
# file:line errors, --strict, filters, loops, time shift, merge across files, usage errors.
set -euo pipefail
: "${SKYLOAD:?}" "${SKY_SOURCE_DIR:?}"
d=$SKY_SOURCE_DIR/tests/data/replay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { [[ "$1" == *"$2"* ]] || fail "$3: '$2' not in: $1"; }
run() { "$SKYLOAD" replay --rate max --run-id cli "$@" 2>"$work/err"; }

# One row per format: rows read, and what became of them (they add up: one meaning of
# "rows read" in every format). feed.sbs: 10 messages; 3C6444's positions never get a
# velocity, so they are not published (no invented 0 kt).
while read -r file rows pub rej skip; do
  out=$(run --sink null "$d/$file")
  expect "$out" "$rows rows read: $pub published, $rej rejected, $skip without position, 0 filtered" "$file counts"
  (( rows == pub + rej + skip )) || fail "$file: the table does not add up"
done <<'ROWS'
opensky.csv 9 4 3 2
opensky_hour.csv 2 2 0 0
flights.csv 7 5 2 0
feed.sbs 10 2 2 6
tail.jsonl 6 2 4 0
ROWS
run --sink stdout "$d/feed.sbs" >"$work/sbs.jsonl"
expect "$(head -1 "$work/sbs.jsonl")" '"airspeed":250' "SBS position published with its MSG,4 velocity"
! grep -q '"airspeed":0' "$work/sbs.jsonl" || fail "SBS replay published airspeed 0"

run --sink null "$d/opensky.csv" >/dev/null
expect "$(cat "$work/err")" "opensky.csv:7: latitude 91.5 out of range" "file:line error"
expect "$(cat "$work/err")" "opensky.csv:8: velocity \"x133\" is not a number" "second error"

rc=0; run --sink null --strict "$d/flights.csv" >/dev/null || rc=$?
[[ $rc == 2 ]] || fail "--strict exit status $rc, expected 2"
expect "$(cat "$work/err")" "flights.csv:5:" "--strict names the row"

# stdout sink: the JSON objects, with seq per flight from 0.
run --sink stdout "$d/flights.csv" >"$work/out.jsonl"
[[ $(wc -l <"$work/out.jsonl") == 5 ]] || fail "stdout sink lines"
expect "$(sed -n 3p "$work/out.jsonl")" '"skyload-seq":"1"' "seq of a flight's second record"
expect "$(head -1 "$work/out.jsonl")" '"key":"BAW123-00002a","headers":{"skyload-run":"cli"' "json line"

# Filters.
expect "$(run --sink null --bbox 50,-1,52,0 "$d/opensky.csv")" "9 rows read: 3 published, 3 rejected, 2 without position, 1 filtered" "--bbox"
expect "$(run --sink null --skip-ground "$d/opensky.csv")" "3 published" "--skip-ground"
expect "$(run --sink null --from 2026-11-25T10:00:05Z --to 1795600806 "$d/flights.csv")" \
  "1 published" "--from/--to"

# Loops get fresh ids; time shift rewrites timestamps.
run --sink stdout --loop 2 "$d/opensky_hour.csv" >"$work/loop.jsonl"
expect "$(tail -1 "$work/loop.jsonl")" '"flight_id":"4ca7b5-20261125-L1"' "--loop id"
expect "$(tail -1 "$work/loop.jsonl")" '"timestamp":"2026-11-25T10:00:11.000Z"' "--loop time"
expect "$(run --sink stdout --time-shift 1h "$d/opensky_hour.csv" | head -1)" \
  '"timestamp":"2026-11-25T11:00:00.000Z"' "--time-shift 1h"

# Two files merge by time; gzip and stdin read transparently.
gzip -c "$d/opensky_hour.csv" >"$work/h.csv.gz"
run --sink stdout "$d/flights.csv" "$work/h.csv.gz" | sed -n 's/.*"key":"\([^"]*\)".*"timestamp":"\([^"]*\)".*/\2 \1/p' >"$work/merged"
sort -c -s -k1,1 "$work/merged" || fail "merged output not in time order"
[[ $(wc -l <"$work/merged") == 7 ]] || fail "merged count"
expect "$(run --sink null --format csv - <"$d/flights.csv")" "5 published" "stdin"

# On one CPU the file is read in the publishing thread (no read-ahead): same output
# (but the wall-clock skyload-intended), errors and counts, every format.
if command -v taskset >/dev/null; then
  no_clock() { sed 's/"skyload-intended":"[0-9]*"//'; }
  for file in opensky.csv opensky_hour.csv flights.csv feed.sbs tail.jsonl; do
    run --sink stdout "$d/$file" | no_clock >"$work/two.out"; cp "$work/err" "$work/two.err"
    taskset -c 0 "$SKYLOAD" replay --rate max --run-id cli --sink stdout "$d/$file" \
      2>"$work/err" | no_clock >"$work/one.out"
    [[ -s $work/one.out ]] || fail "$file: no output on one CPU"
    cmp -s "$work/two.out" "$work/one.out" || fail "$file: one-CPU output differs"
    cmp -s <(grep -v '^replay r-' "$work/two.err") <(grep -v '^replay r-' "$work/err") ||
      fail "$file: one-CPU errors differ"
  done
fi

# Pacing: 4 records over 15 recorded seconds at --speed 30 take about 0.5 s.
start=$(date +%s%N)
"$SKYLOAD" replay --sink null --speed 30 "$d/opensky.csv" >/dev/null 2>&1
ms=$(( ($(date +%s%N) - start) / 1000000 ))
(( ms >= 450 && ms < 3000 )) || fail "--speed 30 took $ms ms, expected about 500"

# Usage errors exit 2.
for args in "--format xml $d/flights.csv" "--bbox 1,2,3 $d/flights.csv" "" "--rate fast x"; do
  rc=0; "$SKYLOAD" replay $args >/dev/null 2>&1 || rc=$?
  [[ $rc == 2 ]] || fail "replay $args: exit $rc, expected 2"
done
rc=0; "$SKYLOAD" replay --sink null /nonexistent.csv >/dev/null 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "missing file: exit $rc, expected 3"
"$SKYLOAD" replay --help | grep -q "Examples:" || fail "help"
"$SKYLOAD" record --help | grep -q -- "--offset" || fail "record help"
echo "PASS: replay CLI"
