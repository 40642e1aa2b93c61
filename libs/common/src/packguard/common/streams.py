"""Redis Streams plumbing: publish, consumer groups, read, reclaim, ack and dead-letter.

Services hand a ``StreamConsumer`` an async handler taking one message model; they never
call XREADGROUP or XACK themselves. A handler that returns acknowledges the message; one
that raises leaves it pending, so it is redelivered after ``claim_idle_ms`` (to this or
another consumer) until ``max_deliveries``, after which it is dead-lettered. A handler may
return ``Reply`` messages: they are published in the same script as the ack, before it,
so the next hop is written exactly when the message is let go.

The acknowledgements (and replies) of the handlers that finish in one event-loop tick
share one script call, one read takes the streams in priority order, a read that comes
back short waits a moment so the next one takes a batch, and one heartbeat loop keeps
every long-running message claimed: a busy consumer spends its round trips on work, not
bookkeeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic

import redis.asyncio as redis
import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from packguard.common.coalescing import Coalescer
from packguard.common.messages import (
    DeadLetter,
    M,
    MalformedMessage,
    _Message,
    decode_message,
    encode_message,
)
from packguard.common.startup import default_backoff, outage_delay
from packguard.common.stream_scripts import (
    PUBLISH_THEN_ACK,
    READ_IN_ORDER,
    parse_read_in_order,
    publish_then_ack_call,
)
from packguard.common.stream_scripts import text as _text

log = structlog.get_logger(__name__)

Entry = tuple[str, str, dict[bytes, bytes], int]
"""(stream, message id, fields, deliveries)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    stream: str
    message_id: str
    deliveries: int


@dataclass(frozen=True, slots=True)
class Reply:
    """A message a handler hands back to be published together with its ack."""

    stream: str
    message: _Message


Handler = Callable[[M, Delivery], Awaitable[Sequence[Reply] | None]]
DeadLetterHook = Callable[[DeadLetter], Awaitable[None]]


async def publish(client: redis.Redis, stream: str, message: _Message) -> str:
    message_id = await client.xadd(stream, encode_message(message))  # type: ignore[arg-type]
    return message_id.decode() if isinstance(message_id, bytes) else str(message_id)


