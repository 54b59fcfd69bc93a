#!/usr/bin/env bash
# Writes deploy/compose/.env and deploy/compose/seed-tokens.json with a fresh server secret
# (MRW_SECRET_KEY) and fresh, matching tokens (openssl rand -base64 32 each: 44 characters,
# the services want 32+). Refuses to overwrite existing files unless --force: a new
# MRW_SECRET_KEY invalidates every token of a running suite, and new tokens must be
# re-seeded (see deploy/README.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env_file="$here/.env"
seed_file="$here/seed-tokens.json"

if [[ "${1:-}" != "--force" ]] && { [[ -e "$env_file" ]] || [[ -e "$seed_file" ]]; }; then
  echo "init-secrets: $env_file or $seed_file exists already; pass --force to replace both" >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "init-secrets: openssl is needed" >&2; exit 1; }

token() { openssl rand -base64 32 | tr -d '\n'; }

secret_key="$(token)"
admin="$(token)"
evaluator="$(token)"
approvals="$(token)"
archival="$(token)"
deployer="$(token)"
postgres="$(token)"

umask 077
cat > "$env_file" <<ENV
# Written by deploy/compose/init-secrets.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Do not commit.
# MRW_SECRET_KEY: shared by every service; back it up apart from the event store (losing it
# invalidates every token, see .env.example).
MRW_SECRET_KEY=$secret_key
MRW_ADMIN_TOKEN=$admin
MRW_EVALUATOR_TOKEN=$evaluator
MRW_APPROVALS_TOKEN=$approvals
MRW_ARCHIVAL_TOKEN=$archival
MRW_DEPLOYER_TOKEN=$deployer
# The PostgreSQL password of compose.postgres.yaml (unused by compose.yaml).
POSTGRES_PASSWORD=$postgres
ENV

# base64 output (A-Z a-z 0-9 + / =) needs no JSON escaping.
cat > "$seed_file" <<JSON
[
  {"subject": "evaluator", "kind": "service", "roles": ["service"], "token": "$evaluator"},
  {"subject": "approvals", "kind": "service", "roles": ["service"], "token": "$approvals"},
  {"subject": "archival", "kind": "service", "roles": ["service"], "token": "$archival"},
  {"subject": "deployer", "kind": "service", "roles": ["service"], "token": "$deployer"}
]
JSON
# Compose (outside swarm) bind-mounts secret files with their host permissions: the
# registry runs as uid 1000 in its container and must be able to read this one.
chmod 0644 "$seed_file"

echo "wrote $env_file (mode 600) and $seed_file"
echo "the admin token is MRW_ADMIN_TOKEN in .env: export ADMIN=\$(grep ^MRW_ADMIN_TOKEN= $env_file | cut -d= -f2-)"
