#!/usr/bin/env bash
# Install and run the whole test suite. On SQLite by default; on PostgreSQL and Redis
# when DATABASE_URL / REDIS_URL are set (as .ci/run does). Extra arguments go to pytest.
# Browser tests use Debian's Chromium; this installs it with apt when it is missing
# and we may (root or sudo), and never downloads a browser build.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/_venv.sh
install_project ".[dev]"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    echo "Installing Debian's chromium for the browser tests..."
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  fi
fi

exec .venv/bin/python -m pytest "$@"
