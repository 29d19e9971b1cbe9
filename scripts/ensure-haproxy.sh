#!/bin/sh
# HAProxy for the production profile (`make run-prod`): Debian's package, installed once.
set -e
if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then
    exit 0
fi
echo "==> Installing HAProxy (Debian's package) for the production profile"
if [ "$(id -u)" -ne 0 ]; then
    echo "error: HAProxy is missing; install it with: sudo apt-get install -y haproxy" >&2
    exit 1
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends haproxy >/dev/null; }
