#!/usr/bin/env bash
# Benchmark (prints figures; not a test): generates a database of at least SBK_BENCH_GB GiB of
# table data (default 1) in SBK_BENCH_TABLES tables (default 4, so that parallel restores have work
# to share; SBK_BENCH_LAYOUT=skewed makes the last one hold 60% of the data), backs it up with
# pg_dump -Fc to a local file and with sbk to Azurite, then in one run measures, alternated over
# SBK_BENCH_ROUNDS rounds (default 3; medians), pg_restore from the local file (serial and -j 2;
# the baselines) against sbk restore from the file store and from Azurite into a scratch database
# (streamed, and --jobs 2), then the time each verification level adds (archive, restore, census,
# assertions; one run each).
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
source "$(dirname "$0")/lib/bench.sh"
GB=${SBK_BENCH_GB:-1}
# Where sbk restore --jobs lands the decrypted archive (Scratch:TempDirectory); default the system temp directory.
TEMP_JSON=""; [ -n "${SBK_BENCH_TEMP:-}" ] && TEMP_JSON=", \"TempDirectory\": \"$SBK_BENCH_TEMP\""

bench_start
generate_bench_data bench "$GB" "${SBK_BENCH_TABLES:-4}"
build_sbk
export SBK_SECRET_BENCH_DB="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/bench?sslmode=disable"
export SBK_SECRET_SCRATCH_ADMIN="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=disable"
export SBK_SECRET_AZURITE="$AZ_CS"
cat > "$RUN/sbk.json" <<JSON
{ "Store": { "Kind": "AzureBlob", "ConnectionStringSecret": "azurite", "Container": "bench" },
  "Secrets": { "Path": "secrets.json" },
  "Scratch": { "ConnectionStringSecret": "scratch-admin", "AllowSourceServer": true$TEMP_JSON },
  "Databases": { "bench": { "ConnectionStringSecret": "bench-db", "Assertions": [
    { "Name": "every kind present", "Sql": "SELECT count(DISTINCT kind) FROM events", "Expect": "Equals", "Value": "4" },
    { "Name": "no negative amounts", "Sql": "SELECT id FROM events WHERE amount < 0" } ] } } }
JSON
# The same configuration with a local file store, to tell Azurite's own CPU from sbk's.
sed 's/"Store": {[^}]*}/"Store": { "Kind": "FileSystem", "Path": "store" }/' "$RUN/sbk.json" > "$RUN/sbk-file.json"
sbk keys init >/dev/null
log "pg_dump -Fc -f (the baselines' archive) and sbk backup to Azurite and to the file store"
PGPASSWORD=$PASSWORD pg_dump -h 127.0.0.1 -p "$PORT" -U postgres -Fc -f "$RUN/base.dump" bench
sbk backup bench >/dev/null 2>&1
sbk --config sbk-file.json backup bench >/dev/null 2>&1

# Every measured run starts from the same state: the last run's dirty pages written out and the
# server checkpointed, so that no run pays for the writeback and checkpoints of the run before it.
settle() { sync; bench_psql -q -c "CHECKPOINT" postgres; }
# The runbook's restore: create the database, then pg_restore into it (sbk's time includes making its scratch database too).
# The restored copy is dropped at once, as sbk's scratch copies are (sweep): left in place, autovacuum
# would vacuum and analyze its freshly loaded tables a minute later, during the runs after it.
restore_baseline() { # jobs
  bench_psql -q -c "DROP DATABASE IF EXISTS baseline" postgres
  settle
  PGPASSWORD=$PASSWORD measure bash -c "createdb -h 127.0.0.1 -p $PORT -U postgres baseline && pg_restore --no-owner --no-privileges -j $1 -h 127.0.0.1 -p $PORT -U postgres -d baseline '$RUN/base.dump'"
  bench_psql -q -c "DROP DATABASE baseline" postgres
}
sweep() { bench_psql -tAq -c "SELECT datname FROM pg_database WHERE datname LIKE 'sbk\_scratch\_%'" postgres | while read -r db; do bench_psql -q -c "DROP DATABASE \"$db\"" postgres; done; }

ROUNDS=${SBK_BENCH_ROUNDS:-3}
declare -A secs runs rss
# Alternated rounds, medians: on two shared cores one run's noise is larger than the differences measured.
for round in $(seq 1 "$ROUNDS"); do
  for jobs in 1 2; do
    log "round $round: pg_restore -j $jobs from the local file"
    read -r s _ < <(restore_baseline "$jobs"); runs[base$jobs]+="$s "
    for store in file azurite; do
      config=sbk.json; [ "$store" = file ] && config=sbk-file.json
      settle; log "round $round: sbk restore --jobs $jobs from the $store store"
      read -r s kb _ < <(cd "$RUN" && measure bin/sbk --config "$config" restore bench --jobs "$jobs")
      sweep
      runs[$store$jobs]+="$s "; rss[$store$jobs]+="$kb "
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# paired BASE RUNS: the median of each round's run over that round's baseline; the machine's state
# drifts between rounds (the same baseline ran from 15 to 26 s in one run), less within one round.
paired() { paste <(tr ' ' '\n' <<<"$2" | grep -v '^$') <(tr ' ' '\n' <<<"$1" | grep -v '^$') | awk '{print $1 / $2}' | median; }
rows=()
for jobs in 1 2; do
  base=$(median <<<"${runs[base$jobs]}")
  rows+=("$(printf '| createdb + pg_restore -j %s, local file (baseline) | %7.1f | 1.00 | 1.00 | | %s|' "$jobs" "$base" "${runs[base$jobs]}")")
  for store in file azurite; do
    s=$(median <<<"${runs[$store$jobs]}"); kb=$(tr ' ' '\n' <<<"${rss[$store$jobs]}" | sort -n | tail -1)
    rows+=("$(printf '| sbk restore --jobs %s, from the %s store | %7.1f | %5.2f | %5.2f | %6.0f | %s|' "$jobs" "$store" "$s" "$(echo "$s / $base" | bc -l)" "$(paired "${runs[base$jobs]}" "${runs[$store$jobs]}")" "$(echo "$kb / 1024" | bc -l)" "${runs[$store$jobs]}")")
  done
done
bench_psql -q -c "DROP DATABASE IF EXISTS baseline" postgres

levels=()
for level in archive restore census assertions; do
  log "sbk verify --level $level"
  read -r s kb _ < <(cd "$RUN" && measure bin/sbk verify bench --level "$level"); secs[$level]=$s
  levels+=("$level $s $kb")
done

echo
machine_line
echo "Table data: $DATA; pg_dump archive $(du -m "$RUN/base.dump" | cut -f1) MiB"
echo
echo "Restores: $ROUNDS alternated rounds, medians (every run's seconds in the last column; paired: the median of each round's ratio to that round's baseline)"
echo "| run | wall s | × baseline | × baseline, paired | peak RSS MiB | runs |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| sbk verify --level | wall s | adds to the level below | × restore level | peak RSS MiB |"
echo "|---|---|---|---|---|"
prev=""
for entry in "${levels[@]}"; do
  read -r level s kb <<<"$entry"
  adds="-"; [ -n "$prev" ] && adds=$(printf '%+.1f s' "$(echo "$s - ${secs[$prev]}" | bc -l)")
  printf '| %s | %7.1f | %s | %5.2f | %6.0f |\n' "$level" "$s" "$adds" "$(echo "$s / ${secs[restore]}" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
  prev=$level
done
