#!/usr/bin/env bash
# record -> replay byte for byte: 4,000 fixture records on a 4-partition topic are
# recorded, replayed with --original-headers to a fresh topic and recorded again;
# per partition the keys, headers and values must be identical. Then a default
# replay carries this run's run/seq/intended headers and a manifest, and a capture
# with a truncated tail replays every whole record.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka

sky_fixture e2e_replay
src=${name}_src dst=${name}_dst dst2=${name}_dst2
sky_topics 4 "$src" "$dst" "$dst2"

"$SKY_BUILD_DIR/sky_fixture_produce" "$SKY_BROKERS" "$src" 4000 100 run-cap >/dev/null
timeout 120 "$SKYLOAD" record -b "$SKY_BROKERS" -t "$src" -o "$work/a.skc" -e >/dev/null
timeout 120 "$SKYLOAD" replay -b "$SKY_BROKERS" -t "$dst" --original-headers --speed 1000 \
  "$work/a.skc" >"$work/replay1.txt"
timeout 120 "$SKYLOAD" record -b "$SKY_BROKERS" -t "$dst" -o "$work/b.skc.gz" -e >/dev/null

python3 - "$work" "$SKY_SOURCE_DIR/tests/tools" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])  # tests/tools: an independent reader of the layout
from skycapture import records
def by_part(path):
    parts = {}
    for _ts, part, _off, key, hdrs, value in records(path):
        parts.setdefault(part, []).append((key, hdrs, value))
    return parts
a, b = by_part(sys.argv[1] + "/a.skc"), by_part(sys.argv[1] + "/b.skc.gz")
assert sum(map(len, a.values())) == 4000, sum(map(len, a.values()))
assert a == b, "replayed topic differs from the recorded one"
print("byte for byte: 4000 records in", len(a), "partitions")
PY

# Default headers: this run's run id, seq per flight from 0, a manifest for verify.
timeout 120 "$SKYLOAD" replay -b "$SKY_BROKERS" -t "$dst2" --rate max --run-id rp-e2e \
  --manifest "$work/m.json" "$work/a.skc" >/dev/null
timeout 120 "$SKYLOAD" tail -b "$SKY_BROKERS" -t "$dst2" -e >"$work/dst2.jsonl"
timeout 120 "$SKYLOAD" record -b "$SKY_BROKERS" -t "$dst2" -o "$work/c.skc" -e >/dev/null
python3 - "$work" "$SKY_SOURCE_DIR/tests/tools" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[2])  # tests/tools: an independent reader of the layout
from skycapture import records
# the recorded skyload-* headers are replaced, not repeated (JSON would hide a repeat)
own = {b"skyload-run", b"skyload-seq", b"skyload-intended"}
for _ts, part, _off, key, hdrs, value in records(sys.argv[1] + "/c.skc"):
    names = [n.rstrip(b"\0") for n, v in hdrs]  # names are stored with their NUL
    assert sorted(n for n in names if n in own) == sorted(own), (key, names)
    assert len(names) == len(set(names)), ("repeated header", key, names)
recs = [json.loads(l) for l in open(sys.argv[1] + "/dst2.jsonl")]
assert len(recs) == 4000, len(recs)
last = {}
for r in sorted(recs, key=lambda r: (r["partition"], r["offset"])):
    h = r["headers"]
    assert h["skyload-run"] == "rp-e2e", h
    seq = int(h["skyload-seq"])
    assert seq == last.get(r["key"], -1) + 1, (r["key"], seq)
    last[r["key"]] = seq
m = json.load(open(sys.argv[1] + "/m.json"))
assert m["kind"] == "replay" and m["run_id"] == "rp-e2e"
assert m["totals"]["delivered"] == 4000 and m["totals"]["flights"] == 100, m["totals"]
assert m["replay"]["read"] == 4000 and m["replay"]["rejected"] == 0, m["replay"]
assert all(f["last_seq"] == 39 and f["partition"] >= 0 for f in m["flights"])
print("default headers and manifest ok")
PY

# A truncated tail loses only the last record.
size=$(stat -c %s "$work/a.skc")
head -c $((size - 7)) "$work/a.skc" >"$work/cut.skc"
out=$("$SKYLOAD" replay --sink null --rate max "$work/cut.skc" 2>&1)
sky_assert_contains "$out" "3999 published" "truncated capture"
sky_assert_contains "$out" "truncated" "truncation reported"
echo "PASS: record -> replay byte for byte"
