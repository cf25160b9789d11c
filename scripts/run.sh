#!/usr/bin/env bash
# Install and run Home Craft 3D on its embedded default (SQLite, eager tasks, local
# files, local payment simulator, demo data) at http://127.0.0.1:8000.
# Needs only Python 3.11 and pip. Any variable from README.md may be set to override.
#
# The site runs as users see it: DEBUG is off, so a missing page shows our own 404 page
# and an error our own 500 page, not Django's debug page. Over plain HTTP on this
# machine, the HTTPS-only production settings are turned off unless you set them.
#   DEBUG=true bash scripts/run.sh          Django's debug pages and tracebacks
#   PORT=8080 bash scripts/run.sh           another port
#   HOST=0.0.0.0 ALLOWED_HOSTS=192.168.1.20 bash scripts/run.sh   reachable on the network
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/_venv.sh
install_project "."

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-false}"
case "$(printf '%s' "$DEBUG" | tr '[:upper:]' '[:lower:]')" in
  1 | true | yes | on) debug_on=1 ;;
  *) debug_on=0 ;;
esac
if [ "$debug_on" = 0 ]; then
  # Plain HTTP on a local machine: no redirect to HTTPS, cookies without Secure, no HSTS.
  export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
  export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-false}"
  export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-false}"
  export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
fi
case "$HOST" in
  127.0.0.1 | localhost | "[::1]" | 0.0.0.0 | "::") ;;
  *) export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$HOST}" ;;
esac
case "$HOST" in
  0.0.0.0 | "::") site_host=127.0.0.1 ;;
  *) site_host="$HOST" ;;
esac
export SITE_URL="${SITE_URL:-http://$site_host:$PORT}"

.venv/bin/python manage.py migrate --noinput
# With DEBUG off, static files are served by WhiteNoise from the collected, hashed copy.
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py seed_demo
echo
echo "Home Craft 3D is starting at http://$site_host:$PORT/  (Ctrl+C stops it)"
if [ "$debug_on" = 1 ]; then
  echo "Debug mode is ON: errors show Django's debug page with the traceback."
else
  echo "Debug mode is off: you see the site's own error pages, as users do."
  echo "For Django's debug pages run:  DEBUG=true bash scripts/run.sh"
fi
echo "Another address: PORT=8080 bash scripts/run.sh  (HOST=0.0.0.0 listens on every interface)."
echo "Emails (e.g. signup verification) print here and are saved in var/outbox/."
exec .venv/bin/python manage.py runserver "$HOST:$PORT"
