"""Settings shared by every service: read from environment variables of the same name."""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from packguard.common import keys


def default_consumer_name() -> str:
    """hostname-pid: a restarted process is a new consumer-group member."""
    return f"{socket.gethostname()}-{os.getpid()}"


class ServiceSettings(BaseSettings):
    """Base for each service's settings class; field ``redis_url`` reads ``REDIS_URL``."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    service_name: str = "packguard"
    log_level: str = "INFO"
    redis_url: str = "redis://127.0.0.1:16379/0"
    database_url: SecretStr = SecretStr(
        "postgresql://packguard:packguard@127.0.0.1:15432/packguard"
    )
    database_pool_size: int = Field(default=10, ge=1)
    consumer_name: str = Field(default_factory=default_consumer_name)

    submitted_stream: str = keys.SUBMITTED_STREAM
    ready_stream: str = keys.READY_STREAM
    priority_stream: str = keys.PRIORITY_STREAM
    delayed_zset: str = keys.DELAYED_ZSET
    events_stream: str = keys.EVENTS_STREAM
    dead_letter_stream: str = keys.DEAD_LETTER_STREAM

    metrics_port: int = Field(default=0, ge=0, le=65535)
    """Port of the /health/, /ready/ and /metrics listener of a worker; 0 disables it."""
    metrics_host: str = "127.0.0.1"

    def redacted(self) -> dict[str, Any]:
        """Settings for the ``config_loaded`` log event: secrets and URL passwords masked."""
        return {name: _redact(value) for name, value in self}


def _redact(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return "***"
    if isinstance(value, str) and "://" in value:
        parts = urlsplit(value)
        if parts.password:
            _, _, host = parts.netloc.rpartition("@")
            return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))
    return value


class StorageSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    s3_endpoint_url: str | None = None
    s3_bucket: str = "packguard"
    aws_access_key_id: SecretStr | None = None
    aws_secret_access_key: SecretStr | None = None
    aws_default_region: str = "us-east-1"
