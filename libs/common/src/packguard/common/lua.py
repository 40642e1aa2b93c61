"""Lua scripts, as named constants; each is registered once per Redis client."""

from __future__ import annotations

SCHEDULE_DELAYED = """
-- KEYS: delayed zset, payload hash, target hash
-- ARGV: task id, release time (ms), payload, target ('priority' | 'ready')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

ENQUEUE_READY = """
-- KEYS: stream, its sequence counter   ARGV: payload
-- Numbers each entry, so a task's queue position is its number minus the group's
-- entries-read (XINFO GROUPS), with no scan of the stream.
local seq = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '*', 'data', ARGV[1], 'seq', seq)
return seq
"""

RELEASE_DUE = """
-- KEYS: delayed zset, payload hash, target hash, priority stream, priority counter,
--       ready stream, ready counter
-- ARGV: now (ms), max items
-- Moves due tasks to their ready stream in one atomic step, so a task is never in both
-- places nor in neither. Returns {task id, target, seq} triples.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local released = {}
for _, id in ipairs(due) do
  local payload = redis.call('HGET', KEYS[2], id)
  local target = redis.call('HGET', KEYS[3], id)
  if payload then
    local stream, counter = KEYS[6], KEYS[7]
    if target == 'priority' then stream, counter = KEYS[4], KEYS[5] end
    local seq = redis.call('INCR', counter)
    redis.call('XADD', stream, '*', 'data', payload, 'seq', seq)
    table.insert(released, {id, target, seq})
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
end
return released
"""

ACQUIRE_SLOT = """
-- KEYS: slots zset   ARGV: task id, now (ms), lease expiry (ms), capacity
-- Expired leases (a runner that died) are dropped first; a task that already holds a
-- slot renews it.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""
