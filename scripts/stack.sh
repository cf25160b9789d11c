#!/usr/bin/env bash
# The production shape on one machine: gunicorn + Celery worker + Celery beat against
# a local PostgreSQL and Redis (both must be running; see docs/OPERATIONS.md).
# Ctrl+C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/homecraft3d}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export DEBUG="${DEBUG:-false}"
# Plain HTTP on localhost: no TLS terminator in front of this stack.
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-false}"
export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-false}"
PORT="${PORT:-8000}"

. scripts/_venv.sh
install_project "."

createdb -h 127.0.0.1 -U postgres homecraft3d 2>/dev/null || true
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput >/dev/null
.venv/bin/python manage.py seed_demo

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
.venv/bin/gunicorn config.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --access-logfile - &
pids+=($!)
.venv/bin/celery -A config worker --loglevel INFO --concurrency 2 &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO --schedule var/celerybeat-schedule &
pids+=($!)
echo "Stack up: http://127.0.0.1:${PORT}/  (web, worker, beat)"
wait -n
