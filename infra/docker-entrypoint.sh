#!/bin/sh
# Entry point of the droidworks image. Runs as root just long enough to
#  1. let the `node` user (uid 1000) use the Docker socket: whatever group owns the mounted socket
#     (its gid differs between hosts) is added to `node`'s groups;
#  2. make the data directory (a fresh bind mount or volume is root's) writable by `node`;
# then runs droidworks as `node`. Started as another user (`--user`), it only runs droidworks.
set -eu
app="node /app/dist/cli/main.js"
if [ "$(id -u)" != 0 ]; then exec $app "$@"; fi

sock="${DOCKER_HOST:-unix:///var/run/docker.sock}"
case "$sock" in
  unix://*)
    sock="${sock#unix://}"
    if [ -S "$sock" ]; then
      gid="$(stat -c %g "$sock")"
      if [ "$gid" != 0 ] && ! id -G node | tr ' ' '\n' | grep -qx "$gid"; then
        group="$(getent group "$gid" | cut -d: -f1)"
        if [ -z "$group" ]; then
          group=docker-host
          groupadd --gid "$gid" "$group"
        fi
        usermod -a -G "$group" node
      elif [ "$gid" = 0 ]; then
        echo "droidworks: $sock belongs to group root; the worker runs as root to reach it" >&2
        exec $app "$@"
      fi
    fi
    ;;
esac

data="${DROIDWORKS_DATA_DIR:-/var/lib/droidworks}"
mkdir -p "$data"
if [ "$(stat -c %u "$data")" != 1000 ]; then chown node:node "$data"; fi

HOME=/home/node exec setpriv --reuid=node --regid=node --init-groups -- $app "$@"
