#!/usr/bin/env bash
# Runs a command as on a machine with no PostgreSQL server at all: in a new mount and network
# namespace (loopback only), with tmpfs over the system server's socket folder and binaries, so
# neither 127.0.0.1:5432, the local socket nor /usr/lib/postgresql/*/bin can be reached.
# As root, or as a user where unprivileged user namespaces are allowed (unshare -r).
# Usage: scripts/without-server.sh npx vitest run
set -euo pipefail
flags=-mn
[ "$(id -u)" = 0 ] || flags=-rmn
exec unshare "$flags" bash -c '
  ip link set lo up 2>/dev/null || true
  for dir in /var/run/postgresql /usr/lib/postgresql; do
    if [ -d "$dir" ]; then mount -t tmpfs tmpfs "$dir"; fi
  done
  exec "$@"' bash "$@"
