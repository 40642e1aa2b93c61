#!/usr/bin/env bash
# Back up packguard's PostgreSQL: pg_dump (custom format) -> S3 under a dated key, then
# delete dumps older than BACKUP_RETENTION_DAYS. Exit status non-zero on any failure.
#
#   DATABASE_URL=postgresql://... S3_BUCKET=... deploy/backup/pg-backup.sh
#
# Environment:
#   DATABASE_URL        the database to dump (required)
#   S3_BUCKET           bucket to upload to (required); S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
#                       AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION as for the services
#   BACKUP_PREFIX       key prefix (default backups/postgres)
#   BACKUP_RETENTION_DAYS  dumps older than this many days are deleted (default 30)
#   PG_BIN_DIR          directory of pg_dump (default: found on PATH); use the server's
#                       major version or newer
#   PYTHON              an interpreter with aiobotocore (default python3)
#
# Prints the uploaded key on stdout (last line), progress on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${DATABASE_URL:?DATABASE_URL is required}"
: "${S3_BUCKET:?S3_BUCKET is required}"
prefix="${BACKUP_PREFIX:-backups/postgres}"
retention_days="${BACKUP_RETENTION_DAYS:-30}"
pg_dump="${PG_BIN_DIR:+$PG_BIN_DIR/}pg_dump"
python="${PYTHON:-python3}"
objects=("$python" "$here/backup_objects.py")

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
dump="$workdir/packguard.dump"

key="$("${objects[@]}" key "$prefix")"
started=$SECONDS
# Custom format: compressed, and pg_restore can pick, reorder and parallelise from it.
"$pg_dump" --format=custom --compress=6 --file="$dump" --dbname="$DATABASE_URL"
echo "pg-backup: dumped $(stat -c %s "$dump") bytes in $((SECONDS - started))s" >&2

"${objects[@]}" put "$dump" "$key"
echo "pg-backup: uploaded s3://$S3_BUCKET/$key" >&2

# Only after a successful upload: a failing backup never shortens the history.
"${objects[@]}" prune "$prefix" --retention-days "$retention_days" >&2
echo "$key"
