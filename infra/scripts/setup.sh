#!/usr/bin/env bash
# Everything the project needs on a fresh machine, installed by the project itself:
# npm dependencies, the Temporal tools (Go module proxy) and, with --system-packages, the
# Debian packages the tests use. Safe to run repeatedly; each part is skipped when present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

step() { printf '\n== %s\n' "$*"; }

step "npm dependencies"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  echo "up to date"
fi

if [[ "${1:-}" == "--system-packages" ]]; then
  # The standalone server + temporal-sql-tool: the durability, DR-drill and data-protection tests
  # also run on PostgreSQL. Built only when missing or when its pinned version changed. Measured
  # on 2 shared cores: cold 16 min (modules downloaded, both tools in parallel); binary missing
  # but Go build cache warm 13 s; binaries present 0.03 s. CI caches .tools/bin and the Go caches.
  step "Temporal CLI, tctl and the standalone server (PostgreSQL), pinned, from the Go module proxy"
  bash infra/temporal/install.sh --with-tctl --with-server
else
  step "Temporal CLI (dev server + Web UI), pinned, from the Go module proxy"
  bash infra/temporal/install.sh
fi
bash infra/kms/install.sh # local-kms: payload encryption keys for the stack and the tests

if [[ "${1:-}" == "--system-packages" ]]; then
  step "Debian packages for the tests"
  bash infra/scripts/system-packages.sh
  bash infra/scripts/media-packages.sh
fi
