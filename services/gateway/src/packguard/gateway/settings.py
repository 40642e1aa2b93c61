"""The gateway's settings: each field reads the environment variable of the same name."""

from __future__ import annotations

from pydantic import Field

from packguard.common import keys
from packguard.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=16 * 1024, ge=256)
    """Largest request body accepted; larger ones get 413 body_too_large."""
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    """A JSON body must arrive within this (a client dribbling it gets 408 request_timeout);
    also how long an unread body is drained before its connection closes."""
    keepalive_timeout_seconds: float = Field(default=75.0, gt=0)
    """An idle connection is closed after this, and so is one that has not sent a complete
    request head by then (slow clients). Longer than ingress-nginx's upstream keep-alive
    (60 s), so the proxy never reuses a connection the gateway is closing."""
    max_header_count: int = Field(default=64, ge=16)
    """More request headers than this get 400 from the HTTP parser."""
    max_header_line_bytes: int = Field(default=8190, ge=1024)
    """Longest request line or single header; longer gets 400 from the HTTP parser."""
    max_header_total_bytes: int = Field(default=32 * 1024, ge=1024)
    """All request headers together; more gets 431 headers_too_large."""
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest artifact ``POST /api/v1/analyze/upload/`` accepts (413 above it)."""
    upload_retention_days: int = Field(default=30, ge=0)
    """Uploaded artifacts are deleted by the bucket's lifecycle this many days after their
    last upload (0 keeps them): long past any task's retries, short of keeping every
    file anyone ever sent."""
    public_base_url: str | None = None
    """Origin used in links (``https://packguard.example``); default: the request's own."""
    timeout_minutes: int = Field(default=30, ge=1)
    """Analysis timeout given to each new task."""
    default_rate_limit_per_minute: int = Field(default=60, ge=1)
    """Requests per minute for a key created without its own limit."""
    analyzer_version: str = "0.1.0"
    """A completed report by this analyzer version answers a submission (the cache)."""
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    cancel_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    shutdown_timeout_seconds: float = Field(default=10.0, ge=0)

    rate_limit_key_prefix: str = keys.RATE_LIMIT_KEY_PREFIX
    cancel_key_prefix: str = keys.CANCEL_KEY_PREFIX
    idempotency_key_prefix: str = keys.IDEMPOTENCY_KEY_PREFIX
    sequence_suffix: str = keys.SEQUENCE_SUFFIX
    runners_group: str = keys.RUNNERS_GROUP
    schedulers_group: str = keys.SCHEDULERS_GROUP
