#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (Playwright drives it;
# no tool ever downloads a browser of its own).
set -eu
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then exit 0; fi
echo "==> Installing Debian's chromium package for the browser tests"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "error: $CHROMIUM is missing and installing it needs root: run 'apt-get install chromium' as root," \
         "or set CHROMIUM=/path/to/chromium." >&2; exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
[ -x "$CHROMIUM" ] || { echo "error: apt-get finished but $CHROMIUM is still missing." >&2; exit 1; }
