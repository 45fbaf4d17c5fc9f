#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the tests and prints two lines: the path of its
# psql, then its URL:
#   /usr/lib/postgresql/VERSION/bin/psql
#   postgres://postgres@127.0.0.1:PORT/postgres
# The server is Debian's `postgresql` package (installed with apt when missing), run as the
# `postgres` user in a new temporary data directory, on a free port, with its socket in that
# directory. It trusts local connections (a test database, nothing else listens to it).
#
# Usage: [PG_FSYNC=on] tests/pg/start.sh [WATCH_PID]
# With WATCH_PID, a watchdog stops the server and removes its directory once that process
# has exited (the integration tests pass their own pid); without it, stop it with
#   runuser -u postgres -- pg_ctl -D DIR stop   (DIR is printed on stderr).
set -euo pipefail

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$found" ] && [ -x "$found/initdb" ] && echo "$found"
}

if ! bin=$(bin_dir); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed; install it with: apt-get update && apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "installing PostgreSQL (apt-get install -y postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  bin=$(bin_dir) || { echo "apt installed postgresql but no initdb was found" >&2; exit 1; }
fi

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

dir=$(mktemp -d /tmp/hookmap-pg.XXXXXX)
chown postgres: "$dir" 2>/dev/null || true
chmod 700 "$dir"
as_postgres "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
  { cat "$dir/initdb.log" >&2; exit 1; }

# A free port: the kernel's choice for an ephemeral bind, released just before the server takes it
# (a collision makes pg_ctl fail, and the start is retried with another).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

started=""
for _ in 1 2 3 4 5; do
  port=$(free_port)
  # fsync off by default: a test server's data is thrown away. PG_FSYNC=on for measurements.
  if as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=300" start >&2; then
    started=yes
    break
  fi
done
[ -n "$started" ] || { cat "$dir/server.log" >&2; exit 1; }
echo "PostgreSQL data directory: $dir" >&2

if [ -n "${1:-}" ]; then
  watched=$1
  # The watchdog: detached from our stdout (the caller reading it is not kept waiting) and in a
  # session of its own (a signal to the caller's process group does not end it first).
  setsid nohup bash -c "
    while kill -0 $watched 2>/dev/null; do sleep 1; done
    runuser -u postgres -- '$bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null 2>&1 || true
    rm -rf '$dir'
  " >/dev/null 2>&1 &
fi
echo "$bin/psql"
echo "postgres://postgres@127.0.0.1:$port/postgres"
