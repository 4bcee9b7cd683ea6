#!/bin/sh
# Temporal server on PostgreSQL, made ready at every start:
#   1. the schemas of the default and visibility databases are set up or upgraded to this server's version with
#      temporal-sql-tool and the schemas embedded in it (a no-op when they are current). The databases themselves
#      and the role owning them are made by the postgresql container (docker/postgres/entrypoint.sh);
#   2. the server starts (frontend, history, matching, worker in this one process);
#   3. the namespace (TEMPORAL_NAMESPACE, default "default") and Summit's build search attributes are registered
#      when missing, through the frontend.
# The password comes from POSTGRES_PWD or POSTGRES_PWD_FILE; there is no default.
set -eu
rm -f /tmp/ready

if [ -z "${POSTGRES_PWD:-}" ] && [ -n "${POSTGRES_PWD_FILE:-}" ]; then POSTGRES_PWD=$(cat "$POSTGRES_PWD_FILE"); fi
: "${POSTGRES_PWD:?set POSTGRES_PWD or POSTGRES_PWD_FILE}"
# Root only long enough to read the secret: the rest runs as the user temporal.
if [ "$(id -u)" -eq 0 ]; then
  export POSTGRES_PWD
  unset POSTGRES_PWD_FILE
  export HOME=/etc/temporal   # the CLI reads its config under $HOME; root's is not readable after the drop
  exec setpriv --reuid=temporal --regid=temporal --init-groups -- "$0" "$@"
fi
: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
export DB=${DB:-postgres12} POSTGRES_PWD
DB_PORT=${DB_PORT:-5432}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_NAMESPACE_RETENTION:-720h}
# Summit's build search attributes (core/contracts/search-attributes.ts), NAME=TYPE separated by spaces.
SEARCH_ATTRIBUTES=${TEMPORAL_SEARCH_ATTRIBUTES:-BuildPackage=Keyword BuildIsa=Keyword BuildArchitecture=Keyword BuildBuilder=Keyword BuildCommit=Keyword BuildStatus=Keyword BuildWave=Keyword}

log() { echo "temporal-entrypoint: $*"; }

sql() {
  SQL_PLUGIN=$DB SQL_HOST=$POSTGRES_SEEDS SQL_PORT=$DB_PORT SQL_USER=$POSTGRES_USER SQL_PASSWORD=$POSTGRES_PWD \
    temporal-sql-tool "$@"
}

tries=0
until sql --database "${DBNAME:-temporal}" setup-schema -v 0.0 >/tmp/sql.log 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then cat /tmp/sql.log; log "PostgreSQL did not answer in 60 s"; exit 1; fi
  sleep 1
done
sql --database "${DBNAME:-temporal}" update-schema --schema-name postgresql/v12/temporal
sql --database "${VISIBILITY_DBNAME:-temporal_visibility}" setup-schema -v 0.0
sql --database "${VISIBILITY_DBNAME:-temporal_visibility}" update-schema --schema-name postgresql/v12/visibility
log "schemas current"

# Services bind to the container's address, which is also what they broadcast to each other.
: "${BIND_ON_IP:=$(getent hosts "$(hostname)" | awk '{print $1; exit}')}"
export BIND_ON_IP

temporal-server --allow-no-auth start &
server=$!
trap 'kill -TERM "$server" 2>/dev/null' TERM INT

address="$BIND_ON_IP:${FRONTEND_GRPC_PORT:-7233}"
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  kill -0 "$server" 2>/dev/null || { wait "$server"; exit $?; }
  sleep 1
done
if ! temporal operator namespace describe --address "$address" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --address "$address" --namespace "$NAMESPACE" --retention "$RETENTION" \
    || log "namespace $NAMESPACE: create failed (made by another server at the same time?)"
fi
# The frontend takes a moment to see a namespace it has just made; attributes are retried until they stick.
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*} type=${pair#*=}
  tries=0
  until temporal operator search-attribute list --address "$address" --namespace "$NAMESPACE" 2>/dev/null | grep -qw "$name"; do
    temporal operator search-attribute create --address "$address" --namespace "$NAMESPACE" --name "$name" --type "$type" >/dev/null 2>&1 || true
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then log "search attribute $name could not be registered"; kill -TERM "$server"; wait "$server"; exit 1; fi
    sleep 1
  done
done
log "ready: namespace $NAMESPACE, search attributes $SEARCH_ATTRIBUTES"
touch /tmp/ready
# A TERM interrupts the first wait (the trap passes it on); the second waits for the server to finish stopping.
wait "$server" || { status=$?; wait "$server" 2>/dev/null || true; exit "$status"; }
