# shellcheck shell=bash
# Shared by scripts/setup, scripts/test and scripts/develop (sourced, not run).
# ROOT is the repository; VENV the development virtualenv (COMMHUB_VENV
# overrides it, e.g. to try setup without touching a .venv others are using).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${COMMHUB_VENV:-$ROOT/.venv}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
STAMP=$VENV/.commhub-stamp
EXTRAS=(test develop)

# The digest of the pins the venv should have (empty if .venv has no python).
wanted_stamp() {
  "$VENV/bin/python" "$ROOT/scripts/lib/requirements.py" --hash "${EXTRAS[@]}" 2>/dev/null || true
}

# Run scripts/setup when .venv is missing or was built from other pins.
ensure_venv() {
  local want
  want=$(wanted_stamp)
  if [ -z "$want" ] || [ "$want" != "$(cat "$STAMP" 2>/dev/null)" ]; then
    echo "==> .venv is missing or out of date with pyproject.toml: running scripts/setup"
    "$ROOT/scripts/setup"
  fi
}
