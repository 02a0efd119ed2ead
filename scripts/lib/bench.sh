# Shared by the benchmark scripts: a throwaway PostgreSQL 15 and Azurite, a generated database of
# at least N GiB of table data, a Release build of sbk, and a timer. Source after servers.sh.

# bench_start: sets RUN, PG_BIN, PORT, AZ_PORT, PASSWORD, AZ_CS and starts both servers; stops them on exit.
bench_start() {
  ensure_apt_packages
  ensure_npm_packages
  [ -x /usr/bin/time ] && command -v bc >/dev/null && command -v restic >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time bc restic >/dev/null
  RUN=$(mktemp -d /tmp/sbk-bench.XXXXXX); chmod 755 "$RUN"
  PG_BIN=/usr/lib/postgresql/15/bin
  PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  trap 'stop_postgres "$PG_BIN" "$RUN/pg"; stop_azurite "$RUN/azurite"; rm -rf "$RUN"' EXIT
  PORT=$(free_port); AZ_PORT=$(free_port)
  start_postgres "$PG_BIN" "$RUN/pg" "$PORT" "$PASSWORD"
  start_azurite "$RUN/azurite" "$AZ_PORT"
  AZ_CS="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$AZ_PORT/devstoreaccount1"
}

# bench_psql ARGS...: psql as the superuser on the benchmark server.
bench_psql() { PGPASSWORD=$PASSWORD PGOPTIONS='-c client_min_messages=warning' psql -h 127.0.0.1 -p "$PORT" -U postgres "$@"; }

# generate_bench_data DB GB [TABLES]: creates DB with at least GB GiB of table data, in TABLES
# tables (default 1: "events"; more: events, events_2, …); sets DATA to a description. The tables
# are of equal size, or with SBK_BENCH_LAYOUT=skewed the last one (last in the archive too) holds
# 60% of the data and the others share the rest, the shape where the order tables load in matters.
generate_bench_data() {
  local db=$1 gb=$2 tables=${3:-1} target start=0 size t name total
  bench_psql -q -c "CREATE DATABASE $db" postgres
  log "generating at least $gb GiB of table data in $tables table(s) (${SBK_BENCH_LAYOUT:-equal})"
  total=$((gb * 1024 * 1024 * 1024))
  for t in $(seq 1 "$tables"); do
    target=$((total / tables))
    if [ "${SBK_BENCH_LAYOUT:-equal}" = skewed ] && [ "$tables" -gt 1 ]; then
      target=$((total * 4 / 10 / (tables - 1))); [ "$t" -eq "$tables" ] && target=$((total * 6 / 10))
    fi
    name=events; [ "$t" -gt 1 ] && name=events_$t
    bench_psql -q -v ON_ERROR_STOP=1 "$db" -c "CREATE TABLE $name (id bigint, at timestamptz, kind text, payload jsonb, note text, amount numeric(12,2))"
    while :; do
      size=$(bench_psql -tAq -c "SELECT pg_table_size('$name')" "$db")
      [ "$size" -ge "$target" ] && break
      bench_psql -q "$db" -c "INSERT INTO $name SELECT g, now() - g * interval '1 second', (ARRAY['login','purchase','refund','view'])[1 + g % 4],
          jsonb_build_object('user', g % 100000, 'sku', 'SKU-' || (g % 5000), 'ip', '10.' || (g % 255) || '.' || (g % 97) || '.1'),
          CASE WHEN g % 3 = 0 THEN md5(g::text) || ' ' || md5((g * 7)::text) ELSE 'ok' END, (g % 100000) / 7.0
          FROM generate_series($start + 1, $start + 1000000) g"
      start=$((start + 1000000))
    done
  done
  bench_psql -q -c "VACUUM ANALYZE" "$db"
  DATA=$(bench_psql -tAq -c "SELECT pg_size_pretty(sum(pg_table_size(c.oid))) || ' in ' || count(*) || ' table(s), ' || sum(c.reltuples)::bigint || ' rows' FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'" "$db")
}

# build_sbk: sbk as shipped (a native executable) in $RUN/bin; sbk ARGS... runs it from $RUN.
build_sbk() {
  log "building sbk (a native executable; about two minutes the first time)"
  publish_sbk "$RUN/bin"
}
sbk() { (cd "$RUN" && bin/sbk "$@"); }

# measure COMMAND...: prints "seconds maxrss_kb cpu_seconds" of COMMAND (cpu: user + sys of it and
# every child it waited for, e.g. pg_dump under sbk, both ends of a shell pipeline); its stdout is
# discarded; dies if it fails.
measure() {
  /usr/bin/time -f "%e %M %U %S" -o "$RUN/time.txt" "$@" >/dev/null 2>"$RUN/err.txt" || { cat "$RUN/err.txt" >&2; die "$1 failed"; }
  awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$RUN/time.txt"
}

machine_line() {
  echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), PostgreSQL client $(pg_dump --version | awk '{print $3}'), $(date -u +%Y-%m-%d)"
}
