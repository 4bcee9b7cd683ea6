#!/bin/sh
# First start (an empty data volume): initdb, then the roles and databases of the stack:
#   summit    owns summit                              (password SUMMIT_DB_PASSWORD or SUMMIT_DB_PASSWORD_FILE)
#   temporal  owns temporal and temporal_visibility    (TEMPORAL_DB_PASSWORD or TEMPORAL_DB_PASSWORD_FILE)
# No password has a default. The superuser `postgres` has no password and is reachable only through the socket
# inside this container (`docker compose exec -u postgres postgresql psql`); every network login uses SCRAM.
# Later starts only start the server.
set -eu

secret() { # NAME: the value of NAME, else of the file NAME_FILE names
  eval "value=\${$1:-}"
  eval "file=\${$1_FILE:-}"
  if [ -z "$value" ] && [ -n "$file" ]; then value=$(cat "$file"); fi
  [ -n "$value" ] || { echo "postgres-entrypoint: set $1 or $1_FILE" >&2; exit 1; }
  printf '%s' "$value"
}
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/''/g")"; }

mkdir -p "$PGDATA" /run/postgresql
chown postgres:postgres "$PGDATA" /run/postgresql
chmod 0700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  summit_pw=$(secret SUMMIT_DB_PASSWORD)
  temporal_pw=$(secret TEMPORAL_DB_PASSWORD)
  as_postgres initdb --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "max_connections = ${POSTGRES_MAX_CONNECTIONS:-200}"
  } >>"$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "host all all ::/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  as_postgres psql -v ON_ERROR_STOP=1 -q -d postgres <<SQL
CREATE ROLE summit LOGIN PASSWORD $(quote "$summit_pw");
CREATE DATABASE summit OWNER summit;
CREATE ROLE temporal LOGIN PASSWORD $(quote "$temporal_pw");
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
SQL
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo "postgres-entrypoint: made the databases summit, temporal, temporal_visibility"
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups -- postgres -D "$PGDATA"
