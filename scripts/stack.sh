#!/usr/bin/env bash
# The production shape on one machine: an S3-compatible server (moto, in memory) with
# the private and public buckets, gunicorn, a Celery worker and Celery beat, against a
# local PostgreSQL and Redis (both must be running; see docs/OPERATIONS.md). Media and
# digital files go to the S3 server; downloads are presigned S3 URLs.
# Ctrl+C stops everything. Options go to config/stackrun.py (--help).
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/homecraft3d}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

. scripts/_venv.sh
install_project ".[dev]"  # moto[server] is a dev dependency

createdb -h 127.0.0.1 -U postgres homecraft3d 2>/dev/null || true
# migrate, collectstatic, seed_demo, then S3 + worker + beat + gunicorn on $PORT (8000).
exec .venv/bin/python -m config.stackrun "$@"
