#!/usr/bin/env bash
# The project's test command (`npm test` runs it after `npm run build`; arguments go to jest unchanged, e.g.
# `npm test -- test/infra` or `bash scripts/test.sh -t 'nspawn'`).
#
# It provides the real services the tests use, then runs jest:
#   - the time-skipping test server (SUMMIT_TEMPORAL_TEST_SERVER_BIN): scripts/lib/temporal-test-server.sh;
#   - the Temporal CLI (SUMMIT_TEMPORAL_BIN): found or installed by scripts/lib/temporal.sh; each test file starts
#     its own dev server from it through test/support/temporal.ts;
#   - PostgreSQL (SUMMIT_TEST_PG_URL): the given URL when it answers, otherwise a private cluster started here and
#     removed at the end (scripts/lib/postgres.sh); each test file creates its own database through
#     test/support/postgres.ts.
# Before jest it runs the static gates, lint and typecheck (see run_gate below).
# It ends with one line `N passed, N failed[, N skipped]` (also written to SUMMIT_TEST_SUMMARY_FILE when set) and
# jest's exit status.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib/temporal.sh
. "$ROOT/scripts/lib/temporal.sh"
# shellcheck source=scripts/lib/postgres.sh
. "$ROOT/scripts/lib/postgres.sh"
# shellcheck source=scripts/lib/temporal-test-server.sh
. "$ROOT/scripts/lib/temporal-test-server.sh"

# Report directories of runs that were killed before their clean-up (the owner pid is gone) are removed first.
for stale in "${TMPDIR:-/tmp}"/summit-test-run.*; do
  [ -d "$stale" ] || continue
  owner=$(cat "$stale/owner.pid" 2>/dev/null || true)
  if [ -z "$owner" ]; then
    # No owner yet: a run may be between mktemp and writing it; only an old one is abandoned.
    [ -n "$(find "$stale" -maxdepth 0 -mmin +10)" ] && rm -rf "$stale"
  elif ! kill -0 "$owner" 2>/dev/null; then
    rm -rf "$stale"
  fi
done
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/summit-test-run.XXXXXX")
echo "$$" >"$RUN_DIR/owner.pid"
# Every process this run starts inherits this marker; whatever still carries it after jest is an orphan of this
# run (a dev server whose jest worker was killed, say) and is ended by pid below, never by name.
export SUMMIT_TEST_RUN_ID="summit-test-$$-$RANDOM$RANDOM"

summit_reap_run_processes() {
  local environ pid pids=()
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    if grep -qzx "SUMMIT_TEST_RUN_ID=$SUMMIT_TEST_RUN_ID" "$environ" 2>/dev/null; then pids+=("$pid"); fi
  done
  [ "${#pids[@]}" -eq 0 ] && return 0
  echo "test.sh: ending ${#pids[@]} leftover process(es) of this run: ${pids[*]}" >&2
  kill -TERM "${pids[@]}" 2>/dev/null
  sleep 2
  kill -KILL "${pids[@]}" 2>/dev/null
  return 0
}

summit_cleanup() {
  summit_stop_private_pg
  summit_reap_run_processes
  rm -rf "$RUN_DIR"
}
trap summit_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started_ms=$(( $(date +%s%N) / 1000000 ))
summit_ensure_temporal || exit 1
echo "test.sh: temporal: $SUMMIT_TEMPORAL_BIN ($("$SUMMIT_TEMPORAL_BIN" --version 2>/dev/null | head -n 1))"
if summit_ensure_temporal_test_server; then
  echo "test.sh: time-skipping test server: $SUMMIT_TEMPORAL_TEST_SERVER_BIN"
else
  echo "test.sh: no time-skipping test server; its tests report why" >&2
fi

if [ -n "${SUMMIT_TEST_PG_URL:-}" ] && summit_pg_reachable "$SUMMIT_TEST_PG_URL"; then
  echo "test.sh: postgres: using SUMMIT_TEST_PG_URL"
else
  [ -n "${SUMMIT_TEST_PG_URL:-}" ] && echo "test.sh: SUMMIT_TEST_PG_URL does not answer; starting a private PostgreSQL instead" >&2
  summit_start_private_pg || exit 1
  echo "test.sh: postgres: private cluster $SUMMIT_TEST_PG_URL in $SUMMIT_PG_DIR"
fi
echo "test.sh: services ready in $(( $(date +%s%N) / 1000000 - started_ms )) ms"

# The static gates before jest: lint (eslint.config.mjs) and the type check over tsconfig.json, which includes the
# tests (ts-jest does not type-check here). Each failing gate counts as one failure in the closing line.
# SUMMIT_TEST_SKIP_GATES=1 skips both while iterating on one test file; CI never sets it.
gate_failures=0
run_gate() {
  local name=$1 started_gate
  shift
  if [ -n "${SUMMIT_TEST_SKIP_GATES:-}" ]; then echo "test.sh: $name: skipped (SUMMIT_TEST_SKIP_GATES)"; return 0; fi
  started_gate=$(( $(date +%s%N) / 1000000 ))
  if "$@"; then
    echo "test.sh: $name: passed in $(( $(date +%s%N) / 1000000 - started_gate )) ms"
  else
    echo "test.sh: $name: FAILED in $(( $(date +%s%N) / 1000000 - started_gate )) ms (counted as 1 failure)" >&2
    gate_failures=$(( gate_failures + 1 ))
  fi
}
run_gate lint npx --no-install eslint --max-warnings 0 .
run_gate typecheck npx --no-install tsc -p tsconfig.json --noEmit

REPORT="$RUN_DIR/jest.json"
# --forceExit: a test that leaks a handle (a server its failed afterAll never stopped) must not hold the run open
# after the report is written; whatever it left running is ended below by summit_reap_run_processes.
npx --no-install jest --json --outputFile="$REPORT" --forceExit "$@"
status=$?
[ "$gate_failures" -gt 0 ] && [ "$status" -eq 0 ] && status=1

# The closing line CI reads, printed after the clean-up so that nothing follows it. A suite that fails before any
# test runs (a compile error, a throwing beforeAll hook) counts as one failure, so a broken file never reads as
# "0 failed".
summary=""
if [ -s "$REPORT" ]; then
  summary=$(node -e '
    const r = require(process.argv[1]);
    const failed = r.numFailedTests + r.numRuntimeErrorTestSuites + Number(process.argv[2]);
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));' "$REPORT" "$gate_failures")
fi
trap - EXIT
summit_cleanup
if [ -n "$summary" ]; then
  echo "$summary"
  # .ci/run repeats the line after npm's own closing output.
  [ -n "${SUMMIT_TEST_SUMMARY_FILE:-}" ] && echo "$summary" >"$SUMMIT_TEST_SUMMARY_FILE"
else
  echo "test.sh: jest wrote no report (exit status $status)" >&2
  [ "$status" -eq 0 ] && status=1
  [ "$gate_failures" -gt 0 ] && echo "0 passed, $(( gate_failures + 1 )) failed"
fi
exit "$status"
