#!/usr/bin/env bash
# Builds a base for the droidworks product image without a registry: debootstrap a minimal Debian
# bookworm (git, ca-certificates, redis-server, libstdc++) and copy in this machine's Node.js, npm
# and locally added CA certificates, then `docker import` it. Use it where `node:22-bookworm-slim` cannot be pulled:
#   docker build --network host --build-arg NODE_IMAGE="$(bash scripts/build-base-image.sh)" -t droidworks .
# Prints the tag on stdout. Cached by tag (Node's version is in it): a second call returns at once.
set -euo pipefail
node_bin="$(command -v node)"
node_version="$("$node_bin" -v)"
TAG="${DROIDWORKS_BASE_IMAGE:-droidworks/node-base:bookworm-node${node_version#v}}"
say() { printf '[base-image] %s\n' "$*" >&2; }

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"
  exit 0
fi
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot): sudo bash $0"; exit 1; }
command -v debootstrap >/dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
[ -f "$npm_dir/package.json" ] || { say "cannot find npm next to $node_bin"; exit 1; }
dir=$(mktemp -d /var/tmp/droidworks-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT
say "building $TAG with debootstrap (about 2 minutes, once per machine and Node version)"
log=/tmp/droidworks-base-debootstrap.log
debootstrap --variant=minbase --include=git,ca-certificates,redis-server,libstdc++6 \
  bookworm "$dir" http://deb.debian.org/debian >"$log" 2>&1 || {
  say "debootstrap failed; see $log"; exit 1; }
install -m 0755 "$node_bin" "$dir/usr/local/bin/node"
mkdir -p "$dir/usr/local/lib/node_modules"
cp -a "$npm_dir" "$dir/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
# Certificate authorities this machine added (a TLS-intercepting proxy in front of the npm
# registry, a corporate CA): the image build's `npm ci` must trust what this machine trusts
# (Node reads the system bundle through NODE_EXTRA_CA_CERTS, set below).
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  chroot "$dir" update-ca-certificates >>"$log" 2>&1 || { say "update-ca-certificates failed; see $log"; exit 1; }
fi
# The user the product runs as (uid 1000, as in the official node images).
chroot "$dir" useradd --uid 1000 --user-group --create-home --shell /bin/bash node
chroot "$dir" /usr/local/bin/node -e 'process.exit(0)' || { say "the copied node does not run in the base"; exit 1; }
: >"$dir/etc/resolv.conf"
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - "$TAG" >/dev/null
say "built $TAG"
echo "$TAG"
