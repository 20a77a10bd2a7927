# tests/e2e/lib.sh — sourced by the end-to-end test scripts (bash).
#
#   source "$(dirname "$0")/lib.sh"
#   sky_need_stack                      # skip (77) or fail if the stack is down
#   sky_need_stack kafka pg             # ... only these servers are needed
#   sky_fixture e2e_smoke 6              # name/topic/schema/collection, work, clean-up
#   "$SKYLOAD" simulate -b "$SKY_BROKERS" -t "$topic" ...
#   sky_assert_eq "$(sky_psql -c 'select count(*) from x')" 42 "rows stored"
#
# Inputs (environment): SKYLOAD (the binary, passed by ctest), SKY_SOURCE_DIR
# (repo root; default: two levels above this file), SKY_STACK_DIR (default
# $SKY_SOURCE_DIR/.stack), SKY_KAFKA_PORT / SKY_TILE38_PORT / SKY_PG_PORT,
# CI (=true: a missing stack is a failure, not a skip).
#
# Outputs: SKY_BROKERS, SKY_TILE38 (host:port), PGHOST/PGPORT/PGUSER/PGDATABASE,
# SKY_PG_CONNINFO, SKY_KAFKA_LIBS, SKY_PYTHON (venv python with kafka-python).
#
# Functions never call `exit` except sky_need_stack, sky_fail, sky_skip and the
# asserts; each prints what went wrong on stderr.

# shellcheck shell=bash

SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SKY_STACK_DIR=${SKY_STACK_DIR:-$SKY_SOURCE_DIR/.stack}
SKY_HOST=127.0.0.1
SKY_KAFKA_PORT=${SKY_KAFKA_PORT:-9092}
SKY_TILE38_PORT=${SKY_TILE38_PORT:-9851}
SKY_PG_PORT=${SKY_PG_PORT:-5432}
SKY_BROKERS=${SKY_BROKERS:-$SKY_HOST:$SKY_KAFKA_PORT}
SKY_TILE38=${SKY_TILE38:-$SKY_HOST:$SKY_TILE38_PORT}
SKY_KAFKA_LIBS=${SKY_KAFKA_LIBS:-$SKY_STACK_DIR/kafka/libs}
export PGHOST=${PGHOST:-$SKY_HOST} PGPORT=${PGPORT:-$SKY_PG_PORT}
export PGUSER=${PGUSER:-skyload} PGDATABASE=${PGDATABASE:-skyload}
SKY_PG_CONNINFO=${SKY_PG_CONNINFO:-host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE}
if [[ -x $SKY_STACK_DIR/venv/bin/python ]]; then
  SKY_PYTHON=${SKY_PYTHON:-$SKY_STACK_DIR/venv/bin/python}
else
  SKY_PYTHON=${SKY_PYTHON:-python3}
fi
export SKY_SOURCE_DIR SKY_STACK_DIR SKY_BROKERS SKY_TILE38 SKY_KAFKA_LIBS SKY_PG_CONNINFO SKY_PYTHON

# ---- outcome ---------------------------------------------------------------

# sky_fail MSG...: print "FAIL: MSG" and exit 1
sky_fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# sky_skip MSG...: print "SKIP: MSG" and exit 77 (ctest SKIP_RETURN_CODE);
# under CI=true a skip is a failure (exit 1): CI must run every test.
sky_skip() {
  if [[ ${CI:-} == true ]]; then
    printf 'FAIL (CI=true, would skip): %s\n' "$*" >&2
    exit 1
  fi
  printf 'SKIP: %s\n' "$*" >&2
  exit 77
}

# sky_log MSG...: progress line on stderr, prefixed with the test name
sky_log() {
  printf '[%s] %s\n' "$(basename "${0:-e2e}")" "$*" >&2
}

# ---- stack checks ----------------------------------------------------------