class BatchedPublisher:
    """``publish`` for many concurrent callers: the messages published in one event-loop
    tick go out in one pipeline, each still its own entry. A failed XADD fails only its
    own caller."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._batch: Coalescer[tuple[str, _Message], str | Exception] = Coalescer(self._xadd)

    async def publish(self, stream: str, message: _Message) -> str:
        message_id = await self._batch((stream, message))
        if isinstance(message_id, Exception):
            raise message_id
        return message_id

    async def _xadd(self, items: Sequence[tuple[str, _Message]]) -> list[str | Exception]:
        async with self._client.pipeline(transaction=False) as pipe:
            for stream, message in items:
                pipe.xadd(stream, encode_message(message))  # type: ignore[arg-type]
            replies = await pipe.execute(raise_on_error=False)
        return [r if isinstance(r, Exception) else _text(r) for r in replies]


async def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    """Create ``group`` on ``stream`` (and the stream) unless it exists already."""
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


_OUTAGE_BACKOFF = default_backoff()


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    concurrency: int = 1
    block_ms: int = 1000
    claim_idle_ms: int = 60_000
    """A pending message idle this long belongs to a dead consumer and is reclaimed."""
    max_deliveries: int | None = 5
    """Dead-letter after this many deliveries; None never dead-letters (e.g. the reporter)."""
    delete_acked: bool = True
    """Trim acknowledged entries (each stream has one group), so streams stay small."""
    batch_wait_ms: int = 20
    """After a read that took several messages but filled fewer slots than were free,
    wait this long before reading again: messages are arriving faster than one at a
    time, so what arrives meanwhile comes as one batch and shares every round trip of
    its handling (read, statements, pipelines, ack) instead of paying them per message.
    A read of a single message means a quiet stream, where waiting would only add
    latency. At most this much latency per hop, and only under load."""


class StreamConsumer(Generic[M]):
    """One consumer-group member reading ``streams`` in priority order."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        streams: Sequence[str],
        group: str,
        consumer: str,
        model: type[M],
        handler: Handler[M],
        dead_letter_stream: str,
        options: ConsumerOptions = ConsumerOptions(),
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        self._client = client
        self._streams = list(streams)
        self._group = group
        self._consumer = consumer
        self._model = model
        self._handler = handler
        self._dead_letter_stream = dead_letter_stream
        self._options = options
        self._on_dead_letter = on_dead_letter
        self._in_flight: set[asyncio.Task[None]] = set()
        self._in_hand: dict[tuple[str, str], float] = {}
        """(stream, message id) → when its handling started (monotonic seconds)."""
        self._stopping = asyncio.Event()
        self._acks: Coalescer[tuple[str, str, tuple[Reply, ...]], None] = Coalescer(self._ack_batch)
        self._read_in_order = client.register_script(READ_IN_ORDER)
        self._publish_then_ack = client.register_script(PUBLISH_THEN_ACK)
        self._batching = False
        """The last read took several messages yet left slots free (see ``batch_wait_ms``)."""
        self._read_failures = 0
        """Reads failed in a row since Redis was last reached (see ``_wait_out_outage``)."""
        self._backlog = False
        """A reclaim pass found idle messages (e.g. all that failed during an outage): the
        read loop reclaims until none is left, as slots free up, before reading new ones,
        rather than ``concurrency`` messages per reclaim interval."""

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def stop(self) -> None:
        """Stop reading; ``run`` returns once the messages in hand are handled."""
        self._stopping.set()

    async def ensure_groups(self) -> None:
        for stream in self._streams:
            await ensure_group(self._client, stream, self._group)

    async def run(self, *, drain: bool = False) -> None:
        """Consume until ``stop()``; with ``drain`` return as soon as there is no work left."""
        await self.ensure_groups()
        done = asyncio.Event()
        reclaimer = asyncio.create_task(self._reclaim_until(done), name="reclaim")
        heartbeat = asyncio.create_task(self._keep_claimed_until(done), name="heartbeat")
        try:
            while not self._stopping.is_set():
                try:
                    if self._backlog:
                        await self._reclaim_backlog()
                        continue
                    got = await self._read_once(block=not drain)
                except (RedisConnectionError, RedisTimeoutError, ConnectionResetError) as exc:
                    await self._wait_out_outage(exc)
                    continue
                self._outage_over()
                if got:
                    await self._settle()
                if drain and not got and not self._in_flight:
                    if not await self._reclaim_once(min_idle_ms=self._options.claim_idle_ms):
                        break
                elif drain and not got:
                    await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            # Cancelled, not stopped: abandon the messages in hand (they stay pending and
            # are reclaimed), as a killed process would.
            for task in self._in_flight:
                task.cancel()
            raise
        finally:
            # Stopped between commands, never mid-command: cancelling a Redis call can
            # leave its reply unread on a pooled connection.
            done.set()
            with contextlib.suppress(asyncio.CancelledError):
                await reclaimer
            if self._in_flight:
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _wait_out_outage(self, error: Exception) -> None:
        """Redis stayed out longer than the client's own retries: keep the messages in
        hand, back off and read again, rather than end the service over an outage."""
        self._read_failures += 1
        if self._read_failures == 1:
            log.warning("stream_read_failed", error=str(error))
        await asyncio.sleep(outage_delay(_OUTAGE_BACKOFF, self._read_failures))

    def _outage_over(self) -> None:
        if self._read_failures:
            log.info("stream_read_resumed", failed_reads=self._read_failures)
            self._read_failures = 0

    async def _read_once(self, *, block: bool) -> bool:
        """Read what free slots allow, highest-priority stream first."""
        await self._wait_for_free_slot()
        if self._stopping.is_set():
            return False  # stopped while every slot was busy: read nothing more
        free = self._free_slots()
        if len(self._streams) > 1 or not block:
            entries = await self._read_without_blocking(free)
            if entries or not block:
                self._dispatch(entries, short=len(entries) < free)
                return bool(entries)
        entries = await self._xreadgroup(
            {stream: ">" for stream in self._streams}, count=free, block_ms=self._options.block_ms
        )
        self._dispatch(entries, short=len(entries) < free)
        return bool(entries)

    async def _read_without_blocking(self, count: int) -> list[Entry]:
        if len(self._streams) == 1:
            return await self._xreadgroup({self._streams[0]: ">"}, count=count, block_ms=None)
        response: Any = await self._read_in_order(
            keys=self._streams, args=[self._group, self._consumer, count]
        )
        return [(*entry, 1) for entry in parse_read_in_order(response)]

    async def _settle(self) -> None:
        """Under load, after a short read, let more messages arrive before the next one."""
        if self._batching and self._options.batch_wait_ms > 0:
            await asyncio.sleep(self._options.batch_wait_ms / 1000)

    async def _wait_for_free_slot(self) -> None:
        while self._free_slots() == 0:
            await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)

    def _free_slots(self) -> int:
        return max(0, self._options.concurrency - len(self._in_flight))

    async def _xreadgroup(
        self, streams: dict[str, str], *, count: int, block_ms: int | None
    ) -> list[Entry]:
        response: Any = await self._client.xreadgroup(
            self._group,
            self._consumer,
            streams,  # type: ignore[arg-type]
            count=count,
            block=block_ms,
        )
        entries = []
        for stream_name, messages in response or []:
            stream = _text(stream_name)
            for message_id, fields in messages:
                entries.append((stream, _text(message_id), fields or {}, 1))
        return entries

    def _dispatch(self, entries: list[Entry], *, short: bool = False) -> None:
        self._batching = short and len(entries) > 1
        for stream, message_id, fields, deliveries in entries:
            if (stream, message_id) in self._in_hand:
                continue  # reclaimed from ourselves while still being handled
            key = (stream, message_id)
            self._in_hand[key] = time.monotonic()
            task = asyncio.create_task(self._handle(stream, message_id, fields, deliveries))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            task.add_done_callback(functools.partial(_forget, self._in_hand, key))

    async def _handle(
        self, stream: str, message_id: str, fields: dict[bytes, bytes], deliveries: int
    ) -> None:
        with structlog.contextvars.bound_contextvars(stream=stream, message_id=message_id):
            max_deliveries = self._options.max_deliveries
            if max_deliveries is not None and deliveries > max_deliveries:
                await self._dead_letter(stream, message_id, fields, deliveries)
                return
            try:
                message = decode_message(self._model, fields)
            except MalformedMessage as exc:
                log.warning("stream_message_malformed", error=str(exc))
                await self._dead_letter(stream, message_id, fields, deliveries)
                return
            try:
                replies = await self._handler(message, Delivery(stream, message_id, deliveries))
            except Exception:
                # Left pending on purpose: it is redelivered after claim_idle_ms.
                log.exception("stream_handler_failed", deliveries=deliveries)
                return
            try:
                await self._ack(stream, message_id, tuple(replies or ()))
            except redis.RedisError as exc:
                # Neither replied nor acked: redelivered after claim_idle_ms, handled again.
                log.warning("stream_ack_failed", error=str(exc))

    async def _keep_claimed_until(self, done: asyncio.Event) -> None:
        """Reset the idle time of the messages in hand for a while, so a long analysis
        is not stolen; one XCLAIM per stream covers all of them."""
        interval = max(self._options.claim_idle_ms / 3000, 0.05)
        while not await _wait_or_timeout(done, interval):
            held_since = time.monotonic() - interval
            by_stream: dict[str, list[str]] = defaultdict(list)
            for (stream, message_id), started in list(self._in_hand.items()):
                if started <= held_since:
                    by_stream[stream].append(message_id)
            for stream, ids in by_stream.items():
                with contextlib.suppress(redis.RedisError):
                    await self._client.xclaim(
                        stream, self._group, self._consumer, 0, list[Any](ids), justid=True
                    )

    async def _ack(self, stream: str, message_id: str, replies: tuple[Reply, ...] = ()) -> None:
        await self._acks((stream, message_id, replies))

    async def _ack_batch(self, entries: Sequence[tuple[str, str, tuple[Reply, ...]]]) -> list[None]:
        keys, args = publish_then_ack_call(
            self._group,
            delete=self._options.delete_acked,
            acks=[(stream, message_id) for stream, message_id, _ in entries],
            replies=[
                (reply.stream, encode_message(reply.message))
                for _, _, replies in entries
                for reply in replies
            ],
        )
        await self._publish_then_ack(keys=keys, args=args)
        return [None] * len(entries)

    async def _dead_letter(
        self, stream: str, message_id: str, fields: dict[bytes, bytes], deliveries: int
    ) -> None:
        letter = DeadLetter(
            source_stream=stream,
            message_id=message_id,
            deliveries=deliveries,
            fields={_text(k): _text(v) for k, v in fields.items() if k != b"data_z"},
        )
        await publish(self._client, self._dead_letter_stream, letter)
        log.warning("stream_message_dead_lettered", deliveries=deliveries)
        if self._on_dead_letter is not None:
            await self._on_dead_letter(letter)
        await self._ack(stream, message_id)

    async def _reclaim_until(self, done: asyncio.Event) -> None:
        interval = max(self._options.claim_idle_ms / 2000, 0.05)
        while not await _wait_or_timeout(done, interval):
            if self._backlog:
                continue  # the read loop is reclaiming it
            try:
                if await self._reclaim_once(min_idle_ms=self._options.claim_idle_ms):
                    self._backlog = True
            except redis.RedisError as exc:
                log.warning("stream_reclaim_failed", error=str(exc))

    async def _reclaim_backlog(self) -> None:
        """One more reclaim pass once a slot is free; the backlog ends with an empty pass."""
        await self._wait_for_free_slot()
        try:
            self._backlog = await self._reclaim_once(min_idle_ms=self._options.claim_idle_ms)
        except redis.RedisError as exc:
            self._backlog = False  # the periodic pass finds it again
            log.warning("stream_reclaim_failed", error=str(exc))

    async def _reclaim_once(self, *, min_idle_ms: int) -> bool:
        """Claim messages idle past ``min_idle_ms`` (their consumer died); True if any."""
        claimed = False
        for stream in self._streams:
            free = self._free_slots()
            if free == 0:
                break
            response: Any = await self._client.xautoclaim(
                stream, self._group, self._consumer, min_idle_ms, "0-0", count=free
            )
            messages = response[1] if response else []
            entries = []
            for message_id, fields in messages:
                if fields is None:
                    continue  # deleted while pending; XAUTOCLAIM drops it from the PEL
                mid = _text(message_id)
                entries.append((stream, mid, fields, await self._deliveries(stream, mid)))
            if entries:
                claimed = True
                log.info("stream_messages_reclaimed", stream=stream, count=len(entries))
                self._dispatch(entries)
        return claimed

    async def _deliveries(self, stream: str, message_id: str) -> int:
        pending: Any = await self._client.xpending_range(
            stream, self._group, min=message_id, max=message_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1


async def _wait_or_timeout(event: asyncio.Event, seconds: float) -> bool:
    """True once ``event`` is set; False after ``seconds`` without it."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True


def _forget(in_hand: dict[tuple[str, str], float], key: tuple[str, str], _: object) -> None:
    in_hand.pop(key, None)
