#!/usr/bin/env bash
# Re-resolve pyproject.toml's dependencies (main + dev) in a scratch environment and write
# the complete, pinned requirements.lock that `make setup` installs with --no-deps.
set -eu
PYTHON_BIN=$(./scripts/find-python.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PYTHON_BIN" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --upgrade "pip<25"
"$tmp/venv/bin/pip" install --quiet ".[dev]"
{
  echo "# Complete lock of the one virtual environment (Python 3.10, linux x86_64)."
  echo "# Installed with: pip install --no-deps -r requirements.lock  (make setup does it)."
  echo "# Regenerate with: make lock  (resolves pyproject.toml's dependencies, then pip freeze --all)."
  "$tmp/venv/bin/pip" freeze --all --exclude-editable | grep -vE '^(pip|brightbasket-support)=='
} > requirements.lock
echo "wrote requirements.lock ($(grep -c '==' requirements.lock) packages)"
