#!/usr/bin/env bash
# The house's rule (docs/architecture.md): every module only uses the floors
# below it. scripts/check_layers.py must pass on this tree and its build, and
# must fail, naming the place, on a planted include and on a planted call from
# lib/ up into ingest/ (a hand-written declaration, which no include check sees).
set -euo pipefail
src=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SKY_BUILD_DIR:-$src/build}
check=$src/scripts/check_layers.py
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

python3 "$check" --root "$src" --build "$build" || fail "the tree itself breaks the layering"

# 1. a planted include: lib/ reaching up into ingest/
mkdir -p "$work/tree"
for m in lib simulator replay ingest verify run bench src; do
  [[ -d $src/$m ]] && cp -r "$src/$m" "$work/tree/$m"
done
printf '#include "ingest.h"\n' >>"$work/tree/lib/codec.c"
line=$(wc -l <"$work/tree/lib/codec.c")
rc=0
python3 "$check" --root "$work/tree" 2>"$work/inc.err" || rc=$?
[[ $rc == 1 ]] || fail "planted include: exit $rc, expected 1"
grep -q "^lib/codec.c:$line: lib includes ingest/ingest.h" "$work/inc.err" ||
  fail "planted include not named: $(cat "$work/inc.err")"

# 2. a planted call: no include, only a declaration written by hand
rm -rf "$work/tree" && mkdir -p "$work/tree/lib" "$work/tree/ingest" \
  "$work/b/CMakeFiles/skyload.dir/lib" "$work/b/CMakeFiles/skyload.dir/ingest"
printf 'int sky_ingest_secret(void) { return 42; }\n' >"$work/tree/ingest/ingest.c"
printf 'int sky_ingest_secret(void);\nint sky_codec_x(void) { return sky_ingest_secret(); }\n' \
  >"$work/tree/lib/codec.c"
gcc -c -o "$work/b/CMakeFiles/skyload.dir/ingest/ingest.c.o" "$work/tree/ingest/ingest.c"
gcc -c -o "$work/b/CMakeFiles/skyload.dir/lib/codec.c.o" "$work/tree/lib/codec.c"
rc=0
python3 "$check" --root "$work/tree" --build "$work/b" 2>"$work/call.err" || rc=$?
[[ $rc == 1 ]] || fail "planted call: exit $rc, expected 1"
grep -q "lib/codec.c.o: lib calls sky_ingest_secret, defined in ingest" "$work/call.err" ||
  fail "planted call not named: $(cat "$work/call.err")"
echo "PASS: layering holds; a planted include and a planted call are both caught"