# _sky_tcp_open HOST PORT: true if something accepts a TCP connection
_sky_tcp_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# sky_need_stack [kafka] [tile38] [pg]: the named servers (default: all
# three) must answer; otherwise print why and skip (exit 77) — or fail
# (exit 1) when CI=true.
sky_need_stack() {
  local why=() h p want=("$@")
  ((${#want[@]})) || want=(kafka tile38 pg)
  for p in "${want[@]}"; do
    case $p in
    kafka)
      h=${SKY_BROKERS%%,*}
      if ! _sky_tcp_open "${h%:*}" "${h##*:}"; then
        why+=("Kafka not reachable on $h")
      elif ! kcat -L -b "$SKY_BROKERS" -m 5 >/dev/null 2>&1; then
        why+=("Kafka on $SKY_BROKERS does not answer a metadata request")
      fi
      ;;
    tile38)
      if ! _sky_tcp_open "${SKY_TILE38%:*}" "${SKY_TILE38##*:}"; then
        why+=("Tile38 not reachable on $SKY_TILE38")
      elif [[ $(sky_tile38 PING 2>/dev/null) != PONG ]]; then
        why+=("Tile38 on $SKY_TILE38 does not answer PING with PONG (still loading?)")
      fi
      ;;
    pg | postgres)
      if ! _sky_tcp_open "$PGHOST" "$PGPORT"; then
        why+=("PostgreSQL not reachable on $PGHOST:$PGPORT")
      elif ! pg_isready -q -h "$PGHOST" -p "$PGPORT" -t 5; then
        why+=("PostgreSQL on $PGHOST:$PGPORT is not ready")
      fi
      ;;
    *) sky_fail "sky_need_stack: unknown server '$p' (kafka, tile38, pg)" ;;
    esac
  done
  if ((${#why[@]})); then
    for p in "${why[@]}"; do printf '  %s\n' "$p" >&2; done
    sky_skip "the real stack is not up (start it with: $SKY_SOURCE_DIR/deploy/local/stack up)"
  fi
  if [[ -n ${SKYLOAD:-} && ! -x $SKYLOAD ]]; then
    sky_fail "SKYLOAD=$SKYLOAD is not an executable"
  fi
  return 0
}

# sky_need_cmd CMD...: skip unless every CMD is on PATH
sky_need_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || sky_skip "'$c' is not installed"
  done
}

# ---- names -----------------------------------------------------------------

# sky_unique NAME: prints NAME_<epoch>_<pid>_<random>, lower case, safe as a
# Kafka topic, a PostgreSQL schema and a Tile38 key (letters, digits, _).
sky_unique() {
  local base=${1:-sky} r
  base=$(printf '%s' "$base" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n' '_')
  r=$(od -An -N3 -tu4 /dev/urandom | tr -d ' \n')
  printf '%s_%s_%s_%s\n' "$base" "$(date +%s)" "$$" "$r"
}

# ---- a test's own names on the shared stack --------------------------------

# sky_fixture PREFIX [PARTITIONS]: what one test uses on the shared stack, and its
# clean-up, in one call (not inside $(...): the clean-up is queued in this shell).
# Sets name (unique; also the test's topic, group, PostgreSQL schema and Tile38
# collection: topic, group, schema, collection) and work (a temporary directory).
# With PARTITIONS the topic is created with that many and name.dlq with 1. At exit,
# whatever of them exists goes: work, the topics name, name.dlq and name.events, the
# schema and the collection.
sky_fixture() {
  name=$(sky_unique "$1")
  topic=$name group=$name schema=$name collection=$name
  work=$(mktemp -d)
  sky_on_exit rm -rf "$work"
  sky_on_exit sky_kafka_delete_topic "$name"
  sky_on_exit sky_kafka_delete_topic "$name.dlq"
  sky_on_exit sky_kafka_delete_topic "$name.events"
  sky_on_exit sky_pg_drop_schema "$name"
  sky_on_exit sky_tile38 DROP "$name"
  if [[ -n ${2:-} ]]; then
    sky_kafka_create_topic "$name" "$2"
    sky_kafka_create_topic "$name.dlq" 1
  fi
}

# sky_topics PARTITIONS TOPIC...: creates each topic, deleted again at exit
sky_topics() {
  local parts=$1 t
  shift
  for t in "$@"; do
    sky_kafka_create_topic "$t" "$parts"
    sky_on_exit sky_kafka_delete_topic "$t"
  done
}

# ---- Kafka -----------------------------------------------------------------

# _sky_kafka_java CLASS ARGS...: run a Kafka tool class from the stack's jars
_sky_kafka_java() {
  local cls=$1
  shift
  [[ -d $SKY_KAFKA_LIBS ]] || { echo "no Kafka jars in $SKY_KAFKA_LIBS (run deploy/local/stack up)" >&2; return 1; }
  local l4j=$SKY_STACK_DIR/kafka/tools-log4j.properties
  [[ -f $l4j ]] || l4j=$SKY_SOURCE_DIR/deploy/local/tools-log4j.properties
  java -Xms64m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$l4j" -cp "$SKY_KAFKA_LIBS/*" "$cls" "$@"
}

# sky_kafka_tool CLASS ARGS...: any Kafka command-line class, e.g.
#   sky_kafka_tool org.apache.kafka.tools.ProducerPerformance --topic t ...
sky_kafka_tool() { _sky_kafka_java "$@"; }

# sky_kafka_create_topic TOPIC [PARTITIONS=6] [CONFIG=VALUE...]
sky_kafka_create_topic() {
  local topic=$1 parts=${2:-6} cfg=() c
  shift 2 2>/dev/null || shift $#
  for c in "$@"; do cfg+=(--config "$c"); done
  _sky_kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$SKY_BROKERS" --create \
    --if-not-exists --topic "$topic" --partitions "$parts" --replication-factor 1 "${cfg[@]}" >/dev/null ||
    { echo "could not create topic $topic" >&2; return 1; }
}

# sky_kafka_delete_topic TOPIC: delete if it exists (no error if missing)
sky_kafka_delete_topic() {
  _sky_kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$SKY_BROKERS" --delete \
    --if-exists --topic "$1" >/dev/null
}

# sky_kafka_partitions TOPIC: prints the topic's partition count (via kcat)
sky_kafka_partitions() {
  kcat -L -b "$SKY_BROKERS" -t "$1" -m 5 2>/dev/null | sed -n 's/.* with \([0-9]*\) partitions.*/\1/p' | head -n1
}

# sky_kafka_count TOPIC: prints the number of records in TOPIC (sum over
# partitions of high watermark minus low watermark)
sky_kafka_count() {
  local hi lo
  hi=$(_sky_kafka_java org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$SKY_BROKERS" \
    --topic "$1" --time -1 | awk -F: '{s += $NF} END {print s + 0}') || return 1
  lo=$(_sky_kafka_java org.apache.kafka.tools.GetOffsetShell --bootstrap-server "$SKY_BROKERS" \
    --topic "$1" --time -2 | awk -F: '{s += $NF} END {print s + 0}') || return 1
  echo $((hi - lo))
}

# ---- PostgreSQL ------------------------------------------------------------

# sky_psql ARGS...: psql to the stack database, unaligned tuples only, stops
# on the first error, e.g.  n=$(sky_psql -c "select count(*) from t")
sky_psql() {
  psql -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" "$@"
}

# sky_pg_drop_schema SCHEMA: drop a test schema and everything in it
sky_pg_drop_schema() {
  sky_psql -c "DROP SCHEMA IF EXISTS \"$1\" CASCADE" >/dev/null 2>&1
}

# ---- Tile38 ----------------------------------------------------------------

# sky_tile38 CMD ARG...: run one Tile38 command and print the reply.
# Simple replies (+OK / :3 / $bulk) print as text ("OK", "3", the bulk);
# arrays print one element per line (nested arrays flattened); an error
# reply (-ERR ...) prints on stderr and returns 1. Uses RESP over bash
# /dev/tcp, so no client binary is needed. Each call is one connection, so
# "OUTPUT json" does not carry over: use sky_tile38_json for JSON replies.
sky_tile38() {
  local host=${SKY_TILE38%:*} port=${SKY_TILE38##*:} req a fd
  req="*$#\r\n"
  for a in "$@"; do req+="\$${#a}\r\n$a\r\n"; done
  exec {fd}<>"/dev/tcp/$host/$port" || { echo "cannot connect to Tile38 on $SKY_TILE38" >&2; return 1; }
  printf '%b' "$req" >&"$fd"
  _sky_resp_read "$fd"
  local rc=$?
  exec {fd}<&-
  return $rc
}

# _sky_resp_read FD: read one RESP value from FD and print it (see sky_tile38)
_sky_resp_read() {
  local fd=$1 line n i rc=0 data
  IFS= read -r -t 10 -u "$fd" line || { echo "no reply from Tile38" >&2; return 1; }
  line=${line%$'\r'}
  case ${line:0:1} in
  +) printf '%s\n' "${line:1}" ;;
  :) printf '%s\n' "${line:1}" ;;
  -) printf '%s\n' "${line:1}" >&2; return 1 ;;
  \$)
    n=${line:1}
    ((n < 0)) && { printf '\n'; return 0; }
    # read exactly n bytes (may contain newlines) plus the trailing CRLF
    data=$(dd bs=1 count="$n" <&"$fd" 2>/dev/null; echo x)
    data=${data%x}
    IFS= read -r -t 10 -u "$fd" line || true
    printf '%s\n' "$data"
    ;;
  \*)
    n=${line:1}
    for ((i = 0; i < n; i++)); do _sky_resp_read "$fd" || rc=1; done
    return $rc
    ;;
  *) printf '%s\n' "$line" ;;
  esac
}

