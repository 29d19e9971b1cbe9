#!/usr/bin/env bash
# Make sure Debian's HAProxy is installed for the production profile (`make run-prod`,
# `make bench-scale`, and the tests of both).
set -eu
if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then exit 0; fi
echo "==> Installing Debian's haproxy package for the production profile"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "error: HAProxy is missing and installing it needs root: run 'apt-get install haproxy' as root." >&2
    exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq --no-install-recommends haproxy >/dev/null 2>&1 \
  || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends haproxy >/dev/null; }
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] \
  || { echo "error: apt-get finished but haproxy is still missing." >&2; exit 1; }
