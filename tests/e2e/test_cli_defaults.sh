#!/usr/bin/env bash
# Where every command finds its servers, and what it says when it cannot:
# - SKY_BROKERS / SKY_TILE38 (what `deploy/local/stack env` exports) are honoured by
#   every command, and a flag wins over them;
# - with no --pg and no PG*, PostgreSQL is the local stack's (127.0.0.1:5432, user and
#   database skyload), while --pg, a service file and the user's PG* still win;
# - an unreachable server is named with the address tried;
# - `--tile38 none` means "no Tile38" in verify as in ingest and run;
# - verify of a replayed topic nothing ingests says which checks need an ingest, and
#   passes with them skipped;
# - replay into a topic it creates does not count the creation in kafka_ack: its ack
#   p50 is close to the same replay's into the existing topic.
# Every command runs in a fresh environment (env -i) with only what the case gives it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
sky_need_stack kafka tile38 pg
sky_fixture e2e_defaults
schema=$(sky_unique e2e_defaults_none) # never created: "nothing ingested here"
DOWN=127.0.0.1:1                       # nothing listens on port 1

# sk VAR=VALUE... -- ARGS...: skyload in a fresh environment; output in $work/out, $work/err
sk() {
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  rc=0
  env -i PATH=/usr/bin:/bin HOME="$work" "${envs[@]}" "$SKYLOAD" "$@" >"$work/out" 2>"$work/err" || rc=$?
}
expect_rc() { [[ $rc == "$1" ]] || { cat "$work/err" >&2; sky_fail "$2: exit $rc, expected $1"; }; }
expect_err() { grep -qF -- "$1" "$work/err" || { cat "$work/err" >&2; sky_fail "$2: '$1' not said"; }; }
STACK_ENV=(SKY_BROKERS="$SKY_BROKERS" SKY_TILE38="$SKY_TILE38" PGHOST="$PGHOST" PGPORT="$PGPORT"
  PGUSER="$PGUSER" PGDATABASE="$PGDATABASE")

# ---- replay into a fresh topic vs the existing one: kafka_ack p50 -----------------
"$SKYLOAD" simulate -n 200 -d 60s --seed 3 --start-time 2026-11-25T10:00:00Z --rate max \
  --sink "file:$work/sim.jsonl" >/dev/null 2>&1
p50() { # MANIFEST -> kafka_ack p50 in microseconds (verify's own reading of the manifest)
  sk "${STACK_ENV[@]}" -- verify --manifest "$1" --skip pg,tile38,dlq --format json
  expect_rc 0 "verify --skip pg,tile38,dlq of a replay"
  "$SKY_PYTHON" -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(int([s for s in d["latency"] if s["stage"] == "kafka_ack"][0]["p50_ms"] * 1000))' "$work/out"
}
sk SKY_BROKERS="$SKY_BROKERS" -- replay -t "$topic" --rate max --manifest "$work/fresh.json" "$work/sim.jsonl"
expect_rc 0 "replay into a fresh topic (SKY_BROKERS only)"
sk SKY_BROKERS="$SKY_BROKERS" -- replay -t "$topic" --rate max --manifest "$work/again.json" "$work/sim.jsonl"
expect_rc 0 "replay into the existing topic"
fresh=$(p50 "$work/fresh.json") again=$(p50 "$work/again.json")
sky_log "kafka_ack p50: fresh topic ${fresh} us, existing topic ${again} us"
limit=$((again * 3 > again + 50000 ? again * 3 : again + 50000))
sky_assert_le "$fresh" "$limit" "fresh-topic ack p50 (us), at most 3x or +50 ms of the existing topic's"
sky_assert_le "$fresh" 500000 "fresh-topic ack p50 (us): topic creation (~1 s) not in it"

# ---- verify of that replayed topic: nothing ingests it ----------------------------
sk "${STACK_ENV[@]}" -- verify --manifest "$work/fresh.json" --schema "$schema"
expect_rc 3 "verify with pg but no ingest"
expect_err "no table $schema.flight_positions" "verify names the missing table"
expect_err "--skip pg when no ingest reads this topic" "verify says how to skip the check"
sk "${STACK_ENV[@]}" -- verify --manifest "$work/fresh.json" --skip pg,dlq --tile38 none
expect_rc 0 "verify --tile38 none --skip pg,dlq"
! grep -q '^tile38' "$work/out" || sky_fail "--tile38 none still ran the tile38 check"
grep -q '^kafka.complete *PASS' "$work/out" || sky_fail "kafka check did not run"
sk "${STACK_ENV[@]}" -- verify --manifest "$work/fresh.json" --tile38 127.0.0.1
expect_rc 2 "verify --tile38 without a port"

