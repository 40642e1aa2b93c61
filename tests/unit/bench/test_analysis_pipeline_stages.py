"""bench.analysis_pipeline's split of a task's life into stages (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from bench.analysis_pipeline import staged

from packguard.common.report import (
    AnalysisReport,
    PackageInfo,
    PhaseResult,
    Verdict,
    VerdictLabel,
)

CREATED = 1_800_000_000.0


def _row(**seconds_after_creation: float | None) -> dict[str, object]:
    """A task row as the bench selects it: epochs as PostgreSQL numerics."""
    row: dict[str, object] = {
        "status": "completed",
        "error_category": None,
        "verdict_label": "benign",
        "created": Decimal(str(CREATED)),
    }
    for name, offset in seconds_after_creation.items():
        row[name] = None if offset is None else Decimal(str(CREATED + offset))
    return row


def _report(analyzer_began_after: float, **phase_ms: int) -> AnalysisReport:
    return AnalysisReport(
        analyzer_version="t",
        package=PackageInfo(ecosystem="pypi", name="x", version="1"),
        artifacts=[],
        verdict=Verdict(label=VerdictLabel.BENIGN, score=0.0),
        started_at=datetime.fromtimestamp(CREATED + analyzer_began_after, UTC),
        phases=[PhaseResult(name=n, status="ok", duration_ms=ms) for n, ms in phase_ms.items()],
    )


def test_a_completed_task_is_split_into_stages_that_add_up() -> None:
    row = _row(queued=0.1, started=0.3, finished=9.3, recorded=9.5)
    report = _report(2.3, extract=500, static=1500, install=3000, **{"import": 1000})

    result = staged("pkg:pypi/x@1", row, report, fetch=1.0)

    s = result.seconds
    assert (s["schedule"], s["queue"], s["fetch"]) == pytest.approx((0.1, 0.2, 1.0))
    assert s["start"] == pytest.approx(1.0)  # 2.3 - 0.3 started - 1.0 fetch
    assert (s["static"], s["dynamic"]) == pytest.approx((2.0, 4.0))
    assert s["other"] == pytest.approx(9.0 - 1.0 - 1.0 - 2.0 - 4.0)
    assert (s["record"], s["total"]) == pytest.approx((0.2, 9.5))
    parts = sum(s[k] or 0.0 for k in s if k != "total")
    assert parts == pytest.approx(s["total"])


def test_without_the_fetch_metric_fetch_is_unknown_and_counted_in_start() -> None:
    row = _row(queued=0.1, started=0.3, finished=5.0, recorded=5.1)

    s = staged("pkg:npm/y@1", row, _report(1.3), fetch=None).seconds

    assert s["fetch"] is None
    assert s["start"] == pytest.approx(1.0)


def test_a_task_that_failed_before_running_keeps_its_category_and_only_known_stages() -> None:
    row = {
        **_row(queued=0.1, started=None, finished=0.2, recorded=0.3),
        "status": "failed",
        "error_category": "not_found",
        "verdict_label": None,
    }

    result = staged("pkg:npm/gone@1", row, None, fetch=None)

    assert result.status == "not_found"
    assert result.seconds["queue"] is None and result.seconds["static"] is None
    assert result.seconds["total"] == pytest.approx(0.3)
