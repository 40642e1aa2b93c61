"""Runner settings: one field per environment variable of the same name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from packguard.common.settings import ServiceSettings


class RunnerSettings(ServiceSettings):
    service_name: str = "runner"
    worker_concurrency: int = Field(default=1, ge=1, le=64)

    analysis_backend: Literal["sandbox", "noop"] = "sandbox"
    """``noop`` answers every task with an empty report: for control-plane benchmarks only."""
    docker_host: str | None = None
    analyzer_image: str = "localhost/packguard-analyzer:latest"
    work_dir: str = "/var/tmp/packguard-runner"  # noqa: S108 (root-owned, per-task subdirs)
    """Where artifacts and reports live during a task; must be visible to the engine at the
    same path (bind mounts name host paths)."""

    pypi_index_url: str | None = None
    """A PEP 691 simple index; default: pip's own configured index."""
    npm_registry_url: str | None = None
    """Default: ``npm config get registry``."""
    registry_timeout_seconds: float = 60.0
    max_artifact_bytes: int = Field(default=200 * 1024 * 1024, ge=1)

    sandbox_memory_bytes: int = 1024 * 1024 * 1024
    sandbox_nano_cpus: int = 1_000_000_000
    sandbox_pids_limit: int = 256
    sandbox_scratch_bytes: int = 512 * 1024 * 1024
    """The scratch tmpfs; its pages count against SANDBOX_MEMORY_BYTES, so keep it well
    under that or a disk fill is met by the memory limit first."""
    sandbox_nofile: tuple[int, int] = (1024, 4096)
    sandbox_nproc: tuple[int, int] = (32768, 32768)
    """RLIMIT_NPROC counts every process of the sandbox uid on the host, across containers
    and pods, so a low value lets one fork bomb starve its neighbours; the per-container
    cap is SANDBOX_PIDS_LIMIT (the pids cgroup)."""
    default_timeout_minutes: int = 30

    claim_idle_ms: int = 60_000
    max_deliveries: int = 5
    ecosystem_concurrency: dict[str, int] = Field(default_factory=dict)
    """Cluster-wide cap of running analyses per ecosystem; absent means no cap."""
    slot_lease_seconds: int = 120
    cancel_poll_seconds: float = 1.0
