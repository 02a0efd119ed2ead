#!/usr/bin/env bash
# The main job on a local default: a throwaway local PostgreSQL holding a sample application
# database, a local directory store and a locally generated master key. Backs the database up,
# lists the backups, shows the newest one, and proves it: restores it into a scratch database on
# the same server, compares every table's row count with the census and runs the sample's
# assertions, then drops the scratch copy. Needs no Azure account. Run it again: backups
# accumulate in $SBK_DEMO_DIR/store (default /tmp/sbk-demo). The demo's PostgreSQL keeps running
# for the README's tour; `bash scripts/demo.sh stop` stops it.
set -euo pipefail
source "$(dirname "$0")/lib/servers.sh"

DEMO=${SBK_DEMO_DIR:-/tmp/sbk-demo}
PG_BIN=/usr/lib/postgresql/15/bin
PGDATA_DIR="$DEMO/pg"
if [ "${1:-}" = stop ]; then
  stop_postgres "$PG_BIN" "$PGDATA_DIR"
  log "stopped the demo's PostgreSQL"
  exit 0
fi

ensure_apt_packages
mkdir -p "$DEMO"
log "building sbk (a native executable; about two minutes the first time)"
publish_sbk "$DEMO/bin"
sbk() { (cd "$DEMO" && "$DEMO/bin/sbk" "$@"); }

# A fresh server each run, with a fresh random password that only the secret store ever holds.
stop_postgres "$PG_BIN" "$PGDATA_DIR"; rm -rf "$PGDATA_DIR" "$PGDATA_DIR".*
PORT=$(free_port)
PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
log "starting PostgreSQL 15 on 127.0.0.1:$PORT"
start_postgres "$PG_BIN" "$PGDATA_DIR" "$PORT" "$PASSWORD"
# Stopped if the demo fails; left running for the tour when it succeeds.
trap 'stop_postgres "$PG_BIN" "$PGDATA_DIR"' EXIT
export PGPASSWORD=$PASSWORD
psql -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE app" postgres
log "loading the sample database (users, submissions, attachments, audit_log)"
psql -h 127.0.0.1 -p "$PORT" -U postgres -q -v ON_ERROR_STOP=1 -f "$SBK_ROOT/scripts/sample/app.sql" app >/dev/null
unset PGPASSWORD

cat > "$DEMO/sbk.json" <<JSON
{
  "Store": { "Kind": "FileSystem", "Path": "store" },
  "Secrets": { "Kind": "Local", "Path": "secrets.json" },
  "MasterKeySecret": "sbk-master-key",
  "Scratch": { "ConnectionStringSecret": "scratch-admin", "AllowSourceServer": true, "TtlHours": 24 },
  "Databases": {
    "app": {
      "ConnectionStringSecret": "app-db",
      "Assertions": [
        { "Name": "users exist", "Sql": "SELECT count(*) FROM users", "Expect": "AtLeast", "Value": "1" },
        { "Name": "no orphaned attachments", "Sql": "SELECT a.id FROM attachments a LEFT JOIN submissions s ON s.id = a.submission_id WHERE s.id IS NULL" },
        { "Name": "unique mobile numbers", "Sql": "SELECT mobile FROM users WHERE mobile IS NOT NULL GROUP BY mobile HAVING count(*) > 1" }
      ]
    }
  }
}
JSON

printf 'postgres://postgres:%s@127.0.0.1:%s/app?sslmode=disable\n' "$PASSWORD" "$PORT" | sbk secrets set app-db >/dev/null
# The scratch server is the same local server here (development); in production name another one.
printf 'postgres://postgres:%s@127.0.0.1:%s/postgres?sslmode=disable\n' "$PASSWORD" "$PORT" | sbk secrets set scratch-admin >/dev/null
sbk keys init
echo
echo "\$ sbk backup app --label demo"
sbk backup app --label demo
echo
echo "\$ sbk list"
sbk list
echo
echo "\$ sbk show app latest"
sbk show app latest
echo
echo "\$ sbk verify app latest"
sbk verify app latest
echo
echo "\$ sbk list app"
sbk list app
echo
trap - EXIT
echo "Configuration, secrets and store are in $DEMO (try: cd $DEMO && bin/sbk --help)."
echo "The demo's PostgreSQL stays up on 127.0.0.1:$PORT for the README's tour; stop it with: bash scripts/demo.sh stop"
