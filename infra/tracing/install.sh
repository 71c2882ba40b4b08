#!/usr/bin/env bash
# Builds the pinned Jaeger all-in-one (infra/tracing/versions.env, pinned module in
# infra/tracing/jaeger/go.mod) from the Go module proxy into .tools/bin (git-ignored).
# Rebuilt only when missing or when the pinned version changed (a stamp file records the built
# version). A cold build takes ~8 min on a quiet 2-core machine (more under load); the Go build
# cache (~/.cache/go-build) makes rebuilds fast.
#   infra/tracing/install.sh                 build if needed
#   infra/tracing/install.sh --print-path    build if needed, then print the binary's path
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$root/infra/tracing/versions.env"
bin="${TDEV_TOOLS_BIN:-$root/.tools/bin}"
stamp="$bin/.jaeger.version"
mkdir -p "$bin"

build() {
  if [[ -x "$bin/jaeger" && -f "$stamp" && "$(cat "$stamp")" == "$JAEGER_VERSION" ]]; then
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    echo "error: Go is required to build Jaeger from the Go module proxy" >&2
    exit 1
  fi
  if ! grep -q "github.com/jaegertracing/jaeger $JAEGER_VERSION" "$root/infra/tracing/jaeger/go.mod"; then
    echo "error: infra/tracing/jaeger/go.mod does not pin jaeger $JAEGER_VERSION" >&2
    exit 1
  fi
  echo "building jaeger $JAEGER_VERSION from the Go module proxy (several minutes when cold) ..." >&2
  local started=$SECONDS
  (cd "$root/infra/tracing/jaeger" &&
    GOFLAGS=-mod=readonly go build -buildvcs=false -o "$bin/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$bin/jaeger.tmp" "$bin/jaeger"
  echo "$JAEGER_VERSION" >"$stamp"
  echo "built jaeger in $((SECONDS - started)) s" >&2
}

# A lock, so that two callers (a test and `npm start`) build it once.
exec {fd}>"$bin/.jaeger.lock"
flock "$fd"
build
flock -u "$fd"
if [[ "${1:-}" == "--print-path" ]]; then echo "$bin/jaeger"; fi
