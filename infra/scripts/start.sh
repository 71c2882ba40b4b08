#!/usr/bin/env bash
# npm start: set up everything, start the local stack (Temporal dev server with Web UI,
# DynamoDB-compatible store, worker, API) and run a real sample session end to end.
# TRACING=1 npm start: Jaeger as well (built on first use), and every process traces into it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# Node 20 is past end-of-life; the AWS SDK says so on every start. We know (see README).
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

bash infra/scripts/setup.sh

printf '\n== starting the stack\n'
node --import tsx infra/stack/stack.ts up

printf '\n== a sample session, followed live (approval requested, approved by the CLI)\n'
request="${TDEV_DEMO_REQUEST:-Design and implement OAuth login for the billing service, with tests, a security review and docs}"
status=0
bin/tdev start "$request" --title "Demo: OAuth login for billing" --project billing --auto-approve || status=$?

jaeger_line=''
case "${TRACING:-}" in
1 | true | on) jaeger_line="  Jaeger UI  http://localhost:${JAEGER_UI_PORT:-16686}/search?service=tdev-api   (the session's trace: HTTP request → workflow → activities → model calls)
" ;;
esac
cat <<EOT

The stack keeps running:
  Web UI     http://localhost:${TEMPORAL_UI_PORT:-8233}/namespaces/default/workflows   (search: TDevTenant="demo")
${jaeger_line}  CLI        bin/tdev list | bin/tdev start "<request>" --approval
  stop it    npm stop
EOT
exit $status
