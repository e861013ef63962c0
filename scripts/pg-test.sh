#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the store test suite.
#   scripts/pg-test.sh start   -> prints the connection URL on stdout (cluster in a temp dir, 127.0.0.1 only)
#   scripts/pg-test.sh stop    -> stops it and removes its files
# Uses Debian's PostgreSQL server binaries (package postgresql). Runs the server as the `postgres`
# user when invoked as root, since initdb refuses to run as root.
set -euo pipefail
port="${HAVIP_PG_PORT:-55432}"
state="${TMPDIR:-/tmp}/havip-pg-test-$port"
bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
if [ -z "$bindir" ]; then
  echo "pg-test: no PostgreSQL server binaries (apt-get install postgresql)" >&2
  exit 3
fi
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    if [ -f "$state/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$state/data" status >/dev/null 2>&1; then
      echo "postgres://havip@127.0.0.1:$port/havip_test"
      exit 0
    fi
    rm -rf "$state" && mkdir -p "$state"
    [ "$(id -u)" = 0 ] && chown postgres "$state"
    as_pg "$bindir/initdb" -D "$state/data" -U havip --auth=trust --no-sync -E UTF8 >"$state/initdb.log" 2>&1 ||
      { cat "$state/initdb.log" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
      -o "-p $port -k $state -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
      { cat "$state/server.log" >&2; exit 1; }
    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U havip havip_test
    echo "postgres://havip@127.0.0.1:$port/havip_test"
    ;;
  stop)
    if [ -d "$state/data" ]; then
      as_pg "$bindir/pg_ctl" -D "$state/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$state"
    ;;
  *)
    echo "usage: scripts/pg-test.sh start|stop" >&2
    exit 2
    ;;
esac
