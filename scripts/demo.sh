#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, then run `droidworks demo`
# (embedded Redis, a local GitHub-compatible forge, droidworks, and a labelled issue → PR).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx src/cli/main.ts demo "$@"
