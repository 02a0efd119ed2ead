#!/usr/bin/env bash
# Benchmark (prints figures; not a test): two builds of sbk side by side on the same data, in one
# run, alternated (A, B, A, B, ...), so that the machine's noise falls on both alike.
#
#   bash scripts/bench-compare.sh <git ref A> <git ref B>     # e.g. 7d8da4e HEAD
#
# Generates at least SBK_BENCH_GB GiB of table data (default 3), then for each build: sbk backup to
# Azurite (wall time, peak RSS, stored size) and a streamed sbk restore of that backup into a
# scratch database (wall time, peak RSS), SBK_BENCH_ROUNDS rounds (default 2); prints each run
# and the medians, and B's ratio to A.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"
source "$(dirname "$0")/lib/bench.sh"
[ $# -eq 2 ] || die "usage: bash scripts/bench-compare.sh <git ref A> <git ref B>"
GB=${SBK_BENCH_GB:-3}
ROUNDS=${SBK_BENCH_ROUNDS:-2}

bench_start
for side in A B; do
  ref=$1; [ "$side" = B ] && ref=$2
  sha=$(git -C "$SBK_ROOT" rev-parse --short "$ref") || die "no such git ref: $ref"
  log "building $side = $ref ($sha)"
  git -C "$SBK_ROOT" worktree add --detach -f "$RUN/src-$side" "$sha" >/dev/null 2>&1 || die "git worktree add failed for $ref"
  dotnet build "$RUN/src-$side/src/ServerlessBackup.Cli" -c Release -o "$RUN/bin-$side" -nologo -v quiet >/dev/null || die "the build of $ref failed"
  declare "SHA_$side=$sha"
done
trap 'git -C "$SBK_ROOT" worktree remove --force "$RUN/src-A" >/dev/null 2>&1; git -C "$SBK_ROOT" worktree remove --force "$RUN/src-B" >/dev/null 2>&1; stop_postgres "$PG_BIN" "$RUN/pg"; stop_azurite "$RUN/azurite"; rm -rf "$RUN"' EXIT
generate_bench_data bench "$GB"

export SBK_SECRET_BENCH_DB="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/bench?sslmode=disable"
export SBK_SECRET_SCRATCH_ADMIN="postgres://postgres:$PASSWORD@127.0.0.1:$PORT/postgres?sslmode=disable"
export SBK_SECRET_AZURITE="$AZ_CS"
for side in A B; do
  cat > "$RUN/sbk-$side.json" <<JSON
{ "Store": { "Kind": "AzureBlob", "ConnectionStringSecret": "azurite", "Container": "bench-$(echo "$side" | tr AB ab)" },
  "Secrets": { "Path": "secrets.json" },
  "Scratch": { "ConnectionStringSecret": "scratch-admin", "AllowSourceServer": true },
  "Databases": { "bench": { "ConnectionStringSecret": "bench-db" } } }
JSON
done
(cd "$RUN" && dotnet bin-B/sbk.dll keys init --config sbk-B.json >/dev/null)
sweep() { bench_psql -tAq -c "SELECT datname FROM pg_database WHERE datname LIKE 'sbk\_scratch\_%'" postgres | while read -r db; do bench_psql -q -c "DROP DATABASE \"$db\"" postgres; done; }

declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    log "round $round, $side: backup"
    read -r s kb _ < <(cd "$RUN" && measure dotnet "bin-$side/sbk.dll" backup bench --config "sbk-$side.json")
    size=$( (cd "$RUN" && dotnet "bin-$side/sbk.dll" list bench --json --config "sbk-$side.json") | grep -m1 -E '"(archiveLength|storedBytes)"' | tr -dc 0-9)
    runs[backup-$side]+="$s $kb $size;"
    log "round $round, $side: restore (streamed, into scratch)"
    read -r s kb _ < <(cd "$RUN" && measure dotnet "bin-$side/sbk.dll" restore bench --config "sbk-$side.json")
    runs[restore-$side]+="$s $kb;"
    sweep
  done
done

median() { sort -n | awk '{a[NR]=$1} END {printf "%.3f\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
column() { tr ';' '\n' | grep -v '^$' | awk -v c="$1" '{print $c}' | median; }
echo
machine_line
echo "Table data: $DATA; $ROUNDS alternated rounds; A = $1 ($SHA_A), B = $2 ($SHA_B); medians"
echo
echo "| run | A wall s | B wall s | B / A | A peak RSS MiB | B peak RSS MiB | A stored MiB | B stored MiB |"
echo "|---|---|---|---|---|---|---|---|"
for op in backup restore; do
  aw=$(echo "${runs[$op-A]}" | column 1); bw=$(echo "${runs[$op-B]}" | column 1)
  ar=$(echo "${runs[$op-A]}" | column 2); br=$(echo "${runs[$op-B]}" | column 2)
  as="-"; bs="-"
  [ "$op" = backup ] && as=$(printf '%.1f' "$(echo "$(echo "${runs[$op-A]}" | column 3) / 1048576" | bc -l)") && bs=$(printf '%.1f' "$(echo "$(echo "${runs[$op-B]}" | column 3) / 1048576" | bc -l)")
  printf '| sbk %s (Azurite) | %.1f | %.1f | %.3f | %.0f | %.0f | %s | %s |\n' "$op" "$aw" "$bw" "$(echo "$bw / $aw" | bc -l)" "$(echo "$ar / 1024" | bc -l)" "$(echo "$br / 1024" | bc -l)" "$as" "$bs"
done
echo
echo "Every run (wall s, peak RSS KiB[, stored bytes]):"
for key in backup-A backup-B restore-A restore-B; do echo "  $key: ${runs[$key]}"; done
