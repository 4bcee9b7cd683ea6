#!/usr/bin/env bash
# `npm run test:compose`: the production stack (docker-compose.yml) for real on this machine.
#   1. a Docker engine: uses the one that answers, else installs what is missing (as root, Debian: docker.io,
#      debootstrap, docker-compose) and starts dockerd for this run (stopped again at the end);
#   2. the images, without an image registry (scripts/images.sh; cached in /var/cache/summit-images and Docker's
#      layer cache, so a second run rebuilds only the app's layer);
#   3. test/compose/stack.compose.ts under jest (up, a wave through a killed builder and a restarted Temporal
#      server, every package published once, moss installs over HTTP, down -v).
# Ends with one line `N passed, N failed` (also written to $SUMMIT_TEST_SUMMARY_FILE when set); a failure to get
# an engine or the images counts as one failure.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
started=$SECONDS
log() { echo "test-compose: $*"; }

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/summit-compose-run.XXXXXX")
DOCKERD_PID=""
cleanup() {
  if [ -n "$DOCKERD_PID" ]; then
    log "stopping the dockerd this run started (pid $DOCKERD_PID)"
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

finish() { # PASSED FAILED STATUS
  local summary="$1 passed, $2 failed"
  log "finished in $((SECONDS - started)) s"
  echo "$summary"
  [ -n "${SUMMIT_TEST_SUMMARY_FILE:-}" ] && echo "$summary" >"$SUMMIT_TEST_SUMMARY_FILE"
  exit "$3"
}

# --- 1. engine ------------------------------------------------------------------------------------------------------
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then log "missing ${missing[*]} (install them, or run as root)"; finish 0 1 1; fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$RUN_DIR/apt.log" 2>&1 \
    || { tail -n 30 "$RUN_DIR/apt.log"; finish 0 1 1; }
fi
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd (log: $RUN_DIR/dockerd.log)"
  dockerd >"$RUN_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 30 "$RUN_DIR/dockerd.log"; log "dockerd did not start"; finish 0 1 1; }
fi
log "docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) ready ($((SECONDS - started)) s)"

# --- 2. images --------------------------------------------------------------------------------------------------------
images_started=$SECONDS
bash "$ROOT/scripts/images.sh" all || { log "images failed"; finish 0 1 1; }
log "images ready in $((SECONDS - images_started)) s"

# --- 3. the stack -----------------------------------------------------------------------------------------------------
REPORT="$RUN_DIR/jest.json"
npx --no-install jest --json --outputFile="$REPORT" --forceExit --runInBand \
  --testMatch '**/test/compose/*.compose.ts' --testPathIgnorePatterns '/node_modules/' '/dist/' "$@"
status=$?
if [ ! -s "$REPORT" ]; then log "jest wrote no report (exit status $status)"; finish 0 1 1; fi
read -r passed failed < <(node -e '
  const r = require(process.argv[1]);
  console.log(r.numPassedTests, r.numFailedTests + r.numRuntimeErrorTestSuites);' "$REPORT")
[ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && { failed=1; status=1; }
finish "$passed" "$failed" "$status"
