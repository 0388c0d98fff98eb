#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the ledger tests on 127.0.0.1 (own data directory and port) and
# prints its URL as the last line of stdout: `EQUIGATE_TEST_PG_URL=postgres://…`. Idempotent: a cluster already
# running in the data directory is reused. Needs root only for `apt-get install`; the server runs as `postgres`.
# Knobs: EQUIGATE_PG_PORT (55433), EQUIGATE_PG_DIR (/tmp/equigate-pg).
set -euo pipefail
port=${EQUIGATE_PG_PORT:-55433}
dir=${EQUIGATE_PG_DIR:-/tmp/equigate-pg}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  echo "postgres.sh: installing postgresql" >&2
  apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

# initdb refuses root: run the server as the packaged `postgres` user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [ ! -f "$dir/PG_VERSION" ]; then
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_pg "$bindir/initdb" -D "$dir" -U equigate --auth=trust -E UTF8 >&2
fi
if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
  # Loopback only; socket in the data directory so no system path is needed.
  as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c fsync=on" >&2
fi
as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U equigate -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='equigate_test'" | grep -q 1 \
  || as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U equigate equigate_test >&2
echo "EQUIGATE_TEST_PG_URL=postgres://equigate@127.0.0.1:$port/equigate_test"
