#!/bin/sh
# Writes this pod's redis.conf and sentinel.conf into /etc/redis-live (an emptyDir: the
# Sentinel rewrites its file). The master is whoever the running Sentinels name; on the
# very first start no Sentinel answers and pod 0 is the master.
set -eu
SELF="$(hostname).${HEADLESS}"
MASTER=""
for i in 0 1 2; do
  PEER="${STATEFULSET}-${i}.${HEADLESS}"
  [ "$PEER" = "$SELF" ] && continue
  ANSWER="$(timeout 3 redis-cli -h "$PEER" -p 26379 --raw \
    sentinel get-master-addr-by-name "$MASTER_SET" 2>/dev/null | head -n 1 || true)"
  if [ -n "$ANSWER" ]; then
    MASTER="$ANSWER"
    break
  fi
done
[ -n "$MASTER" ] || MASTER="${STATEFULSET}-0.${HEADLESS}"
echo "master: $MASTER (self: $SELF)"

cat > /etc/redis-live/redis.conf <<CONF
port 6379
dir /data
protected-mode no
appendonly yes
appendfsync everysec
maxmemory ${MAXMEMORY}
maxmemory-policy noeviction
requirepass "${REDIS_PASSWORD}"
masterauth "${REDIS_PASSWORD}"
replica-announce-ip ${SELF}
CONF
if [ "$MASTER" != "$SELF" ]; then
  echo "replicaof ${MASTER} 6379" >> /etc/redis-live/redis.conf
fi

cat > /etc/redis-live/sentinel.conf <<CONF
port 26379
dir /tmp
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${SELF}
sentinel monitor ${MASTER_SET} ${MASTER} 6379 2
sentinel auth-pass ${MASTER_SET} ${REDIS_PASSWORD}
sentinel down-after-milliseconds ${MASTER_SET} 5000
sentinel failover-timeout ${MASTER_SET} 60000
sentinel parallel-syncs ${MASTER_SET} 1
CONF
