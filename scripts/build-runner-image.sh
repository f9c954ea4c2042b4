#!/usr/bin/env bash
# Builds the default sandbox runner image without a registry:
# debootstrap a minimal Debian bookworm with git, Node.js and Python, then
# `docker import` it. Cached by tag: a second call returns at once.
set -euo pipefail
TAG="${DROIDWORKS_RUNNER_IMAGE:-droidworks/runner:bookworm-1}"
say() { printf '[runner-image] %s\n' "$*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  exit 0
fi
command -v debootstrap >/dev/null || {
  [ "$(id -u)" = 0 ] || { say "missing debootstrap: sudo apt-get install -y debootstrap"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
}
dir=$(mktemp -d /var/tmp/droidworks-rootfs.XXXXXX)
trap 'rm -rf "$dir"' EXIT
say "building $TAG with debootstrap (about 2 minutes, once per machine)"
log=/tmp/droidworks-debootstrap.log
debootstrap --variant=minbase --include=git,nodejs,python3,ca-certificates,procps,make \
  bookworm "$dir" http://deb.debian.org/debian >"$log" 2>&1 || {
  say "debootstrap failed; see $log"; exit 1; }
# npm's many node-* packages do not configure inside debootstrap's first stage; add it after.
cp /etc/resolv.conf "$dir/etc/resolv.conf"
chroot "$dir" /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm' >>"$log" 2>&1 || {
  say "installing npm into the image failed; see $log"; exit 1; }
: >"$dir/etc/resolv.conf"
# The non-root user commands run as inside the sandbox.
chroot "$dir" useradd --uid 1000 --create-home --shell /bin/bash droid
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'USER 1000:1000' --change 'WORKDIR /workspace' - "$TAG" >/dev/null
say "built $TAG"
