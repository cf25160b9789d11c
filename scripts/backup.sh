#!/usr/bin/env bash
# Back up the PostgreSQL database and both file stores, keep the last N backups.
#
#   DATABASE_URL=postgres://… scripts/backup.sh [BACKUP_DIR]
#
# Writes BACKUP_DIR/<UTC timestamp>/ with
#   db.dump            pg_dump custom format (-Fc), restored by scripts/restore.sh
#   public.tar.gz      public media (product images, avatars): folder or S3 bucket
#   private.tar.gz     private digital files: folder or S3 bucket
#   MANIFEST           what was copied, from where
# then deletes all but the newest BACKUP_KEEP backups (default 7). The file stores are
# the ones the settings name (MEDIA_ROOT / PRIVATE_MEDIA_ROOT, or S3_*_BUCKET).
# Environment: DATABASE_URL (required), BACKUP_DIR (default var/backups), BACKUP_KEEP,
# PYTHON (default .venv/bin/python). Exit status ≠ 0 on any failure; a failed backup
# folder is removed and never counts towards retention.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://* | postgresql://*) ;; *)
  echo "backup.sh: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2 ;;
esac
PYTHON="${PYTHON:-.venv/bin/python}"
BACKUP_DIR="${1:-${BACKUP_DIR:-var/backups}}"
BACKUP_KEEP="${BACKUP_KEEP:-7}"
case "$BACKUP_KEEP" in '' | *[!0-9]* | 0) echo "backup.sh: BACKUP_KEEP must be ≥ 1" >&2; exit 2 ;; esac

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$BACKUP_DIR/$stamp"
partial="$BACKUP_DIR/.partial-$stamp"
mkdir -p "$partial"
trap 'rm -rf "$partial"' EXIT

pg_dump --format=custom --no-owner --no-privileges --file "$partial/db.dump" "$DATABASE_URL"
"$PYTHON" manage.py media_backup --dest "$partial" | tee "$partial/MANIFEST"
echo "db: $(stat -c %s "$partial/db.dump") bytes (pg_dump -Fc)" | tee -a "$partial/MANIFEST"
mv "$partial" "$target"
trap - EXIT
echo "backup: $target"

# Retention: keep the newest BACKUP_KEEP completed backups (names sort by time).
mapfile -t all < <(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20*Z' | sort)
excess=$(( ${#all[@]} - BACKUP_KEEP ))
for (( i = 0; i < excess; i++ )); do
  rm -rf -- "${all[$i]}"
  echo "retention: removed ${all[$i]}"
done