# ---- SKY_BROKERS / SKY_TILE38 are read, a flag wins --------------------------------
sk SKY_BROKERS="$SKY_BROKERS" -- tail -t "$topic" -c 3
expect_rc 0 "tail with SKY_BROKERS only"
sky_assert_eq "$(wc -l <"$work/out")" 3 "records tail read through SKY_BROKERS"
sk SKY_BROKERS=$DOWN -- tail -b "$SKY_BROKERS" -t "$topic" -c 3
expect_rc 0 "tail -b over SKY_BROKERS"
pids=()
for cmd in "tail -t $topic -c 1" "record -t $topic -o $work/x.skc -c 1" \
  "replay -t $topic $SKY_SOURCE_DIR/tests/data/replay/flights.csv" "simulate -n 1 -d 5s -t $topic"; do
  name=${cmd%% *}
  (s=0
    env -i PATH=/usr/bin:/bin HOME="$work" SKY_BROKERS=$DOWN "$SKYLOAD" $cmd >/dev/null 2>"$work/$name.err" || s=$?
    echo $s >"$work/$name.rc") &
  pids+=($!)
done
wait "${pids[@]}"
for name in tail record replay simulate; do
  [[ $(cat "$work/$name.rc") == 3 ]] || sky_fail "$name with SKY_BROKERS=$DOWN: exit $(cat "$work/$name.rc")"
  grep -qF "Kafka does not answer at $DOWN" "$work/$name.err" ||
    { cat "$work/$name.err" >&2; sky_fail "$name does not name SKY_BROKERS' address"; }
done
sky_log "ok: tail, record, replay, simulate use SKY_BROKERS and name it when down"
sk "${STACK_ENV[@]}" SKY_TILE38=$DOWN -- verify --manifest "$work/fresh.json" --skip kafka,dlq,pg
expect_rc 3 "verify with SKY_TILE38 down"
expect_err "Tile38 does not answer at $DOWN" "verify names SKY_TILE38's address"
expect_err "--tile38 none" "verify says how to go without Tile38"
sk "${STACK_ENV[@]}" SKY_TILE38=$DOWN -- verify --manifest "$work/fresh.json" --skip kafka,dlq,pg \
  --tile38 "$SKY_TILE38"
expect_rc 1 "verify --tile38 over SKY_TILE38 (reaches Tile38; nothing ingested: check fails)"
# ingest starts with Tile38 down (it holds its batches until Tile38 answers, issue 16):
# it names SKY_TILE38's address at once; here it then stops on the schema nobody made
sk "${STACK_ENV[@]}" SKY_TILE38=$DOWN -- ingest -t "$topic" --schema "$schema"
expect_rc 2 "ingest with SKY_TILE38 down and no schema"
expect_err "Tile38 $DOWN: Connection refused" "ingest names SKY_TILE38's address"

# ---- PostgreSQL: the stack's by default; --pg, a service, PG* win -----------------
pgcheck=(verify --manifest "$work/fresh.json" --skip kafka,dlq,tile38 --schema "$schema")
sk -- "${pgcheck[@]}"
if [[ $PGHOST == 127.0.0.1 && $PGPORT == 5432 && $PGUSER == skyload && $PGDATABASE == skyload ]]; then
  expect_err "no table $schema.flight_positions in database \"skyload\"" "no PG* at all: the stack's database"
else
  expect_err "at 127.0.0.1:5432" "no PG* at all: the stack's address is tried"
fi
sk PGHOST="$PGHOST" PGPORT=1 -- "${pgcheck[@]}"
expect_rc 3 "PGPORT=1"
expect_err "PostgreSQL does not answer at $PGHOST:1" "PGPORT wins over the default"
sk PGHOST="$PGHOST" PGPORT=1 -- "${pgcheck[@]}" --pg "port=$PGPORT"
expect_err "no table $schema.flight_positions in database \"skyload\"" "--pg port wins over PGPORT"
printf '[e2e_defaults]\nhost=%s\nport=1\n' "$PGHOST" >"$work/pg_service.conf"
sk PGSERVICEFILE="$work/pg_service.conf" PGSERVICE=e2e_defaults PGHOST="$PGHOST" PGPORT="$PGPORT" -- "${pgcheck[@]}"
expect_err "PostgreSQL does not answer at $PGHOST:1" "PGSERVICE's port wins over PGPORT and the default"
sk PGSERVICEFILE="$work/pg_service.conf" PGHOST="$PGHOST" PGPORT="$PGPORT" -- "${pgcheck[@]}" --pg service=e2e_defaults
expect_err "PostgreSQL does not answer at $PGHOST:1" "--pg service= wins"
sk PGHOST="$PGHOST" PGPORT="$PGPORT" PGDATABASE=postgres -- "${pgcheck[@]}"
expect_err "in database \"postgres\"" "PGDATABASE wins over the default database"
sky_log "ok: defaults, variables and flags in the right order"
