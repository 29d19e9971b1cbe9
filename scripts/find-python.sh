#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa Open Source 3.6 supports Python <= 3.10).
# Order: $PYTHON, python3.10 on PATH, pyenv's 3.10.x, /usr/bin/python3.10.
set -u
works() { [ -n "$1" ] && "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
for candidate in "${PYTHON:-}" "$(command -v python3.10 2>/dev/null)" \
    $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV) \
    /usr/local/bin/python3.10 /usr/bin/python3.10; do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
echo "error: Python 3.10 not found. Rasa Open Source 3.6 needs Python 3.10: install it" \
     "(e.g. 'pyenv install 3.10' or 'apt-get install python3.10 python3.10-venv')" \
     "or point PYTHON=/path/to/python3.10 at one." >&2
exit 1
