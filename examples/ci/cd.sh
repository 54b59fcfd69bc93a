#!/usr/bin/env bash
# The CD job the registry's deployer triggers (GitHub `workflow_dispatch`, GitLab pipeline
# trigger) once a version is approved: deploy the version's artifact, then report the outcome
# to the callback URL the deployer sent — it carries its own single-use token, so this job
# needs no registry credential.
#
# Inputs (workflow_dispatch inputs / pipeline variables): DEPLOYMENT_ID, MODEL, VERSION,
# ARTIFACT_URI, ARTIFACT_DIGEST, CALLBACK_URL. DEPLOY_COMMAND (optional) is what deploys here.
set -euo pipefail
: "${DEPLOYMENT_ID:?}" "${MODEL:?}" "${VERSION:?}" "${CALLBACK_URL:?}"

report() {
  # $1: succeeded|failed, $2: message
  python3 - "$CALLBACK_URL" "$1" "$2" <<'PY'
import json, sys, urllib.request
url, status, message = sys.argv[1:4]
request = urllib.request.Request(url, data=json.dumps({"status": status, "message": message}).encode(), method="POST", headers={"content-type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    print(f"reported {status} to the registry: {response.status}")
PY
}

echo "deploying $MODEL v$VERSION (deployment $DEPLOYMENT_ID, artifact ${ARTIFACT_URI:-?} ${ARTIFACT_DIGEST:-})"
if ${DEPLOY_COMMAND:-true}; then
  report succeeded "deployed $MODEL v$VERSION by CD run ${RUN_ID:-local}"
else
  report failed "the deploy step failed (CD run ${RUN_ID:-local}); see its log"
  exit 1
fi
