#!/usr/bin/env bash
# The Kubernetes deployment renders and validates offline: kustomize build of base and each
# overlay, kubeconform (strict, offline schemas), client-go strict decoding, distinct shard
# per simulate pod; and the checks are not no-ops: bad objects are rejected.
set -euo pipefail
ROOT=${SKY_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export SKY_DEPLOY_OUT=${SKY_BUILD_DIR:-$ROOT/.stack}/deploy-validate
fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0; "$ROOT/deploy/validate/run" tools || rc=$?
if [[ $rc == 3 && ${CI:-} != true ]]; then echo "SKIP: validation tools cannot be built"; exit 77; fi
[[ $rc == 0 ]] || fail "deploy/validate/run tools exited $rc"
"$ROOT/deploy/validate/run" k8s || fail "deploy/validate/run k8s"

BIN=${SKY_STACK_DIR:-$ROOT/.stack}/bin
schemas=$SKY_DEPLOY_OUT/schemas
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# rows: name | sed expression applied to the rendered local overlay | checker that must reject
rows=(
  "unknown field|s/^\(\s*\)imagePullPolicy: .*//; s/^\(\s*\)restartPolicy: Never/\1restartPolicy: Never\n\1restartPolicyy: Never/|both"
  "wrong type|s/containerPort: 9851/containerPort: \"resp\"/|both"
  "credential in argv|s/- --metrics=0.0.0.0:9100/- -Xsasl.password=hunter2/|decode"
  "unpinned image|s/image: tile38\/tile38:1.34.0/image: tile38\/tile38/|decode"
)
for row in "${rows[@]}"; do
    IFS='|' read -r name expr who <<<"$row"
    sed "$expr" "$SKY_DEPLOY_OUT/k8s-local.yaml" >"$work/bad.yaml"
    cmp -s "$work/bad.yaml" "$SKY_DEPLOY_OUT/k8s-local.yaml" && fail "$name: the edit changed nothing"
    if [[ $who == both ]]; then
        "$BIN/kubeconform" -strict -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
            "$work/bad.yaml" >/dev/null 2>&1 && fail "$name: kubeconform accepted it"
    fi
    "$BIN/skyload-deploy-check" k8s "$work/bad.yaml" >/dev/null 2>&1 && fail "$name: strict decoding accepted it"
done

# Wiring broken on purpose: completions 3 but SHARD_COUNT left at 2 must be visible.
sed '0,/completions: 2/s//completions: 3/' "$SKY_DEPLOY_OUT/k8s-local.yaml" >"$work/wiring.yaml"
shards=$("$BIN/skyload-deploy-check" shards "$work/wiring.yaml" skyload-simulate | jq -r '.argv[] | select(startswith("--shard="))' | sort -u)
[[ $shards == *"--shard=2/2"* ]] || fail "broken wiring not visible in the expanded args: $shards"
echo "PASS: k8s overlays valid; ${#rows[@]} bad variants rejected"
