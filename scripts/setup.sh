#!/usr/bin/env bash
# Installs what droidworks needs on a fresh Debian/Ubuntu machine, idempotently:
# npm dependencies, redis-server, docker.io (+ a running dockerd), chromium (browser
# tests) and the local runner image used by sandboxes when no registry is reachable.
#   scripts/setup.sh            everything
#   scripts/setup.sh --no-docker  npm + redis only
set -euo pipefail
cd "$(dirname "$0")/.."

want_docker=1
[ "${1:-}" = "--no-docker" ] && want_docker=0

say() { printf '[setup] %s\n' "$*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
  if ! is_root; then
    say "missing: $* — install it with: sudo apt-get install -y $*"
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "installing $* with apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# 1. npm dependencies (lock file is the truth).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 2. redis-server (tests and the embedded default spawn their own).
command -v redis-server >/dev/null || apt_install redis-server

[ "$want_docker" = 1 ] || exit 0

# 3. Docker engine. No daemon runs by default on these machines.
command -v dockerd >/dev/null || apt_install docker.io
# Chromium for the dashboard's browser test (playwright-core drives it; no browser is downloaded).
[ -x /usr/bin/chromium ] || apt_install chromium || say "no chromium: browser tests are skipped locally and fail under CI"
if ! docker info >/dev/null 2>&1; then
  if is_root && command -v dockerd >/dev/null; then
    say "starting dockerd (--iptables=false --bridge=none)"
    mkdir -p /var/log
    nohup dockerd --iptables=false --bridge=none >/var/log/droidworks-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  fi
  docker info >/dev/null 2>&1 || { say "Docker engine not reachable; start dockerd or set DOCKER_HOST"; exit 1; }
fi

# 4. Runner image, built locally once per machine (no registry here).
bash scripts/build-runner-image.sh

# 5. docker-compose validates infra/docker-compose.yml in the tests; the product image's base (Debian +
#    this machine's Node, no registry) is built once and cached by tag for the product-image test.
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || apt_install docker-compose ||
  say "no docker-compose: the compose file is checked structurally only"
bash scripts/build-base-image.sh >/dev/null || say "no product base image: the product-image test builds it (root needed)"
