"""Every metric that an alert, a dashboard or the autoscaler reads is one the running
services really export (k8s/kustomize/components/monitoring/metrics-used.txt)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.e2e.processes import Pipeline

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What the Prometheus text format adds to a family's name, per metric type.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gauge": ("",),
}


def exported_series(text: str) -> set[str]:
    """Series names a scrape can yield, from its ``# TYPE`` lines (even before samples)."""
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            base = family.removesuffix("_total")
            names.update(base + suffix for suffix in _SUFFIXES.get(kind, ("",)))
            names.add(family)
    return names


def test_exported_series_expands_families() -> None:
    text = "# TYPE a_total counter\n# TYPE b histogram\n# TYPE c gauge\n"
    assert {"a_total", "b_bucket", "b_count", "c"} <= exported_series(text)


async def test_every_metric_used_by_monitoring_is_exported(
    pipeline: Pipeline, repo_root: Path
) -> None:
    used_file = repo_root / "k8s/kustomize/components/monitoring/metrics-used.txt"
    used = {line.strip() for line in used_file.read_text().splitlines() if line.strip()}
    await pipeline.start(runners=1)
    exported: set[str] = set()
    async with aiohttp.ClientSession() as session:
        for service in pipeline.services:
            async with session.get(service.health_url.replace("/health/", "/metrics")) as response:
                assert response.status == 200, service.name
                exported |= exported_series(await response.text())
    assert sorted(used - exported) == []
