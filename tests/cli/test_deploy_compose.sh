#!/usr/bin/env bash
# deploy/compose/compose.yaml loads with compose-go (the compose specification's schema)
# and keeps skyload's rules; a file with an unknown key or a missing healthcheck is rejected.
set -euo pipefail
ROOT=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SKY_DEPLOY_OUT=${SKY_BUILD_DIR:-$ROOT/.stack}/deploy-validate
fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0; "$ROOT/deploy/validate/run" tools >/dev/null || rc=$?
if [[ $rc == 3 && ${CI:-} != true ]]; then echo "SKIP: validation tools cannot be built"; exit 77; fi
[[ $rc == 0 ]] || fail "deploy/validate/run tools exited $rc"
"$ROOT/deploy/validate/run" compose || fail "deploy/validate/run compose"
"$ROOT/deploy/validate/run" docker || fail "deploy/validate/run docker"

check=${SKY_STACK_DIR:-$ROOT/.stack}/bin/skyload-deploy-check
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
rows=(
  "unknown service key|s/^    restart: unless-stopped/    restart: unless-stopped\n    restartt: always/"
  "no healthcheck|/^  tile38:/,/^  timescaledb:/{/healthcheck:/,/retries: 12/d}"
  "ingest not waiting for health|0,/kafka: {condition: service_healthy}/s//kafka: {condition: service_started}/"
)
for row in "${rows[@]}"; do
    IFS='|' read -r name expr <<<"$row"
    sed "$expr" "$ROOT/deploy/compose/compose.yaml" >"$work/compose.yaml"
    cmp -s "$work/compose.yaml" "$ROOT/deploy/compose/compose.yaml" && fail "$name: the edit changed nothing"
    "$check" compose "$work/compose.yaml" >/dev/null 2>&1 && fail "$name: accepted"
done
echo "PASS: compose file valid; ${#rows[@]} bad variants rejected"
