#!/usr/bin/env bash
# Benchmark (prints figures; not a test): generates a database of at least SBK_BENCH_GB GiB of
# table data (default 1), then in one run measures pg_dump -Fc -f FILE (the baseline) against
# sbk backup to the local store and to Azurite: wall time ratio, stored size ratio, and sbk's
# peak resident memory. Also prints the chunk path's encryption throughput.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
source "$(dirname "$0")/lib/bench.sh"
GB=${SBK_BENCH_GB:-1}
LEVELS=${SBK_BENCH_LEVELS:-"1 3"}

bench_start
generate_bench_data bench "$GB"
build_sbk
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
sbk keys init --config "$RUN/sbk-file-3.json" >/dev/null
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true

log "pg_dump -Fc -f (baseline)"
read -r base_s base_kb < <(PGPASSWORD=$PASSWORD measure pg_dump -h 127.0.0.1 -p "$PORT" -U postgres -Fc -f "$RUN/base.dump" bench)
base_size=$(stat -c %s "$RUN/base.dump")
rows=()
for level in $LEVELS; do
  for kind in file azure; do
    write_config "$kind" "$level"
    log "sbk backup to $kind store, gzip level $level"
    read -r s kb < <(cd "$RUN" && measure dotnet bin/sbk.dll backup bench --config "$RUN/sbk-$kind-$level.json")
    size=$(sbk list bench --json --config "$RUN/sbk-$kind-$level.json" | grep -m1 archiveLength | tr -dc 0-9)
    rows+=("$(printf '| sbk backup → %-7s level %s | %7.1f | %5.2f | %9.1f | %5.3f | %6.0f |' "$kind" "$level" "$s" "$(echo "$s / $base_s" | bc -l)" "$(echo "$size / 1048576" | bc -l)" "$(echo "$size / $base_size" | bc -l)" "$(echo "$kb / 1024" | bc -l)")")
  done
done

echo
machine_line
echo "Table data: $DATA"
echo
echo "| run | wall s | × pg_dump | stored MiB | × pg_dump size | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
printf '| pg_dump -Fc -f file (baseline) | %7.1f | 1.00 | %9.1f | 1.000 | %6.0f |\n' "$base_s" "$(echo "$base_size / 1048576" | bc -l)" "$(echo "$base_kb / 1024" | bc -l)"
printf '%s\n' "${rows[@]}"
echo
dotnet run -c Release --project "$SBK_ROOT/bench/ServerlessBackup.Benchmarks" -- 2 2>/dev/null | tail -4
