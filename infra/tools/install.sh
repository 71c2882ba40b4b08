#!/usr/bin/env bash
# Builds the pinned operations tools from the Go module proxy into .tools/bin (git-ignored).
# A tool is rebuilt only when missing or when its pinned version changed (a stamp file
# .tools/bin/.NAME.version records the built version).
#   infra/tools/install.sh helm actionlint promtool   build the named tools (default: all three)
#   infra/tools/install.sh --print-path helm          print the binary's path (after building)
# Cold builds on a 2-core machine: helm ~5 min, actionlint ~10 s, promtool several minutes;
# the Go build cache (~/.cache/go-build) makes rebuilds fast.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$root/infra/tools/versions.env"
bin="${TDEV_TOOLS_BIN:-$root/.tools/bin}"
mkdir -p "$bin"

if ! command -v go >/dev/null 2>&1; then
  echo "error: Go is required to build the operations tools from the Go module proxy" >&2
  exit 1
fi

fresh() { # fresh NAME VERSION — true when the binary exists and was built at VERSION
  local stamp="$bin/.$1.version"
  [[ -x "$bin/$1" && -f "$stamp" && "$(cat "$stamp")" == "$2" ]]
}

# A lock per tool, so that two test files asking for the same tool build it once.
with_lock() { # with_lock NAME COMMAND...
  local name="$1"
  shift
  exec {fd}>"$bin/.$name.lock"
  flock "$fd"
  "$@"
  flock -u "$fd"
}

# go_install NAME PACKAGE VERSION — go install PACKAGE@VERSION and rename its binary to NAME.
go_install() {
  local name="$1" package="$2" version="$3"
  fresh "$name" "$version" && return 0
  echo "building $name $version from the Go module proxy ($package) ..." >&2
  local tmp started=$SECONDS
  tmp="$(mktemp -d)"
  if ! GOBIN="$tmp" GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install "$package@$version"; then
    rm -rf "$tmp"
    echo "error: 'go install $package@$version' failed (see above)" >&2
    exit 1
  fi
  mv "$tmp/$(basename "$package")" "$bin/$name"
  rm -rf "$tmp"
  echo "$version" >"$bin/.$name.version"
  echo "built $name in $((SECONDS - started)) s" >&2
}

# build_promtool — promtool from the pinned module in infra/tools/promtool (go.mod with a
# `tool` directive + go.sum, made by `go get -tool ...@$PROMETHEUS_VERSION`).
build_promtool() {
  fresh promtool "$PROMETHEUS_VERSION" && return 0
  if ! grep -q "github.com/prometheus/prometheus $PROMETHEUS_VERSION" "$root/infra/tools/promtool/go.mod"; then
    echo "error: infra/tools/promtool/go.mod does not pin prometheus $PROMETHEUS_VERSION" >&2
    exit 1
  fi
  echo "building promtool $PROMETHEUS_VERSION from the Go module proxy ..." >&2
  local started=$SECONDS
  (cd "$root/infra/tools/promtool" &&
    GOFLAGS=-mod=readonly go build -buildvcs=false -o "$bin/promtool.tmp" github.com/prometheus/prometheus/cmd/promtool)
  mv "$bin/promtool.tmp" "$bin/promtool"
  echo "$PROMETHEUS_VERSION" >"$bin/.promtool.version"
  echo "built promtool in $((SECONDS - started)) s" >&2
}

print_path=false
if [[ "${1:-}" == "--print-path" ]]; then
  print_path=true
  shift
fi
tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=(helm actionlint promtool)
for tool in "${tools[@]}"; do
  case "$tool" in
  helm) with_lock helm go_install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION" ;;
  actionlint) with_lock actionlint go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ;;
  promtool) with_lock promtool build_promtool ;;
  *)
    echo "error: unknown tool '$tool' (helm, actionlint, promtool)" >&2
    exit 2
    ;;
  esac
  if $print_path; then echo "$bin/$tool"; fi
done
