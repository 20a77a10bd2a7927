#!/usr/bin/env bash
# Bad scenarios and flags: exit status 2 and a message naming file:line:col or the flag.
set -uo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
d=$SKY_SOURCE_DIR/tests/data/scenarios
failures=0
check() { # expected-status expected-stderr-substring args...
  local want=$1 msg=$2 out rc
  shift 2
  out=$("$SKYLOAD" simulate "$@" --sink null 2>&1 >/dev/null)
  rc=$?
  if [[ $rc != "$want" || $out != *"$msg"* ]]; then
    echo "FAIL: simulate $*: status $rc (want $want), stderr: $out (want: $msg)" >&2
    failures=$((failures + 1))
  fi
}
check 2 "$d/unknown_key.yaml:2:1: unknown key \"duraton\"" -s "$d/unknown_key.yaml"
check 2 "$d/bad_value.yaml:2:10: speedup" -s "$d/bad_value.yaml"
check 2 "$d/bad_bbox.yaml:3:10: bbox" -s "$d/bad_bbox.yaml"
check 2 "$d/bad_yaml.yaml:" -s "$d/bad_yaml.yaml"
check 2 "$d/bad_profile.yaml:2:12: profile: \"wave\"" -s "$d/bad_profile.yaml"
check 2 "neither a file nor a scenario" -s no-such-scenario
check 2 "--aircraft" -n 0
check 2 "--rate" --rate fast
check 2 "--sink" --sink kafkaa
check 2 "shard" --shard 4/4
check 2 "--duration" -d soon
check 2 "--timestamp-format" --timestamp-format rfc822
check 2 "unexpected argument" -n 5 extra
"$SKYLOAD" simulate --help | grep -q "Examples:" || { echo "FAIL: --help" >&2; failures=$((failures + 1)); }
# a flag overrides the scenario: 3 aircraft, 2 cadences = 6 records
n=$("$SKYLOAD" simulate -s smoke -n 3 -d 10s --rate max --sink stdout 2>/dev/null | wc -l)
[[ $n == 6 ]] || { echo "FAIL: flags over scenario gave $n records, want 6" >&2; failures=$((failures + 1)); }
# --json summary on stdout
js=$("$SKYLOAD" simulate -n 3 -d 10s --rate max --sink null --json 2>/dev/null)
[[ $js == *'"produced":6'* ]] || { echo "FAIL: --json summary: $js" >&2; failures=$((failures + 1)); }
[[ $failures == 0 ]] && echo "PASS: simulate errors" || exit 1
