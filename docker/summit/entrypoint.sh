#!/bin/sh
# Entry point of the Summit image: the first argument names the role (api, summit, vessel, avalanche); anything
# else is run as given (e.g. `node dist/cli/main.js …`, `sh`).
#
# Secrets come from the environment or from files, never from defaults:
#   SUMMIT_DATABASE_URL, or SUMMIT_DB_PASSWORD / SUMMIT_DB_PASSWORD_FILE with SUMMIT_DB_HOST (postgresql),
#     SUMMIT_DB_USER (summit), SUMMIT_DB_NAME (summit): the URL is made here, the password URL-encoded;
#   SUMMIT_PAYLOAD_KEYS or SUMMIT_PAYLOAD_KEY_FILE: read by the app itself (core/config.ts).
set -eu

if [ -z "${SUMMIT_DATABASE_URL:-}" ] && { [ -n "${SUMMIT_DB_PASSWORD:-}" ] || [ -n "${SUMMIT_DB_PASSWORD_FILE:-}" ]; }; then
  SUMMIT_DATABASE_URL=$(node -e '
    const fs = require("node:fs");
    const e = process.env;
    const pw = e.SUMMIT_DB_PASSWORD || fs.readFileSync(e.SUMMIT_DB_PASSWORD_FILE, "utf8").trim();
    const u = encodeURIComponent(e.SUMMIT_DB_USER || "summit");
    process.stdout.write(`postgresql://${u}:${encodeURIComponent(pw)}@${e.SUMMIT_DB_HOST || "postgresql"}:${e.SUMMIT_DB_PORT || "5432"}/${encodeURIComponent(e.SUMMIT_DB_NAME || "summit")}`);')
  export SUMMIT_DATABASE_URL
fi
unset SUMMIT_DB_PASSWORD

role=${1:-summit}
case "$role" in
  api) shift; exec node dist/api/main.js "$@" ;;
  summit) shift; exec node dist/workers/summit.js "$@" ;;
  vessel) shift; exec node dist/workers/vessel.js "$@" ;;
  avalanche)
    shift
    # Docker mounts the cgroup hierarchies read-only in a container that is not privileged, showing only the
    # container's own cgroup. The builder makes one cgroup per build step below its own (the build limits): it
    # runs in a cgroup namespace of its own (rooted at the container's cgroup, so /proc/self/cgroup names the
    # folder it sees, whatever the daemon's cgroupns mode), and with CAP_SYS_ADMIN, which nspawn needs anyway, the
    # view is remounted read-write. Nothing above the container's cgroup is reachable.
    for dir in /sys/fs/cgroup /sys/fs/cgroup/*; do
      if mountpoint -q "$dir" 2>/dev/null; then mount -o remount,rw,bind "$dir" 2>/dev/null || mount -o remount,rw "$dir" 2>/dev/null || true; fi
    done
    # Docker hides parts of /proc and /sys with mounts over them (/proc/kcore, /sys/firmware, a read-only
    # /proc/sys, …). The kernel lets a user namespace (every build's) mount a fresh proc or sysfs only where no part
    # of them is hidden, so nspawn cannot start a build under them: they are removed, in this container only (what
    # `docker run --security-opt systempaths=unconfined` does, which docker-compose 1.x cannot pass).
    awk '$5 ~ "^/(proc|sys)/." && $5 !~ "^/sys/fs/cgroup" { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || true
    done
    exec unshare --cgroup -- node dist/workers/avalanche.js "$@" ;;
  *) exec "$@" ;;
esac
