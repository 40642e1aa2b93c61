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
    model_config = ConfigDict(extra="ignore", frozen=True)

    schema_version: int = SCHEMA_VERSION


class TaskMessage(_Message):
    """A task on the submitted, ready and priority streams (and the delayed set)."""

    task_id: UUID
    purl: str
    priority: int = Field(default=0, ge=0, le=10)
    created_at: datetime
    timeout_minutes: int = Field(default=30, ge=1)
    attempt: int = Field(default=1, ge=1)
    not_before: datetime | None = None
    ecosystem: str | None = None
    retry_reason: str | None = None
    """Why the previous attempt failed, when this is a retry."""
    trace_context: dict[str, str] = Field(default_factory=dict)
    """W3C trace context carrier so one trace spans every hop."""


EventKind = Literal["queued", "delayed", "running", "phase", "completed", "failed", "cancelled"]


class TaskEvent(_Message):
    """A task's progress or outcome on the events stream; the reporter applies it."""

    task_id: UUID
    kind: EventKind
    attempt: int = Field(default=1, ge=1)
    at: datetime = Field(default_factory=utc_now)
    phase: str | None = None
    not_before: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    report: AnalysisReport | None = None
    artifact_sha256: str | None = None
    trace_context: dict[str, str] = Field(default_factory=dict)


class DeadLetter(_Message):
    """A message that was delivered too often without being acknowledged."""

    source_stream: str
    message_id: str
    deliveries: int
    fields: dict[str, str]
    at: datetime = Field(default_factory=utc_now)


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
