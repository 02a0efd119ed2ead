#!/usr/bin/env bash
# Benchmark (prints figures; not a test): generates a database of at least SBK_BENCH_GB GiB of
# table data (default 1), then in one run measures pg_dump -Fc -f FILE (the baseline) against
# sbk backup to the local store and to Azurite: wall time ratio, stored size ratio, and sbk's
# peak resident memory. Also prints the chunk path's encryption throughput.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
GB=${SBK_BENCH_GB:-1}
LEVELS=${SBK_BENCH_LEVELS:-"1 3"}

ensure_apt_packages
ensure_npm_packages
[ -x /usr/bin/time ] && command -v bc >/dev/null || as_root apt-get install -y -qq time bc >/dev/null
RUN=$(mktemp -d /tmp/sbk-bench.XXXXXX); chmod 755 "$RUN"
PG_BIN=/usr/lib/postgresql/15/bin
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
cleanup() { stop_postgres "$PG_BIN" "$RUN/pg"; stop_azurite "$RUN/azurite"; rm -rf "$RUN"; }
trap cleanup EXIT
PORT=$(free_port); AZ_PORT=$(free_port)
start_postgres "$PG_BIN" "$RUN/pg" "$PORT" "$PASSWORD"
start_azurite "$RUN/azurite" "$AZ_PORT"
export PGPASSWORD=$PASSWORD PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres
psql -q -c "CREATE DATABASE bench" postgres

log "generating at least $GB GiB of table data"
psql -q -v ON_ERROR_STOP=1 bench <<'SQL'
CREATE TABLE events (id bigint, at timestamptz, kind text, payload jsonb, note text, amount numeric(12,2));
SQL
target=$((GB * 1024 * 1024 * 1024)); start=0
while :; do
  size=$(psql -tAq -c "SELECT pg_table_size('events')" bench)
  [ "$size" -ge "$target" ] && break
  psql -q bench -c "INSERT INTO events SELECT g, now() - g * interval '1 second', (ARRAY['login','purchase','refund','view'])[1 + g % 4],
      jsonb_build_object('user', g % 100000, 'sku', 'SKU-' || (g % 5000), 'ip', '10.' || (g % 255) || '.' || (g % 97) || '.1'),
      CASE WHEN g % 3 = 0 THEN md5(g::text) || ' ' || md5((g * 7)::text) ELSE 'ok' END, (g % 100000) / 7.0
      FROM generate_series($start + 1, $start + 1000000) g"
  start=$((start + 1000000))
done
psql -q -c "VACUUM ANALYZE events" bench
DATA=$(psql -tAq -c "SELECT pg_size_pretty(pg_table_size('events')) || ' (' || (SELECT count(*) FROM events) || ' rows)'" bench)
unset PGPASSWORD

log "building sbk"
dotnet build "$SBK_ROOT/src/ServerlessBackup.Cli" -c Release -o "$RUN/bin" -nologo -v quiet >/dev/null
AZ_CS="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1"
export SBK_SECRET_BENCH_DB="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/bench?sslmode=disable"
export SBK_SECRET_AZURITE="$AZ_CS"
write_config() { # kind level
  local store='"Store": { "Kind": "FileSystem", "Path": "store" }'
  [ "$1" = azure ] && store='"Store": { "Kind": "AzureBlob", "ConnectionStringSecret": "azurite", "Container": "bench" }'
  cat > "$RUN/sbk-$1-$2.json" <<JSON
{ $store, "Secrets": { "Path": "secrets.json" }, "Dump": { "CompressionLevel": $2 },
  "Databases": { "bench": { "ConnectionStringSecret": "bench-db" } } }
JSON
}
write_config file 3
(cd "$RUN" && dotnet bin/sbk.dll keys init --config "$RUN/sbk-file-3.json" >/dev/null)
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true

measure() { # label, command...: prints "seconds maxrss_kb"
  /usr/bin/time -f "%e %M" -o "$RUN/time.txt" "$@" >/dev/null 2>"$RUN/err.txt" || { cat "$RUN/err.txt" >&2; die "$1 failed"; }
  cat "$RUN/time.txt"
}

log "pg_dump -Fc -f (baseline)"
read -r base_s base_kb < <(PGPASSWORD=$PASSWORD measure pg_dump -h 127.0.0.1 -p "$PORT" -U postgres -Fc -f "$RUN/base.dump" bench)
base_size=$(stat -c %s "$RUN/base.dump")
rows=()
for level in $LEVELS; do
  for kind in file azure; do
    write_config "$kind" "$level"
    log "sbk backup to $kind store, gzip level $level"
    read -r s kb < <(cd "$RUN" && measure dotnet bin/sbk.dll backup bench --config "$RUN/sbk-$kind-$level.json")
    size=$(cd "$RUN" && dotnet bin/sbk.dll list bench --json --config "$RUN/sbk-$kind-$level.json" | grep -m1 archiveLength | tr -dc 0-9)
    rows+=("$(printf '| sbk backup → %-7s level %s | %7.1f | %5.2f | %9.1f | %5.3f | %6.0f |' "$kind" "$level" "$s" "$(echo "$s / $base_s" | bc -l)" "$(echo "$size / 1048576" | bc -l)" "$(echo "$size / $base_size" | bc -l)" "$(echo "$kb / 1024" | bc -l)")")
  done
done

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), pg_dump $(pg_dump --version | awk '{print $3}'), $(date -u +%Y-%m-%d)"
echo "Table data: $DATA"
echo
echo "| run | wall s | × pg_dump | stored MiB | × pg_dump size | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
printf '| pg_dump -Fc -f file (baseline) | %7.1f | 1.00 | %9.1f | 1.000 | %6.0f |\n' "$base_s" "$(echo "$base_size / 1048576" | bc -l)" "$(echo "$base_kb / 1024" | bc -l)"
printf '%s\n' "${rows[@]}"
echo
dotnet run -c Release --project "$SBK_ROOT/bench/ServerlessBackup.Benchmarks" -- 2 2>/dev/null | tail -4
