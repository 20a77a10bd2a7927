#!/usr/bin/env bash
# skyload map's command line: --help, bad options and an unreachable Tile38
# give the documented exit status and a message naming the problem.
set -uo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
failures=0
check() { # expected-status expected-output-substring args...
  local want=$1 msg=$2 out rc
  shift 2
  out=$("$SKYLOAD" map "$@" 2>&1)
  rc=$?
  if [[ $rc != "$want" || $out != *"$msg"* ]]; then
    echo "FAIL: map $*: status $rc (want $want), output: $out (want: $msg)" >&2
    failures=$((failures + 1))
  fi
}
check 0 "usage: skyload map" --help
check 0 "--events-topic" --help
check 2 "--listen \"8080\": expected HOST:PORT" --listen 8080
check 2 "the host must be an IPv4 address" --listen example.com:80
check 2 "--listen \"127.0.0.1:70000\"" --listen 127.0.0.1:70000
check 2 "--max-aircraft" --max-aircraft 0
check 2 "unexpected argument" extra
check 2 "--schema" --schema 'bad"name' --tile38 127.0.0.1:1
# nothing listens on port 1: Tile38 unreachable is exit 3, before any port is taken
check 3 "127.0.0.1:1" --tile38 127.0.0.1:1 --listen 127.0.0.1:0
"$SKYLOAD" --help | grep -q '^  map ' || { echo "FAIL: map is not in skyload --help" >&2; failures=$((failures + 1)); }
((failures == 0)) && echo "PASS: skyload map CLI"
exit $((failures > 0))
