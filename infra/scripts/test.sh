#!/usr/bin/env bash
# npm test: installs what the tests need, then runs every test (unit, replay, integration
# against real Temporal/DynamoDB-compatible servers the tests start, API, CLI, Web UI).
# Extra arguments go to jest, e.g. `npm test -- test/unit`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash infra/scripts/setup.sh --system-packages
printf '\n== tests\n'
exec npx jest "$@"
