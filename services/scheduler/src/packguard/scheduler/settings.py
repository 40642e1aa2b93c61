"""Scheduler settings: each field reads the environment variable of the same name."""

from __future__ import annotations

from pydantic import Field, field_validator

from packguard.common import keys
from packguard.common.settings import ServiceSettings
from packguard.scheduler.priority import DEFAULT_PRIORITY_THRESHOLD
from packguard.scheduler.scaling import MAX_REPLICAS


class SchedulerSettings(ServiceSettings):
    service_name: str = "packguard-scheduler"

    scheduler_group: str = keys.SCHEDULERS_GROUP
    runners_group: str = keys.RUNNERS_GROUP
    """Read only, for the lag and pending gauges of the ready streams."""
    delayed_payload_hash: str = keys.DELAYED_PAYLOAD_HASH
    delayed_target_hash: str = f"{keys.DELAYED_ZSET}:target"
    """Ready-stream target of each delayed task, by task id (KEYS[3] of the delayed scripts)."""
    slots_key_prefix: str = keys.SLOTS_KEY_PREFIX

    priority_threshold: int = Field(default=DEFAULT_PRIORITY_THRESHOLD, ge=0, le=11)
    max_attempts: int = Field(default=3, ge=1)
    retry_base_seconds: float = Field(default=10.0, ge=0)
    retry_cap_seconds: float = Field(default=600.0, ge=0)
    retry_jitter_fraction: float = Field(default=0.2, ge=0, le=1)

    consumer_concurrency: int = Field(default=32, ge=1)
    """Submissions handled at once; their writes share statements, so more is cheaper."""
    claim_idle_ms: int = Field(default=60_000, ge=0)
    release_interval_seconds: float = Field(default=0.2, gt=0)
    release_batch_size: int = Field(default=100, ge=1)
    sweep_pending_after_seconds: float = Field(default=60.0, gt=0)
    """Longer than a submission normally waits in the submitted stream."""
    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    sweep_batch_size: int = Field(default=500, ge=1)
    metrics_interval_seconds: float = Field(default=5.0, gt=0)

    ecosystem_concurrency: dict[str, int] = Field(default_factory=dict)
    """JSON, e.g. ``{"pypi": 500, "npm": 500, "*": 100}``; unlisted and no ``*``: uncapped."""
    runner_max_replicas: int = Field(default=MAX_REPLICAS, ge=1)

    @field_validator("ecosystem_concurrency")
    @classmethod
    def _caps_not_negative(cls, value: dict[str, int]) -> dict[str, int]:
        if any(cap < 0 for cap in value.values()):
            raise ValueError("ECOSYSTEM_CONCURRENCY caps must be >= 0")
        return value
