#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what is missing, then type-checks,
# lints, checks formatting, and runs the unit and end-to-end tests against real Redis,
# real git and a real Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The product image's cold build (~90 s, for product-image.e2e) runs beside the checks and unit
# tests; that test waits for it (scripts/build-product-image.sh holds a lock) and finds the cache.
image_log=$(mktemp)
bash scripts/build-product-image.sh >"$image_log" 2>&1 &
image_build=$!
trap 'kill "$image_build" 2>/dev/null || true; rm -f "$image_log"' EXIT
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== lint"
npx eslint --max-warnings=0 .
echo "== format"
npx prettier --check --log-level warn .
# Unit tests first, then end-to-end ones (vitest.config.ts: the e2e files two at a time, then the
# ones running the CLI with default settings or asserting about time one at a time): both start
# Docker containers, and the e2e workers' start-up sweeps must not meet another suite's containers.
echo "== unit tests"
npx vitest run --project unit "$@"
echo "== end-to-end tests"
npx vitest run --project e2e --project e2e-serial "$@"
