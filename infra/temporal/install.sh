#!/usr/bin/env bash
# Builds the pinned Temporal tools from the Go module proxy into .tools/bin (git-ignored).
# A tool is rebuilt only when missing or when its pinned version changed.
#   infra/temporal/install.sh               temporal CLI (dev server + Web UI): what `npm start` needs
#   infra/temporal/install.sh --with-tctl    also tctl (the operator tests and runbook use it)
#   infra/temporal/install.sh --with-server  also the standalone server and temporal-sql-tool
# The tools asked for are built in parallel (each is one `go` process; the build cache is shared).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$root/infra/temporal/versions.env"
bin="$root/.tools/bin"
mkdir -p "$bin"

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is required to build Temporal from the Go module proxy (go >= 1.25)" >&2
  exit 1
fi

# build NAME PACKAGE VERSION — go install PACKAGE@VERSION and rename its binary to NAME.
build() {
  local name="$1" package="$2" version="$3"
  local stamp="$bin/.$name.version"
  if [[ -x "$bin/$name" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    return 0
  fi
  echo "building $name $version from the Go module proxy ($package) ..." >&2
  local tmp
  tmp="$(mktemp -d)"
  local started=$SECONDS
  if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install "$package@$version"; then
    rm -rf "$tmp"
    echo "error: 'go install $package@$version' failed (see above)" >&2
    exit 1
  fi
  mv "$tmp/$(basename "$package")" "$bin/$name"
  rm -rf "$tmp"
  echo "$version" >"$stamp"
  echo "built $name in $((SECONDS - started)) s" >&2
}

# build_tctl — tctl from the pinned module in infra/temporal/tctl (go.mod + go.sum). `go install
# tctl@version` cannot be used here: it asks the proxy for the module's version list, which
# the proxy refuses (403), while the pinned version itself downloads fine.
build_tctl() {
  local stamp="$bin/.tctl.version"
  if [[ -x "$bin/tctl" && -f "$stamp" && "$(cat "$stamp")" == "$TCTL_VERSION" ]]; then
    return 0
  fi
  if ! grep -q "github.com/temporalio/tctl $TCTL_VERSION" "$root/infra/temporal/tctl/go.mod"; then
    echo "error: infra/temporal/tctl/go.mod does not pin tctl $TCTL_VERSION" >&2
    exit 1
  fi
  echo "building tctl $TCTL_VERSION from the Go module proxy ..." >&2
  local started=$SECONDS
  (cd "$root/infra/temporal/tctl" && GOFLAGS=-mod=readonly go build -buildvcs=false -o "$bin/tctl" github.com/temporalio/tctl/cmd/tctl)
  echo "$TCTL_VERSION" >"$stamp"
  echo "built tctl in $((SECONDS - started)) s" >&2
}

with_tctl=false
with_server=false
for argument in "$@"; do
  case "$argument" in
    --with-tctl) with_tctl=true ;;
    --with-server) with_server=true ;;
    *) echo "error: unknown option $argument" >&2; exit 2 ;;
  esac
done

pids=()
build temporal github.com/temporalio/cli/cmd/temporal "$TEMPORAL_CLI_VERSION" &
pids+=($!)
if $with_tctl; then
  build_tctl &
  pids+=($!)
fi
if $with_server; then
  build temporal-server go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION" &
  pids+=($!)
  build temporal-sql-tool go.temporal.io/server/cmd/tools/sql "$TEMPORAL_SERVER_VERSION" &
  pids+=($!)
fi
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
