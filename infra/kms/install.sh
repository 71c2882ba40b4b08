#!/usr/bin/env bash
# Builds the pinned local-kms (infra/kms/versions.env) from the Go module proxy into .tools/bin
# (git-ignored). Rebuilt only when missing or when the pinned version changed (~15 s cold).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$root/infra/kms/versions.env"
bin="$root/.tools/bin"
stamp="$bin/.local-kms.version"
mkdir -p "$bin"
if [[ -x "$bin/local-kms" && -f "$stamp" && "$(cat "$stamp")" == "$LOCAL_KMS_VERSION" ]]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is required to build local-kms from the Go module proxy" >&2
  exit 1
fi
echo "building local-kms $LOCAL_KMS_VERSION from the Go module proxy ..." >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
  go install "github.com/nsmithuk/local-kms@$LOCAL_KMS_VERSION"
mv "$tmp/local-kms" "$bin/local-kms"
echo "$LOCAL_KMS_VERSION" >"$stamp"
echo "built local-kms in $((SECONDS - started)) s" >&2
