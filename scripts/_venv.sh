# Sourced by run.sh and test.sh: make .venv and install the project into it.
# Usage: install_project "."   or   install_project ".[dev]"
install_project() {
  local python="${PYTHON:-python3.11}"
  command -v "$python" >/dev/null 2>&1 || python=python3
  if [ ! -x .venv/bin/python ]; then
    # Debian ships venv without ensurepip unless python3-venv is installed; fall back
    # to virtualenv from PyPI rather than asking for root.
    if ! "$python" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      "$python" -m pip install --quiet --user virtualenv
      "$python" -m virtualenv --quiet .venv
    fi
  fi
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$1"
}
