#!/usr/bin/env bash
# npm stop: stops the API, worker, DynamoDB-compatible store and Temporal dev server.
# State stays in .data/ (sessions survive); delete .data/ for a clean slate.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
node --import tsx infra/stack/stack.ts down
