#!/usr/bin/env bash
# The CI job of a merge to main: train, register the model as a new version, move it to
# Staging and wait for the registry's evaluation, then ask for Production — which opens the
# approval gate; a reviewer's approval makes the registry trigger the CD workflow (deploy.yml).
#
# Needs: MRW_URL, MRW_TOKEN (a contributor token scoped to the model), MODEL; optional
# RUN_ID (the CI run, e.g. GITHUB_RUN_ID), TRAIN_ARGS, BUILD_DIR (default build), MRW_CLI (default: npx mrw).
set -euo pipefail
cd "$(dirname "$0")"
: "${MRW_URL:?set MRW_URL}" "${MRW_TOKEN:?set MRW_TOKEN}" "${MODEL:?set MODEL}"
RUN_ID="${RUN_ID:-local-$(date +%s)}"
read -r -a MRW <<< "${MRW_CLI:-npx mrw}"
OUT="${BUILD_DIR:-build}/${RUN_ID}"

echo "::group::train"
# shellcheck disable=SC2086 # TRAIN_ARGS is a list of arguments
python3 train.py --out "$OUT" ${TRAIN_ARGS:-}
ACCURACY=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['accuracy'])" "$OUT/metrics.json")
echo "::endgroup::"

echo "::group::register"
# The run id is the idempotency key: a re-run of this job registers nothing new.
VERSION=$("${MRW[@]}" versions register "$MODEL" "$OUT/model.onnx" --metric "accuracy=$ACCURACY" --run-id "$RUN_ID" \
  --idempotency-key "ci-$RUN_ID" --tag "git.commit=${GIT_COMMIT:-unknown}" --json |
  python3 -c "import json,sys; print(json.load(sys.stdin)['version'])")
echo "registered $MODEL v$VERSION"
echo "::endgroup::"

echo "::group::staging"
# Exits non-zero when the evaluation fails or the version is refused: the CI run fails with the reasons.
"${MRW[@]}" promote "$MODEL" "$VERSION" --to Staging --wait --timeout "${STAGING_TIMEOUT:-10m}"
echo "::endgroup::"

echo "::group::production"
# Opens the approval gate (the gates must pass); deployment follows the reviewers' approval.
"${MRW[@]}" promote "$MODEL" "$VERSION" --to Production --comment "CI run $RUN_ID (commit ${GIT_COMMIT:-unknown})"
echo "::endgroup::"
echo "version=$VERSION" >> "${GITHUB_OUTPUT:-/dev/null}"
