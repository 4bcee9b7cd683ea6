#!/usr/bin/env bash
# `npm run bench:wave -- ...`: finds (or installs) the Temporal CLI as the tests do, then runs the wave benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/temporal.sh
source scripts/lib/temporal.sh
summit_ensure_temporal
exec node dist/bench/wave/main.js "$@"
