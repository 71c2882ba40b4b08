#!/usr/bin/env bash
# npm run bench: set up what the bench needs, then measure our session workflow and API against
# raw Temporal on servers the bench starts itself. Results: bench/results/latest.json.
# Extra arguments go to bench/run.ts, e.g. `npm run bench -- --only per-step`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# Node 20 is past end-of-life; the AWS SDK says so on every start. We know (see README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash infra/scripts/setup.sh
printf '\n== benchmark\n'
# --expose-gc: the agent-spec metric forces GC around its heap measurement.
exec node --expose-gc --import tsx bench/run.ts "$@"
