#!/usr/bin/env bash
# Production-like Temporal: the standalone server v1.31.2 on this machine's PostgreSQL, in the
# foreground (Ctrl-C or SIGTERM stops it). Idempotent: run it again and it reuses the databases.
#   1. builds temporal-server and temporal-sql-tool (infra/temporal/install.sh --with-server)
#   2. creates the databases if missing and sets up or updates their schemas (temporal-sql-tool,
#      schema files of the pinned server module from the Go module cache)
#   3. starts the server with infra/temporal/postgres/temporal-server.yaml
#   4. registers the namespace and the platform's search attributes (core/names.ts) with
#      .tools/bin/temporal, and waits until sessions can use them; then it prints "ready".
#
# Settings (environment):
#   TEMPORAL_PG_PORT    frontend gRPC port (7233). Every other server port derives from it unless
#                       set: HTTP +10, history +1, matching +2, worker +6, membership ports -300
#                       from their service's port, Prometheus metrics +767 (8000 for 7233).
#   TEMPORAL_DB_HOST (127.0.0.1)  TEMPORAL_DB_PORT (5432)  TEMPORAL_DB_USER (postgres)
#   TEMPORAL_DB_PASSWORD (empty; trust auth)  TEMPORAL_DB_NAME (temporal)
#   TEMPORAL_VISIBILITY_DB_NAME (temporal_visibility)  TEMPORAL_NAMESPACE (default)
#   TEMPORAL_PG_RETENTION (72h, for a namespace this script creates)  TEMPORAL_PG_LOG_LEVEL (info)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
here="$root/infra/temporal/postgres"
bin="$root/.tools/bin"
# shellcheck source=../versions.env
source "$root/infra/temporal/versions.env"

say() { printf '[temporal-pg] %s\n' "$*" >&2; }
fail() {
  say "error: $*"
  exit 1
}

port="${TEMPORAL_PG_PORT:-7233}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 300 && port + 767 < 65536)) ||
  fail "TEMPORAL_PG_PORT must be a port number between 301 and 64768 (got '$port')"
export TEMPORAL_PG_PORT="$port"
export TEMPORAL_PG_HTTP_PORT="${TEMPORAL_PG_HTTP_PORT:-$((port + 10))}"
export TEMPORAL_PG_HISTORY_PORT="${TEMPORAL_PG_HISTORY_PORT:-$((port + 1))}"
export TEMPORAL_PG_MATCHING_PORT="${TEMPORAL_PG_MATCHING_PORT:-$((port + 2))}"
export TEMPORAL_PG_WORKER_PORT="${TEMPORAL_PG_WORKER_PORT:-$((port + 6))}"
export TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT="${TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT:-$((port - 300))}"
export TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT="${TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT:-$((TEMPORAL_PG_HISTORY_PORT - 300))}"
export TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT="${TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT:-$((TEMPORAL_PG_MATCHING_PORT - 300))}"
export TEMPORAL_PG_WORKER_MEMBERSHIP_PORT="${TEMPORAL_PG_WORKER_MEMBERSHIP_PORT:-$((TEMPORAL_PG_WORKER_PORT - 300))}"
export TEMPORAL_PG_METRICS_PORT="${TEMPORAL_PG_METRICS_PORT:-$((port + 767))}"
export TEMPORAL_PG_DYNAMIC_CONFIG="${TEMPORAL_PG_DYNAMIC_CONFIG:-$here/dynamicconfig.yaml}"
export TEMPORAL_DB_HOST="${TEMPORAL_DB_HOST:-127.0.0.1}"
export TEMPORAL_DB_PORT="${TEMPORAL_DB_PORT:-5432}"
export TEMPORAL_DB_USER="${TEMPORAL_DB_USER:-postgres}"
export TEMPORAL_DB_PASSWORD="${TEMPORAL_DB_PASSWORD:-}"
export TEMPORAL_DB_NAME="${TEMPORAL_DB_NAME:-temporal}"
export TEMPORAL_VISIBILITY_DB_NAME="${TEMPORAL_VISIBILITY_DB_NAME:-temporal_visibility}"
namespace="${TEMPORAL_NAMESPACE:-default}"
address="127.0.0.1:$port"
for name in "$TEMPORAL_DB_NAME" "$TEMPORAL_VISIBILITY_DB_NAME"; do
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || fail "database name '$name' must match [a-z_][a-z0-9_]*"
done

# 1. binaries
bash "$root/infra/temporal/install.sh" --with-server

server_ports=(
  "$TEMPORAL_PG_PORT" "$TEMPORAL_PG_HTTP_PORT" "$TEMPORAL_PG_HISTORY_PORT"
  "$TEMPORAL_PG_MATCHING_PORT" "$TEMPORAL_PG_WORKER_PORT" "$TEMPORAL_PG_FRONTEND_MEMBERSHIP_PORT"
  "$TEMPORAL_PG_HISTORY_MEMBERSHIP_PORT" "$TEMPORAL_PG_MATCHING_MEMBERSHIP_PORT"
  "$TEMPORAL_PG_WORKER_MEMBERSHIP_PORT" "$TEMPORAL_PG_METRICS_PORT"
)
for server_port in "${server_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$server_port") 2>/dev/null; then
    fail "port $server_port is already in use (set TEMPORAL_PG_PORT to move every server port)"
  fi
