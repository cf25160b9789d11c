#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a FRESH database and fresh file stores.
#
#   DATABASE_URL=postgres://…/new_db MEDIA_ROOT=… PRIVATE_MEDIA_ROOT=… \
#     scripts/restore.sh BACKUP_DIR/<timestamp>
#
# 1. creates the database named in DATABASE_URL (it must not exist, or be empty);
# 2. pg_restore of db.dump into it (stops at the first error);
# 3. puts public.tar.gz / private.tar.gz into the stores the settings name (local
#    folders must be empty; for S3 point S3_PUBLIC_BUCKET / S3_PRIVATE_BUCKET at the
#    buckets to fill);
# 4. migrate (a no-op unless the code is newer than the backup) and reconcile_ledger,
#    whose exit status is this script's: 0 means the restored ledger is clean.
# Environment: DATABASE_URL (required), PYTHON (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

src="${1:?usage: scripts/restore.sh BACKUP_DIR/<timestamp>}"
[ -f "$src/db.dump" ] || { echo "restore.sh: $src/db.dump not found" >&2; exit 2; }
: "${DATABASE_URL:?set DATABASE_URL to the fresh PostgreSQL database to restore into}"
PYTHON="${PYTHON:-.venv/bin/python}"

# The server's maintenance database, to create the new one from.
dbname="$("$PYTHON" -c 'import sys, urllib.parse as u; print(u.urlparse(sys.argv[1]).path.lstrip("/"))' "$DATABASE_URL")"
admin_url="$("$PYTHON" -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path="/postgres").geturl())' "$DATABASE_URL")"
[ -n "$dbname" ] || { echo "restore.sh: DATABASE_URL names no database" >&2; exit 2; }
exists="$(psql "$admin_url" -tAc "SELECT 1 FROM pg_database WHERE datname = '${dbname//\'/\'\'}'")"
if [ "$exists" = "1" ]; then
  tables="$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")"
  [ "$tables" = "0" ] || { echo "restore.sh: database $dbname is not empty; restore into a fresh one" >&2; exit 2; }
else
  psql "$admin_url" -qc "CREATE DATABASE \"${dbname//\"/\"\"}\""
  echo "created database $dbname"
fi

pg_restore --no-owner --no-privileges --exit-on-error --dbname "$DATABASE_URL" "$src/db.dump"
echo "database restored from $src/db.dump"
"$PYTHON" manage.py media_restore --src "$src"
"$PYTHON" manage.py migrate --noinput >/dev/null
"$PYTHON" manage.py reconcile_ledger
