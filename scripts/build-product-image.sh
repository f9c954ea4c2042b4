#!/usr/bin/env bash
# Builds the product image (the Dockerfile) on the local base image and prints its tag:
#   bash scripts/build-product-image.sh [tag]      (default droidworks/droidworks:e2e)
# One build at a time on this machine (flock): a second caller waits for the first, then finds
# Docker's layer cache. scripts/test.sh starts it beside the unit tests, so the product-image
# end-to-end test does not wait ~90 s for a cold build.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-droidworks/droidworks:e2e}"
base=$(bash scripts/build-base-image.sh)
exec 9>"${TMPDIR:-/tmp}/droidworks-product-image.lock"
flock 9
docker build --network host --build-arg NODE_IMAGE="$base" -t "$tag" . >&2
echo "$tag"