done

# 2. databases and schemas. temporal-sql-tool v1.31.2's create-database and `setup-schema -v 0.0`
# leave existing databases alone; update-schema applies only the versions not applied yet.
# sql_tool ARGS... — temporal-sql-tool against the configured PostgreSQL; its SQL-by-SQL log is
# printed only when it fails.
sql_tool() {
  local output
  if ! output="$("$bin/temporal-sql-tool" --plugin postgres12 --ep "$TEMPORAL_DB_HOST" \
    -p "$TEMPORAL_DB_PORT" -u "$TEMPORAL_DB_USER" --pw "$TEMPORAL_DB_PASSWORD" "$@" 2>&1)"; then
    printf '%s\n' "$output" >&2
    return 1
  fi
}
module_dir="$(go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
[[ -d "$module_dir/schema/postgresql/v12" ]] ||
  fail "schema files of go.temporal.io/server@$TEMPORAL_SERVER_VERSION not found (got '$module_dir')"

# prepare_database NAME SCHEMA — create NAME if missing (waiting up to 30 s for PostgreSQL) and
# bring its schema to the newest version of the pinned server.
prepare_database() {
  local name="$1" schema="$module_dir/schema/postgresql/v12/$2/versioned" attempt
  for attempt in $(seq 1 30); do
    sql_tool --db "$name" create-database 2>/dev/null && break
    ((attempt < 30)) || {
      sql_tool --db "$name" create-database || true
      fail "cannot create database $name on $TEMPORAL_DB_HOST:$TEMPORAL_DB_PORT as $TEMPORAL_DB_USER"
    }
    sleep 1
  done
  sql_tool --db "$name" setup-schema -v 0.0 || fail "setup-schema of $name failed"
  sql_tool --db "$name" update-schema -d "$schema" || fail "update-schema of $name failed"
  local newest
  newest="$(find "$schema" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -1)"
  say "database $name: schema up to date ($newest)"
}
prepare_database "$TEMPORAL_DB_NAME" temporal
prepare_database "$TEMPORAL_VISIBILITY_DB_NAME" visibility

# 3. the server, stopped together with this script
say "starting temporal-server $TEMPORAL_SERVER_VERSION on $address (metrics 127.0.0.1:$TEMPORAL_PG_METRICS_PORT)"
"$bin/temporal-server" --config-file "$here/temporal-server.yaml" --allow-no-auth start &
server_pid=$!
stop_server() {
  if kill -0 "$server_pid" 2>/dev/null; then
    say "stopping temporal-server (pid $server_pid)"
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" || true
  fi
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# retry SECONDS WHAT COMMAND... — run COMMAND each second until it succeeds; stop if the server died.
retry() {
  local seconds="$1" what="$2"
  shift 2
  for _ in $(seq 1 "$seconds"); do
    kill -0 "$server_pid" 2>/dev/null || fail "temporal-server exited while waiting for: $what"
    "$@" >/dev/null 2>&1 && return 0
    sleep 1
  done
  fail "timed out after ${seconds}s waiting for: $what"
}
temporal_cli() { "$bin/temporal" "$@" --address "$address"; }

retry 120 "the frontend to answer health checks" temporal_cli operator cluster health

# 4. namespace and search attributes
if ! temporal_cli operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  say "registering namespace $namespace"
  temporal_cli operator namespace create --namespace "$namespace" \
    --retention "${TEMPORAL_PG_RETENTION:-72h}" >/dev/null || fail "cannot create namespace $namespace"
fi
retry 60 "namespace $namespace" temporal_cli operator namespace describe --namespace "$namespace"

mapfile -t registrations < <(cd "$root" && node --import tsx -e \
  "console.log(require('./core/names').SEARCH_ATTRIBUTE_REGISTRATIONS.join('\n'))")
((${#registrations[@]} > 0)) || fail "no search attributes read from core/names.ts"
attribute_flags=()
probe_query=""
for registration in "${registrations[@]}"; do
  attribute_flags+=(--name "${registration%%=*}" --type "${registration#*=}")
  probe_query+="${probe_query:+ AND }${registration%%=*} = '__probe__'"
done
say "registering search attributes: ${registrations[*]}"
retry 60 "search attribute registration" \
  temporal_cli operator search-attribute create --namespace "$namespace" "${attribute_flags[@]}"
# The frontend learns new attributes when its namespace cache refreshes (about 10 s).
retry 60 "search attributes to become queryable" \
  temporal_cli workflow list --namespace "$namespace" --query "$probe_query" --limit 1

say "ready: TEMPORAL_ADDRESS=$address namespace=$namespace (Ctrl-C stops the server)"
wait "$server_pid"
