#!/usr/bin/env bash
# skyload replay --resample on tests/data/replay/resample.csv (--sink stdout): positions on
# the 5 s ticks only, on the line between the recorded points, continuous across the
# antimeridian, no interpolation across a gap longer than --resample-gap; usage errors.
set -euo pipefail
: "${SKYLOAD:?}" "${SKY_SOURCE_DIR:?}"
d=$SKY_SOURCE_DIR/tests/data/replay
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$SKYLOAD" replay --rate max --run-id cli --sink stdout --resample 5s "$d/resample.csv" \
  >"$work/out.jsonl" 2>"$work/err" || fail "exit status $?: $(cat "$work/err")"

# key timestamp latitude longitude altitude, one line per record, sorted by key then time.
python3 - "$work/out.jsonl" >"$work/got" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    o = json.loads(line)
    v = o["value"]
    rows.append((o["key"], v["timestamp"], float(round(v["location"]["latitude"], 6)),
                 float(round(v["location"]["longitude"], 6)), v["altitude"]))
for r in sorted(rows):
    print(*r)
PY
cat >"$work/want" <<'ROWS'
GAP7 2026-11-25T10:00:05.000Z 50.08 1.0 5000
GAP7 2026-11-25T10:00:10.000Z 50.18 1.0 5000
GAP7 2026-11-25T10:05:05.000Z 51.08 2.0 6000
GAP7 2026-11-25T10:05:10.000Z 51.18 2.0 6000
PAC1 2026-11-25T10:00:00.000Z 10.0 179.0 30000
PAC1 2026-11-25T10:00:05.000Z 10.05 179.3 30500
PAC1 2026-11-25T10:00:10.000Z 10.1 179.6 31000
PAC1 2026-11-25T10:00:15.000Z 10.15 179.9 31500
PAC1 2026-11-25T10:00:20.000Z 10.2 -179.8 32000
PAC1 2026-11-25T10:00:25.000Z 10.25 -179.5 32500
PAC1 2026-11-25T10:00:30.000Z 10.3 -179.2 33000
ROWS
diff -u "$work/want" "$work/got" || fail "resampled positions differ"

# seq counts the resampled records per flight from 0.
grep -q '"key":"GAP7","headers":{"skyload-run":"cli","skyload-seq":"3"' "$work/out.jsonl" \
  || fail "GAP7's fourth record is not seq 3"

# A gap threshold above the 5-minute gap interpolates across it (ticks every 5 s in between).
n=$("$SKYLOAD" replay --rate max --sink stdout --resample 5s --resample-gap 10m \
      "$d/resample.csv" 2>/dev/null | grep -c '"key":"GAP7"')
[[ $n == 62 ]] || fail "--resample-gap 10m: $n GAP7 records, expected 62"

for bad in "--resample 0s" "--resample x" "--resample 5s --resample-gap 0"; do
  rc=0
  # shellcheck disable=SC2086
  "$SKYLOAD" replay --sink null $bad "$d/resample.csv" >/dev/null 2>"$work/err" || rc=$?
  [[ $rc == 2 ]] || fail "'$bad': exit status $rc, expected 2"
done
grep -q -- "--resample-gap: must be longer than 0" "$work/err" || fail "gap error: $(cat "$work/err")"
echo ok
