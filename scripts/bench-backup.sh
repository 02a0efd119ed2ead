#!/usr/bin/env bash
# Benchmark (prints figures; not a test): generates a database of at least SBK_BENCH_GB GiB of
# table data (default 1), then in one run, alternated over SBK_BENCH_ROUNDS rounds (default 2),
# medians, measures against the floor set by the server's own read rate (pg_dump -Z0 > /dev/null):
# pg_dump -Fc -f FILE (what the runbooks do), restic (pg_dump -Z0 | restic backup --stdin, into a
# fresh repository and into one that already holds the data) and sbk (zstd, the default, and gzip
# for comparison) to the local store and to Azurite: wall time, × floor, CPU seconds (user + sys of
# every process in the pipeline, not the server's) per GiB of table data, stored size, peak RSS.
# Also prints the chunk path's encryption throughput.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
source "$(dirname "$0")/lib/bench.sh"
GB=${SBK_BENCH_GB:-1}
ROUNDS=${SBK_BENCH_ROUNDS:-2}

bench_start
generate_bench_data bench "$GB"
build_sbk
export SBK_SECRET_BENCH_DB="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/bench?sslmode=disable"
export SBK_SECRET_AZURITE="$AZ_CS"
export RESTIC_PASSWORD=$PASSWORD
write_config() { # name store compression
  local store='"Store": { "Kind": "FileSystem", "Path": "store-'"$1"'" }'
  [ "$2" = azure ] && store='"Store": { "Kind": "AzureBlob", "ConnectionStringSecret": "azurite", "Container": "bench-'"$1"'" }'
  cat > "$RUN/sbk-$1.json" <<JSON
{ $store, "Secrets": { "Path": "secrets.json" }, "Dump": { "Compression": "$3" },
  "Databases": { "bench": { "ConnectionStringSecret": "bench-db" } } }
JSON
}
write_config zstd-file file Zstd
write_config zstd-azure azure Zstd
write_config gzip-file file Parallel
write_config gzip-azure azure Parallel
sbk keys init --config "$RUN/sbk-zstd-file.json" >/dev/null
table_bytes=$(bench_psql -tAq -c "SELECT sum(pg_table_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'" bench)
PGW="pg_dump -h 127.0.0.1 -p $PORT -U postgres"

declare -A runs
run() { # key command... : appends "wall rss cpu stored" to runs[key]; STORED is read from $stored_cmd after
  local key=$1; shift
  read -r s kb cpu < <(PGPASSWORD=$PASSWORD measure "$@")
  runs[$key]+="$s $kb $cpu $(eval "$stored_cmd");"
}
for round in $(seq 1 "$ROUNDS"); do
  log "round $round: the floor, pg_dump -Z0 > /dev/null"
  stored_cmd='echo 0'; run floor sh -c "$PGW -Fc -Z0 bench > /dev/null"
  log "round $round: pg_dump -Fc -f"
  rm -f "$RUN/base.dump"; stored_cmd='stat -c %s "$RUN/base.dump"'; run pgdump $PGW -Fc -f "$RUN/base.dump" bench
  log "round $round: restic, fresh repository"
  rm -rf "$RUN/restic"; restic init --repo "$RUN/restic" -q >/dev/null
  stored_cmd='du -sb "$RUN/restic" | cut -f1'; run restic-fresh sh -c "$PGW -Fc -Z0 bench | restic backup --repo '$RUN/restic' -q --stdin --stdin-filename bench.dump"
  log "round $round: restic, repository that holds the data"
  run restic-again sh -c "$PGW -Fc -Z0 bench | restic backup --repo '$RUN/restic' -q --stdin --stdin-filename bench.dump"
  for name in zstd-file zstd-azure gzip-file gzip-azure; do
    log "round $round: sbk backup, $name"
    stored_cmd="(cd '$RUN' && bin/sbk list bench --json --config sbk-$name.json) | grep -m1 archiveLength | tr -dc 0-9"
    run "sbk-$name" sh -c "cd '$RUN' && exec bin/sbk backup bench --config sbk-$name.json"
  done
done

median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
column() { tr ';' '\n' | grep -v '^$' | awk -v c="$1" '{print $c}' | median; }
floor=$(echo "${runs[floor]}" | column 1)
gib=$(echo "$table_bytes / 1073741824" | bc -l)
echo
machine_line
echo "Table data: $DATA; $ROUNDS alternated rounds, medians; CPU is user + sys of the client-side processes (not the server's)"
echo
echo "| pipeline | wall s | × floor | CPU s per GiB | stored MiB | × pg_dump -Fc size | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|"
pgsize=$(echo "${runs[pgdump]}" | column 4)
for key in floor pgdump restic-fresh restic-again sbk-zstd-file sbk-zstd-azure sbk-gzip-file sbk-gzip-azure; do
  case $key in
    floor) label='pg_dump -Fc -Z0 > /dev/null (the floor)' ;;
    pgdump) label='pg_dump -Fc -f file' ;;
    restic-fresh) label='pg_dump -Z0 | restic backup --stdin, fresh repository' ;;
    restic-again) label='the same, repository already holding the data (stored: added)' ;;
    *) label="sbk backup, ${key#sbk-}" ;;
  esac
  w=$(echo "${runs[$key]}" | column 1); kb=$(echo "${runs[$key]}" | column 2); cpu=$(echo "${runs[$key]}" | column 3); st=$(echo "${runs[$key]}" | column 4)
  [ "$key" = restic-again ] && st=0
  printf '| %s | %.1f | %.2f | %.1f | %s | %s | %.0f |\n' "$label" "$w" "$(echo "$w / $floor" | bc -l)" "$(echo "$cpu / $gib" | bc -l)" \
    "$( [ "$key" = floor ] && echo - || printf '%.1f' "$(echo "$st / 1048576" | bc -l)")" "$( [ "$key" = floor ] && echo - || printf '%.3f' "$(echo "$st / $pgsize" | bc -l)")" "$(echo "$kb / 1024" | bc -l)"
done
echo
echo "Every run (wall s, peak RSS KiB, CPU s, stored bytes):"
for key in "${!runs[@]}"; do echo "  $key: ${runs[$key]}"; done | sort
echo
dotnet run -c Release --project "$SBK_ROOT/bench/ServerlessBackup.Benchmarks" -- 2 2>/dev/null | tail -4
