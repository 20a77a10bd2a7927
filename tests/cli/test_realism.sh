#!/usr/bin/env bash
# Traffic realism (issue 23): simulate the world's network for 6 hours (4,000 aircraft,
# every 15 s), then tests/realism/realism.py: per aircraft type and phase, the KS distance
# to OpenAP's WRAP distributions <= 0.1, the share of time in climb / cruise / descent
# against openap's trajectory generator, no teleports, every landed flight within 1 nm of
# its arrival airport, >= 95% of flights touching their airline's country or hubs, none at
# a military-only field. Needs the Python venv of .ci/install-deps (openap, scipy).
set -euo pipefail
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"
SKY_SOURCE_DIR=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
SKY_BUILD_DIR=${SKY_BUILD_DIR:-$(dirname "$SKYLOAD")}
py=""
for cand in "${SKY_REALISM_PYTHON:-}" "${SKY_STACK_DIR:-$SKY_SOURCE_DIR/.stack}/venv/bin/python" \
  "$SKY_SOURCE_DIR/.stack/venv/bin/python"; do
  if [[ -n $cand && -x $cand ]] && "$cand" -c 'import openap, scipy' 2>/dev/null; then
    py=$cand
    break
  fi
done
if [[ -z $py ]]; then
  echo "test_realism: no Python with openap and scipy (run .ci/install-deps, or set SKY_REALISM_PYTHON)" >&2
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash "$SKY_SOURCE_DIR/tests/realism/run.sh" "$SKYLOAD" "$SKY_BUILD_DIR" "$py" "$work" \
  "$SKY_SOURCE_DIR/tests/realism/world.yaml" --json "$work/realism.json"
