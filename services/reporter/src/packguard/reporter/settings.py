"""Reporter settings: each field reads the environment variable of the same name."""

from __future__ import annotations

from pydantic import Field

from packguard.common import keys
from packguard.common.settings import ServiceSettings


class ReporterSettings(ServiceSettings):
    service_name: str = "packguard-reporter"

    reporter_group: str = keys.REPORTERS_GROUP
    consumer_concurrency: int = Field(default=32, ge=1)
    """Events handled at once; their writes share statements, so more is cheaper."""
    claim_idle_ms: int = Field(default=15_000, ge=0)
    """An event whose write failed (PostgreSQL or S3 down) is retried after this long."""
    error_message_max_chars: int = Field(default=2000, ge=1)
