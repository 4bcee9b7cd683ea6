# shellcheck shell=bash
# A private, throw-away PostgreSQL cluster for one test run, or a check that a given server answers.
# Sourced by scripts/test.sh.
#
# Why private: tests must not depend on (or disturb) whatever cluster the machine runs, and several engineers'
# runs share this machine; each run gets its own data directory, a free port on 127.0.0.1 and its unix socket
# inside that directory, and removes all of it at the end. A run that was killed leaves its directory behind with
# an owner.pid file; the next run stops and removes such orphans. Durability is switched off (fsync, full-page
# writes, synchronous commit): nothing here outlives the run, and it makes schema creation several times faster.

SUMMIT_PG_DIR=""
SUMMIT_PG_PREFIX="summit-test-pg."

# Prints the directory holding initdb/pg_ctl, newest major version first.
summit_pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return 0; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

# postgres refuses to run as root: as root, run the server tools as the postgres user; otherwise as ourselves.
summit_as_pg_user() {
  if [ "$(id -u)" = 0 ]; then
    (cd "$SUMMIT_PG_DIR" && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

summit_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# True when a server at the URL accepts a connection and answers a query within a few seconds.
summit_pg_reachable() {
  SUMMIT_PROBE_URL="$1" node -e '
    const { Client } = require("pg");
    const c = new Client({ connectionString: process.env.SUMMIT_PROBE_URL, connectionTimeoutMillis: 5000 });
    c.connect().then(() => c.query("select 1")).then(() => c.end()).then(() => process.exit(0),
      (e) => { console.error("test.sh: " + e.message); process.exit(1); });' 2>&1 >/dev/null
}

summit_pg_process_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# Stops and removes private clusters left behind by runs that no longer exist.
summit_reap_orphan_pg() {
  local bindir="$1" dir owner
  for dir in "${TMPDIR:-/tmp}/${SUMMIT_PG_PREFIX}"*; do
    [ -f "$dir/owner.pid" ] || continue
    owner=$(cat "$dir/owner.pid" 2>/dev/null)
    summit_pg_process_alive "$owner" && continue
    echo "test.sh: removing the private PostgreSQL of a finished run: $dir" >&2
    if [ -f "$dir/data/postmaster.pid" ]; then
      SUMMIT_PG_DIR="$dir" summit_as_pg_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  done
}

# Starts a private cluster; sets SUMMIT_PG_DIR and exports SUMMIT_TEST_PG_URL.
summit_start_private_pg() {
  local bindir port attempt
  if ! bindir=$(summit_pg_bindir); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "test.sh: PostgreSQL server binaries missing; apt-get install postgresql" >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    bindir=$(summit_pg_bindir) || {
      echo "test.sh: no PostgreSQL server binaries (initdb, pg_ctl); install postgresql or set SUMMIT_TEST_PG_URL" >&2
      return 1
    }
  fi
  summit_reap_orphan_pg "$bindir"

  SUMMIT_PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/${SUMMIT_PG_PREFIX}XXXXXX")
  echo "$$" >"$SUMMIT_PG_DIR/owner.pid"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "test.sh: running as root but there is no 'postgres' user" >&2; return 1; }
    chown postgres: "$SUMMIT_PG_DIR"
  fi
  if ! summit_as_pg_user "$bindir/initdb" -D "$SUMMIT_PG_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale \
      --no-sync --no-instructions >"$SUMMIT_PG_DIR/initdb.log" 2>&1; then
    echo "test.sh: initdb failed:" >&2; tail -n 20 "$SUMMIT_PG_DIR/initdb.log" >&2; return 1
  fi
  # A free port can be taken between choosing it and binding it (other runs share the machine): try again.
  for attempt in 1 2 3; do
    port=$(summit_free_port)
    if summit_as_pg_user "$bindir/pg_ctl" -D "$SUMMIT_PG_DIR/data" -l "$SUMMIT_PG_DIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$SUMMIT_PG_DIR -c max_connections=200 \
            -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c shared_buffers=128MB" start >/dev/null; then
      export SUMMIT_TEST_PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
      return 0
    fi
  done
  echo "test.sh: the private PostgreSQL did not start:" >&2
  tail -n 30 "$SUMMIT_PG_DIR/postgres.log" >&2
  return 1
}

summit_stop_private_pg() {
  [ -n "$SUMMIT_PG_DIR" ] && [ -d "$SUMMIT_PG_DIR" ] || return 0
  local bindir
  if bindir=$(summit_pg_bindir) && [ -f "$SUMMIT_PG_DIR/data/postmaster.pid" ]; then
    summit_as_pg_user "$bindir/pg_ctl" -D "$SUMMIT_PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || summit_as_pg_user "$bindir/pg_ctl" -D "$SUMMIT_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$SUMMIT_PG_DIR"
  SUMMIT_PG_DIR=""
}
