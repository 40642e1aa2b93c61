#!/bin/sh
# A replica's first start: clone the primary and write standby.signal (-R) so PostgreSQL
# starts as a hot standby streaming from it. Later starts find the data and do nothing.
set -eu
if [ -s "$PGDATA/PG_VERSION" ]; then
  echo "replica data present"
  exit 0
fi
until pg_isready --host="$PRIMARY_HOST" --port=5432 --timeout=5; do
  echo "waiting for $PRIMARY_HOST"
  sleep 2
done
PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host="$PRIMARY_HOST" --port=5432 \
  --username=replicator --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf \
  --checkpoint=fast --progress
chmod 0700 "$PGDATA"
