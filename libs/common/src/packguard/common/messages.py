"""Every Redis stream message, one pydantic model each (schema version 1).

Within a schema version changes are additive; a breaking change adds a version and
consumers accept both for one release. ``decode_message`` and ``encode_message`` are the
only way a message becomes stream fields and back.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from packguard.common.report import AnalysisReport

SCHEMA_VERSION = 1
# Values above this are zlib-compressed in the stream (reports can be large).
_COMPRESS_ABOVE_BYTES = 64 * 1024


def utc_now() -> datetime:
    return datetime.now(UTC)


class TaskStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    DELAYED = "delayed"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)

    schema_version: int = SCHEMA_VERSION


class TaskMessage(_Message):
    """A task on the submitted, ready and priority streams (and the delayed set)."""

    task_id: UUID
    """The task row this message is about."""
    purl: str
    """Normalized package URL of the release to analyse."""
    priority: int = Field(default=0, ge=0, le=10)
    """0 to 10; at or above the scheduler threshold it goes to the priority stream."""
    created_at: datetime
    """When the task was submitted."""
    timeout_minutes: int = Field(default=30, ge=1)
    """Wall-clock budget of one analysis attempt."""
    attempt: int = Field(default=1, ge=1)
    """1 for the first try; retries carry the next number."""
    not_before: datetime | None = None
    """Release the task no earlier than this (delayed submissions, backoff)."""
    ecosystem: str | None = None
    """The purl type, for per-ecosystem caps without parsing."""
    retry_reason: str | None = None
    """Why the previous attempt failed, when this is a retry."""
    trace_context: dict[str, str] = Field(default_factory=dict)
    """W3C trace context carrier so one trace spans every hop."""


EventKind = Literal["queued", "delayed", "running", "phase", "completed", "failed", "cancelled"]


class TaskEvent(_Message):
    """A task's progress or outcome on the events stream; the reporter applies it."""

    task_id: UUID
    """The task the event is about."""
    kind: EventKind
    """What happened; running/phase/completed/failed/cancelled are applied to the row."""
    attempt: int = Field(default=1, ge=1)
    """The attempt it belongs to; events of older attempts are ignored."""
    at: datetime = Field(default_factory=utc_now)
    """When it happened."""
    phase: str | None = None
    """Current phase (fetch, analyze) for running/phase events."""
    not_before: datetime | None = None
    """For delayed events: when the task will be released."""
    error_code: str | None = None
    """Failure category for failed events (the error code clients see)."""
    error_message: str | None = None
    """Human-readable failure reason, capped."""
    report: AnalysisReport | None = None
    """The full report, on completed events."""
    artifact_sha256: str | None = None
    """SHA-256 of the analysed artifact, on completed events."""
    trace_context: dict[str, str] = Field(default_factory=dict)
    """W3C trace context carrier."""


class DeadLetter(_Message):
    """A message that was delivered too often without being acknowledged."""

    source_stream: str
    """Stream the message was taken from."""
    message_id: str
    """Its stream entry id."""
    deliveries: int
    """How many times it was delivered without being acknowledged."""
    fields: dict[str, str]
    """The original entry fields."""
    at: datetime = Field(default_factory=utc_now)
    """When it was dead-lettered."""


M = TypeVar("M", bound=_Message)


class MalformedMessage(ValueError):
    """A stream entry that is not a valid message of the expected model."""


def encode_message(message: _Message) -> dict[str, bytes]:
    body = message.model_dump_json(exclude_none=True).encode()
    if len(body) > _COMPRESS_ABOVE_BYTES:
        return {"data_z": zlib.compress(body, 6)}
    return {"data": body}


def decode_message(model: type[M], fields: dict[bytes, bytes]) -> M:
    try:
        if b"data" in fields:
            body = fields[b"data"]
        elif b"data_z" in fields:
            body = zlib.decompress(fields[b"data_z"])
        else:
            raise MalformedMessage("stream entry has no data field")
        return model.model_validate_json(body)
    except (ValidationError, zlib.error, UnicodeDecodeError) as exc:
        raise MalformedMessage(str(exc)) from exc
