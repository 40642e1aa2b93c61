"""The two Lua scripts a ``StreamConsumer`` runs, and the pure code around their calls.

Each replaces several round trips with one: a read of several streams in priority order,
and the publish of a batch's replies followed by its acks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

# Each stream in turn, only for the slots the streams before it left free, so nothing is
# claimed that cannot be started. KEYS: streams, highest priority first; ARGV: group,
# consumer, count. Answers what XREADGROUP would, one (stream, entries) pair per stream.
READ_IN_ORDER = """
local out = {}
local want = tonumber(ARGV[3])
for _, key in ipairs(KEYS) do
    if want <= 0 then break end
    local got = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', want,
                           'STREAMS', key, '>')
    if got then
        out[#out + 1] = got[1]
        want = want - #got[1][2]
    end
end
return out
"""

# Replies first, then the acks: a failing XADD stops the script before any XACK, so a
# message is never let go without its next hop written. KEYS: the reply streams (one per
# reply), then the acked streams; ARGV: group, delete flag, reply count, (field, value)
# per reply, then per acked stream its id count and ids.
PUBLISH_THEN_ACK = """
local group, delete, replies = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local a = 4
for i = 1, replies do
    redis.call('XADD', KEYS[i], '*', ARGV[a], ARGV[a + 1])
    a = a + 2
end
for k = replies + 1, #KEYS do
    local n = tonumber(ARGV[a])
    local ids = {unpack(ARGV, a + 1, a + n)}
    redis.call('XACK', KEYS[k], group, unpack(ids))
    if delete then redis.call('XDEL', KEYS[k], unpack(ids)) end
    a = a + n + 1
end
return replies
"""

ScriptArg = str | bytes | int


def publish_then_ack_call(
    group: str,
    *,
    delete: bool,
    acks: Sequence[tuple[str, str]],
    replies: Sequence[tuple[str, Mapping[str, bytes]]],
) -> tuple[list[str], list[ScriptArg]]:
    """KEYS and ARGV of ``PUBLISH_THEN_ACK`` for (stream, message id) acks and (stream,
    one-field entry) replies."""
    keys: list[str] = []
    args: list[ScriptArg] = [group, "1" if delete else "0", len(replies)]
    for stream, fields in replies:
        ((field, value),) = fields.items()
        keys.append(stream)
        args += [field, value]
    by_stream: dict[str, list[str]] = defaultdict(list)
    for stream, message_id in acks:
        by_stream[stream].append(message_id)
    for stream, ids in by_stream.items():
        keys.append(stream)
        args += [len(ids), *ids]
    return keys, args


def parse_read_in_order(response: Any) -> list[tuple[str, str, dict[bytes, bytes]]]:
    """(stream, message id, fields) of each entry ``READ_IN_ORDER`` answered, in order
    (Lua hands each entry's fields back as a flat list)."""
    entries = []
    for stream, messages in response or []:
        for message_id, flat in messages:
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            entries.append((text(stream), text(message_id), fields))
    return entries


def text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
