#!/usr/bin/env bash
# The Indexed Job's shard wiring, end to end without a cluster: each pod of the local and
# capacity overlays runs simulate with the --shard its index expands to (sink null), and
# the pods' manifests merge to the unsharded run: same flights, disjoint, totals add up.
set -euo pipefail
ROOT=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SKY_DEPLOY_OUT=${SKY_BUILD_DIR:-$ROOT/.stack}/deploy-validate
fail() { echo "FAIL: $*" >&2; exit 1; }
: "${SKYLOAD:?SKYLOAD must name the skyload binary}"

rc=0; "$ROOT/deploy/validate/run" k8s >/dev/null || rc=$?
if [[ $rc == 3 && ${CI:-} != true ]]; then echo "SKIP: validation tools cannot be built"; exit 77; fi
[[ $rc == 0 ]] || fail "deploy/validate/run k8s exited $rc"

check=${SKY_STACK_DIR:-$ROOT/.stack}/bin/skyload-deploy-check
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
sim() { "$SKYLOAD" simulate -s "$ROOT/deploy/k8s/overlays/local/scenario.yaml" -d 20s --seed 7 \
          --start-time 2026-11-25T10:00:00Z --rate max --sink null "$@" 2>/dev/null; }
sim --manifest "$work/all.json" || fail "unsharded simulate"

for overlay in local capacity; do
    rm -f "$work"/pod-*.json
    "$check" shards "$SKY_DEPLOY_OUT/k8s-$overlay.yaml" skyload-simulate >"$work/pods.jsonl"
    while read -r index shard; do
        sim "$shard" --manifest "$work/pod-$index.json" || fail "$overlay pod $index: simulate $shard"
    done < <(jq -r '"\(.index) \(.argv[] | select(startswith("--shard=")))"' "$work/pods.jsonl")
    jq -e -s '
        (.[0]) as $all | (.[1:]) as $pods
        | ([$pods[].flights[].id] | sort) == ([$all.flights[].id] | sort)
          and ([$pods[].flights[].id] | length) == ([$pods[].flights[].id] | unique | length)
          and ([$pods[].totals.produced] | add) == $all.totals.produced
          and ([$pods[].totals.expected_unique] | add) == $all.totals.expected_unique
    ' "$work/all.json" "$work"/pod-*.json >/dev/null ||
        fail "$overlay: the pods' manifests do not merge to the unsharded run"
    echo "$overlay: $(wc -l <"$work/pods.jsonl") pods, manifests merge to the unsharded run"
done
echo "PASS: shard wiring"