# sky_tile38_json CMD ARG...: run a command in JSON output mode and print the
# JSON document (uses the stack's tile38-cli when built, else HTTP-free RESP)
sky_tile38_json() {
  local cli=$SKY_STACK_DIR/bin/tile38-cli
  if [[ -x $cli ]]; then
    "$cli" -h "${SKY_TILE38%:*}" -p "${SKY_TILE38##*:}" --json "$@"
  else
    local host=${SKY_TILE38%:*} port=${SKY_TILE38##*:} req a fd line
    req="*2\r\n\$6\r\nOUTPUT\r\n\$4\r\njson\r\n*$#\r\n"
    for a in "$@"; do req+="\$${#a}\r\n$a\r\n"; done
    exec {fd}<>"/dev/tcp/$host/$port" || return 1
    printf '%b' "$req" >&"$fd"
    _sky_resp_read "$fd" >/dev/null # reply to OUTPUT json
    _sky_resp_read "$fd"
    local rc=$?
    exec {fd}<&-
    return $rc
  fi
}

# ---- asserts ---------------------------------------------------------------

# sky_assert_eq ACTUAL EXPECTED WHAT
sky_assert_eq() {
  [[ "$1" == "$2" ]] || sky_fail "$3: expected '$2', got '$1'"
  sky_log "ok: $3 = '$1'"
}

# sky_assert_ne ACTUAL UNEXPECTED WHAT
sky_assert_ne() {
  [[ "$1" != "$2" ]] || sky_fail "$3: got '$1', which it must not be"
  sky_log "ok: $3 != '$2'"
}

# sky_assert_ge ACTUAL MIN WHAT   (integers)
sky_assert_ge() {
  [[ $1 =~ ^-?[0-9]+$ ]] || sky_fail "$3: '$1' is not an integer"
  (($1 >= $2)) || sky_fail "$3: expected >= $2, got $1"
  sky_log "ok: $3 = $1 (>= $2)"
}

# sky_assert_le ACTUAL MAX WHAT   (integers)
sky_assert_le() {
  [[ $1 =~ ^-?[0-9]+$ ]] || sky_fail "$3: '$1' is not an integer"
  (($1 <= $2)) || sky_fail "$3: expected <= $2, got $1"
  sky_log "ok: $3 = $1 (<= $2)"
}

# sky_assert_contains HAYSTACK NEEDLE WHAT
sky_assert_contains() {
  [[ "$1" == *"$2"* ]] || sky_fail "$3: '$2' not found in: $1"
  sky_log "ok: $3 contains '$2'"
}

# sky_assert_exit EXPECTED_STATUS WHAT CMD ARG...: run CMD, check its status
sky_assert_exit() {
  local want=$1 what=$2 rc=0
  shift 2
  "$@" || rc=$?
  ((rc == want)) || sky_fail "$what: expected exit status $want, got $rc from: $*"
  sky_log "ok: $what (exit $rc)"
}

# sky_wait_until TIMEOUT_S WHAT CMD ARG...: retry CMD every 0.2 s until it
# succeeds; fail after TIMEOUT_S seconds
sky_wait_until() {
  local t=$1 what=$2 end
  shift 2
  end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || sky_fail "timed out after ${t}s waiting for: $what"
    sleep 0.2
  done
}

# ---- cleanup ---------------------------------------------------------------

# sky_on_exit CMD...: queue a cleanup command (run in reverse order at exit)
_SKY_CLEANUP=()
_sky_run_cleanup() {
  local i
  for ((i = ${#_SKY_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${_SKY_CLEANUP[i]}" || true; done
}
sky_on_exit() {
  local q
  printf -v q '%q ' "$@"
  _SKY_CLEANUP+=("$q")
  trap _sky_run_cleanup EXIT
}
