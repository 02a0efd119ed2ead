#!/usr/bin/env bash
# Benchmark (prints figures; not a test): 1,000 real backups across 20 databases in Azurite, then
# p50/p99 latency of listing and of status (the health endpoint) under 50 concurrent clients
# against `sbk serve` on loopback. Target: p99 under 100 ms for listing.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
source "$(dirname "$0")/lib/bench.sh"
DATABASES=${SBK_BENCH_DATABASES:-20}
PER_DATABASE=${SBK_BENCH_BACKUPS:-50}
CLIENTS=${SBK_BENCH_CLIENTS:-50}
SECONDS_EACH=${SBK_BENCH_SECONDS:-10}

bench_start
build_sbk
dotnet build "$SBK_ROOT/bench/ServerlessBackup.LoadTest" -c Release -o "$RUN/load" -nologo -v quiet >/dev/null || die "the load tool did not build"
databases=""
for i in $(seq -w 1 "$DATABASES"); do
  bench_psql -q -c "CREATE DATABASE db$i" postgres
  bench_psql -q "db$i" -c "CREATE TABLE t AS SELECT g, md5(g::text) FROM generate_series(1, 1000) g"
  export "SBK_SECRET_DB$i=postgres://postgres:$PASSWORD@127.0.0.1:$PORT/db$i?sslmode=disable"
  databases+="${databases:+,} \"db$i\": { \"ConnectionStringSecret\": \"db$i\" }"
done
export SBK_SECRET_AZURITE="$AZ_CS" SBK_SECRET_BENCH_KEY="bench-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
cat > "$RUN/sbk.json" <<JSON
{ "Store": { "Kind": "AzureBlob", "ConnectionStringSecret": "azurite", "Container": "bench" },
  "Secrets": { "Path": "secrets.json" },
  "Api": { "Keys": [ { "Name": "bench", "KeySecret": "bench-key" } ] },
  "Databases": { $databases } }
JSON
sbk keys init >/dev/null 2>&1
log "seeding $((DATABASES * PER_DATABASE)) backups"
dotnet "$RUN/load/ServerlessBackup.LoadTest.dll" seed "$RUN/sbk.json" "$PER_DATABASE"
API_PORT=$(free_port)
(cd "$RUN" && exec bin/sbk serve --urls "http://127.0.0.1:$API_PORT") > "$RUN/serve.log" 2>&1 &
SERVE_PID=$!
trap 'kill $SERVE_PID 2>/dev/null || true; stop_postgres "$PG_BIN" "$RUN/pg"; stop_azurite "$RUN/azurite"; rm -rf "$RUN"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$API_PORT/api/health" >/dev/null 2>&1 && break || sleep 0.2; done
curl -s -o /dev/null "http://127.0.0.1:$API_PORT/api/health" || { cat "$RUN/serve.log"; die "sbk serve did not start"; }

echo
machine_line
echo "Store: Azurite with $((DATABASES * PER_DATABASE)) backups across $DATABASES databases; $CLIENTS concurrent clients, ${SECONDS_EACH} s per endpoint"
echo
echo "| request | clients | requests | req/s | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|---|"
dotnet "$RUN/load/ServerlessBackup.LoadTest.dll" load "http://127.0.0.1:$API_PORT" "$SBK_SECRET_BENCH_KEY" "$CLIENTS" "$SECONDS_EACH" \
  "/api/backups?database=db07&limit=50" "/api/backups?limit=50" "/api/health"
