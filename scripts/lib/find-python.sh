#!/usr/bin/env bash
# Print the path of a Python >= MIN_VERSION that can create venvs:
#   $PYTHON, python3.14, python3, `uv python find`, then one this project
# assembled earlier or assembles now from Debian packages (Debian 12 has none).
set -euo pipefail

min=${1:?usage: $0 MIN_VERSION}
here=$(cd "$(dirname "$0")" && pwd)

usable() {
  "$1" - "$min" 2>/dev/null <<'PY'
import sys, venv, ensurepip  # Debian splits venv/ensurepip into python3.X-venv
want = tuple(int(part) for part in sys.argv[1].split("."))
sys.exit(sys.version_info[:3] < want)
PY
}

if [ -n "${PYTHON:-}" ]; then
  usable "$PYTHON" || { echo "PYTHON=$PYTHON is not a Python >= $min with venv" >&2; exit 1; }
  command -v "$PYTHON"; exit 0
fi
for candidate in python3.14 python3; do
  if path=$(command -v "$candidate") && usable "$path"; then echo "$path"; exit 0; fi
done
if command -v uv >/dev/null && path=$(uv python find ">=$min" 2>/dev/null) && usable "$path"; then
  echo "$path"; exit 0
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/commhub/python3.14
if usable "$cache/usr/bin/python3.14"; then echo "$cache/usr/bin/python3.14"; exit 0; fi
if [ "$(uname -m)" = x86_64 ] && command -v apt-get >/dev/null; then
  echo "No Python >= $min found: assembling one from Debian packages into $cache (~15 s, once)" >&2
  exec "$here/bootstrap-python.sh" "$cache"
fi
echo "No Python >= $min found. Install one (or uv) and re-run, or set PYTHON=/path/to/python3.14" >&2
exit 1
