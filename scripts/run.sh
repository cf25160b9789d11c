#!/usr/bin/env bash
# Install and run Home Craft 3D on its embedded default (SQLite, eager tasks, local
# files, local payment simulator, demo data) at http://127.0.0.1:8000.
# Needs only Python 3.11 and pip. Any variable from README.md may be set to override.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/_venv.sh
install_project "."

export DEBUG="${DEBUG:-true}"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
echo
echo "Home Craft 3D is starting at http://${HOST:-127.0.0.1}:${PORT:-8000}/  (Ctrl+C stops it)"
echo "Emails (e.g. signup verification) print here and are saved in var/outbox/."
exec .venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
