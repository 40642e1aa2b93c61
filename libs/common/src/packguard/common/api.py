"""Every HTTP body of the gateway, one pydantic model each (API version 1).

The gateway validates requests and renders responses with these models only, and the
OpenAPI document is generated from them. Every response is wrapped in an envelope:
``Envelope[T]`` on success, ``ErrorEnvelope`` on failure. Within API version 1 changes
are additive.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from packguard.common.messages import TaskStatus
from packguard.common.purl import MAX_PURL_LENGTH, Ecosystem
from packguard.common.report import VerdictLabel

API_PREFIX = "/api/v1"
MAX_PRIORITY = 10
MAX_DELAY_SECONDS = 7 * 24 * 3600
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- requests ------------------------------------------------------------------------


class AnalyzeRequest(_Body):
    """Body of ``POST /api/v1/analyze/``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    purl: str = Field(
        min_length=1,
        max_length=MAX_PURL_LENGTH,
        description="Package URL of one exact release.",
        examples=["pkg:pypi/six@1.16.0", "pkg:npm/%40babel/core@7.22.0"],
    )
    priority: int = Field(default=0, ge=0, le=MAX_PRIORITY, description="0..10; higher runs first.")
    delay_seconds: int = Field(
        default=0, ge=0, le=MAX_DELAY_SECONDS, description="Start no earlier than this."
    )
    force: bool = Field(
        default=False, description="Analyze again even when a current report exists."
    )


def _absent_not_null(schema: dict[str, Any]) -> None:
    """A form field is sent or left out; it cannot be null, so the document says so."""
    schema.pop("default", None)
    branches = schema.pop("anyOf", None) or []
    for branch in branches:
        if branch.get("type") != "null":
            schema.update(branch)


class UploadFields(_Body):
    """The text fields of ``POST /api/v1/analyze/upload/`` (multipart/form-data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ecosystem: Ecosystem | None = Field(
        default=None,
        json_schema_extra=_absent_not_null,
        description="pypi or npm; detected from the file name (.tar.gz/.whl/.zip, .tgz) "
        "when absent.",
    )
    name: str | None = Field(
        default=None,
        json_schema_extra=_absent_not_null,
        min_length=1,
        max_length=214,
        description="Package name for the report; read from the file name when absent.",
    )
    version: str | None = Field(
        default=None,
        json_schema_extra=_absent_not_null,
        min_length=1,
        max_length=128,
        description="Version for the report; read from the file name when absent.",
    )
    priority: int = Field(default=0, ge=0, le=MAX_PRIORITY, description="0..10; higher runs first.")
    delay_seconds: int = Field(
        default=0, ge=0, le=MAX_DELAY_SECONDS, description="Start no earlier than this."
    )
    force: bool = Field(
        default=False, description="Analyze again even when this file was analysed already."
    )


class AnalyzeUpload(UploadFields):
    """Body of ``POST /api/v1/analyze/upload/``: the artifact and its text fields."""

    file: bytes = Field(
        description="The artifact: an sdist, wheel or npm tarball. Its name (the part's "
        "filename) must be a plain file name.",
        json_schema_extra={"format": "binary", "contentMediaType": "application/octet-stream"},
    )


class ReportQuery(_Body):
    """Query parameters of ``GET /api/v1/reports/``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    page: int = Field(default=1, ge=1, le=100_000)
    page_size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    status: TaskStatus | None = None
    ecosystem: Ecosystem | None = None
    verdict: VerdictLabel | None = None


# --- task views ----------------------------------------------------------------------


SubmitOutcome = Literal["created", "deduplicated", "cached"]


class TaskAccepted(_Body):
    """Answer to a submission: 202 for a new task, 200 for an existing one."""

    task_id: UUID
    status: TaskStatus
    outcome: SubmitOutcome = Field(
        description="created: a new task; deduplicated: the same purl is in flight; "
        "cached: a report by the current analyzer version exists."
    )
    status_url: str
    report_url: str


class TaskLinks(_Body):
    status: str
    report: str


class TaskError(_Body):
    category: str = Field(description="An error code such as not_found or timeout.")
    message: str


class VerdictSummary(_Body):
    label: VerdictLabel
    score: float


class TaskSummary(_Body):
    """One task in a listing."""

    task_id: UUID
    purl: str
    ecosystem: Ecosystem
    status: TaskStatus
    verdict: VerdictSummary | None
    created_at: datetime
    finished_at: datetime | None
    links: TaskLinks


class TaskView(TaskSummary):
    """Everything a client may know about one of its tasks."""

    phase: str | None
    priority: int
    queue_position: int | None = Field(
        description="1 = runs next; only for queued tasks, null when unknown."
    )
    attempts: int
    not_before: datetime | None
    started_at: datetime | None
    error: TaskError | None


class ReportPage(_Body):
    """One page of the caller's tasks, newest first."""

    items: list[TaskSummary]
    page: int
    page_size: int
    total: int
    pages: int


# --- queue and health ----------------------------------------------------------------


class StreamStatus(_Body):
    stream: str
    group: str
    length: int = Field(description="Entries in the stream.")
    pending: int = Field(description="Delivered to the group and not yet acknowledged.")
    lag: int | None = Field(description="Entries not yet delivered; null when unknown.")
    oldest_waiting_age_seconds: float | None = Field(
        description="Age of the oldest entry not yet delivered; null when none waits."
    )


class QueueStatus(_Body):
    """Queue depth, without any client's package URLs."""

    streams: list[StreamStatus]
    delayed: int
    running: int
    at: datetime


class HealthStatus(_Body):
    status: Literal["ok"]


class Readiness(_Body):
    ready: bool
    checks: dict[str, bool]


# --- envelopes -----------------------------------------------------------------------


class Envelope(BaseModel, Generic[T]):
    """A successful response."""

    model_config = ConfigDict(frozen=True)

    success: Literal[True] = True
    data: T
    request_id: str


class ErrorDetail(_Body):
    code: str = Field(description="Stable snake_case error code.")
    message: str
    fields: dict[str, Any] | None = Field(
        default=None, description="Per-field details of invalid input; omitted otherwise."
    )


class ErrorEnvelope(_Body):
    """A failed response."""

    success: Literal[False] = False
    error: ErrorDetail
    request_id: str
