#!/usr/bin/env bash
# Restore a packguard PostgreSQL dump from S3 into an EMPTY database (disaster recovery,
# or the DR drill). Exit status non-zero on any failure; the restore is one transaction,
# so a failed restore leaves the target empty.
#
#   TARGET_DATABASE_URL=postgresql://... S3_BUCKET=... deploy/backup/pg-restore.sh [KEY]
#
# KEY defaults to the newest dump under BACKUP_PREFIX.
# Environment:
#   TARGET_DATABASE_URL the database to restore into (required; create it first, empty,
#                       owned by the application role you connect as)
#   S3_BUCKET           bucket (required); S3_ENDPOINT_URL, AWS_* as for pg-backup.sh
#   BACKUP_PREFIX       key prefix (default backups/postgres)
#   PG_BIN_DIR, PYTHON  as for pg-backup.sh (pg_restore instead of pg_dump)
#
# Prints the restored key on stdout (last line), progress on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${TARGET_DATABASE_URL:?TARGET_DATABASE_URL is required}"
: "${S3_BUCKET:?S3_BUCKET is required}"
prefix="${BACKUP_PREFIX:-backups/postgres}"
pg_restore="${PG_BIN_DIR:+$PG_BIN_DIR/}pg_restore"
python="${PYTHON:-python3}"
objects=("$python" "$here/backup_objects.py")

key="${1:-$("${objects[@]}" latest "$prefix")}"
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
dump="$workdir/packguard.dump"

"${objects[@]}" get "$key" "$dump"
echo "pg-restore: downloaded s3://$S3_BUCKET/$key ($(stat -c %s "$dump") bytes)" >&2

started=$SECONDS
# --no-owner/--no-privileges: objects belong to the role we connect as, so the dump
# restores into a fresh server whatever roles the old one had.
"$pg_restore" --exit-on-error --single-transaction --no-owner --no-privileges \
    --dbname="$TARGET_DATABASE_URL" "$dump"
echo "pg-restore: restored in $((SECONDS - started))s" >&2
echo "$key"
