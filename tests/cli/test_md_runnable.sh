#!/usr/bin/env bash
# tests/e2e/runnable.sh without a stack: which blocks and lines it runs, that the
# shell is fresh, that `export` carries on, that "Ctrl-C stops it" lines get SIGINT,
# and that a broken line fails the run naming FILE:LINE -- on a sample and on a
# copy of README.md whose second command is broken.
set -euo pipefail
: "${SKYLOAD:?}" "${SKY_SOURCE_DIR:?}"
source "$SKY_SOURCE_DIR/tests/e2e/runnable.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
bin=$(dirname "$SKYLOAD")
fence='```'

cat >"$work/doc.md" <<MD
Text.

${fence}sh
false    # a plain sh block is documentation only
${fence}

${fence}sh runnable
export GREETING=hello          # carries on to the next lines

test "\$GREETING" = hello && test -z "\${SKY_BROKERS:-}\${PGHOST:-}"
printf '%s\n' one \\
  two > lines.txt
test "\$(wc -l < lines.txt)" = 2
skyload simulate --sink null --aircraft 10 --duration 0 --rate 100   # Ctrl-C stops it
${fence}

${fence}
false
${fence}
MD
lines=$(runnable_lines "$work/doc.md")
[[ $(wc -l <<<"$lines") == 5 ]] || fail "expected 5 commands, got: $lines"
[[ $(sed -n 1p <<<"$lines" | cut -f1) == 8 ]] || fail "first command's line number"
[[ $(sed -n 3p <<<"$lines") == $'11\tprintf \'%s\\n\' one   two > lines.txt' ]] ||
  fail "continuation not joined: $(sed -n 3p <<<"$lines")"

export SKY_BROKERS=must-not-leak:1 PGHOST=must-not-leak
mkdir -p "$work/run"
runnable_run "$work/doc.md" "$work/run" "$bin:/usr/local/bin:/usr/bin:/bin" 2>"$work/log" ||
  { cat "$work/log" >&2; fail "the sample's lines did not all run"; }
grep -q 'skyload simulate: .*(stopped)' "$work/log" || fail "the Ctrl-C line was not stopped by SIGINT"

# One broken line: the run fails there, naming it, and runs nothing after it.
sed 's/^test "\$(wc -l/test "$(wc -L/' "$work/doc.md" >"$work/broken.md"
rc=0
runnable_run "$work/broken.md" "$work/run" "$bin:/usr/bin:/bin" 2>"$work/log" || rc=$?
[[ $rc != 0 ]] || fail "a broken line did not fail the run"
grep -q "^FAIL: $work/broken.md:13: exit 1: test" "$work/log" || { cat "$work/log" >&2; fail "FAIL line"; }
! grep -q 'skyload simulate' "$work/log" || fail "lines after the broken one ran"

# README.md: its usage block is found, and a copy with its second command broken fails
# at that line before any server is needed.
n=$(runnable_lines "$SKY_SOURCE_DIR/README.md" | wc -l)
((n >= 15)) || fail "README.md: only $n runnable commands found"
first=$(runnable_lines "$SKY_SOURCE_DIR/README.md" | sed -n 2p)
[[ $(cut -f2 <<<"$first") == "skyload --help"* ]] || fail "README's second command: $first"
awk -v n="$(cut -f1 <<<"$first")" 'NR == n { sub(/--help/, "--hepl") } { print }' \
  "$SKY_SOURCE_DIR/README.md" >"$work/README.md"
runnable_workdir "$work/clone" "$bin" "$work/no-stack"
rc=0
runnable_run "$work/README.md" "$work/clone" 2>"$work/log" || rc=$?
[[ $rc != 0 ]] || fail "README.md with a broken line still passed"
grep -q "^FAIL: $work/README.md:$(cut -f1 <<<"$first"): exit 2: skyload --hepl" "$work/log" ||
  { cat "$work/log" >&2; fail "README failure not named"; }
echo "PASS: runnable markdown blocks"
