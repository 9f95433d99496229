#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback for tests and development.
#   .ci/postgres.sh start DIR    initdb into DIR (if new), start on a free port, print the URL (also in DIR/url)
#   .ci/postgres.sh stop DIR     stop it (fast shutdown)
#   .ci/postgres.sh restart DIR  stop and start on the same port (the database-restart test uses this)
# Uses Debian's postgresql package (/usr/lib/postgresql/<ver>/bin). As root, the server runs as 'postgres'.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop|restart DIR}
dir=${2:?usage: postgres.sh start|stop|restart DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[[ -x "$bin/pg_ctl" ]] || { echo "postgres.sh: no PostgreSQL server found (install Debian's 'postgresql')" >&2; exit 1; }
as_owner() { if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  mkdir -p "$dir"
  [[ $(id -u) == 0 ]] && chown postgres "$dir"
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-sync >/dev/null
    free_port >"$dir/port"
    fresh=1
  fi
  port=$(cat "$dir/port")
  # Sockets go in the data dir so that no system path is needed; fsync off: test data is disposable.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 30 \
    -o "-p $port -k $dir/data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  if [[ ${fresh:-0} == 1 ]]; then
    as_owner "$bin/psql" -h "$dir/data" -p "$port" -U postgres -qAt -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE greennas LOGIN CREATEDB PASSWORD 'greennas'" -c "CREATE DATABASE greennas OWNER greennas" >/dev/null
  fi
  echo "postgres://greennas:greennas@127.0.0.1:$port/greennas" | tee "$dir/url"
}
stop() { [[ -f "$dir/data/postmaster.pid" ]] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; }

case "$cmd" in
  start) start ;;
  stop) stop ;;
  restart) stop; start >/dev/null; cat "$dir/url" ;;
  *) echo "postgres.sh: unknown command $cmd" >&2; exit 1 ;;
esac
