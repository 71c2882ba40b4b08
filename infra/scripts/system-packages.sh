#!/usr/bin/env bash
# Debian packages the test suite needs: Chromium (headless Web UI test, driven by
# playwright-core), docker-compose (only to validate docker-compose.temporal.yml; no engine),
# redis-server (tests start private instances) and postgresql-client (createdb, dropdb, pg_dump and
# psql for the tests on the PostgreSQL-backed Temporal server; PostgreSQL itself runs as a service).
# Installs only what is missing.
set -euo pipefail
declare -A wanted=( [chromium]=chromium [docker-compose]=docker-compose [redis-server]=redis-server
  [pg_dump]=postgresql-client )
missing=()
for command in "${!wanted[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${wanted[$command]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "all present: ${!wanted[*]}"
  exit 0
fi
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
