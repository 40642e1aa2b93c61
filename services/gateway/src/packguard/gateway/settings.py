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
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Largest artifact ``POST /api/v1/analyze/upload/`` accepts (413 above it)."""
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
