"""make bench's summary table and charts, from a results document (pure, files only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.charts import draw_all
from bench.summary import summary_rows


def _latest() -> dict[str, Any]:
    control = [
        {"system": "ceiling", "runners": 1, "tasks_per_second": 1000.0, "of_ceiling": 1.0},
        {"system": "packguard", "runners": 1, "tasks_per_second": 90.0, "of_ceiling": 0.09},
        {"system": "packguard", "runners": 2, "tasks_per_second": 95.0, "of_ceiling": 0.1},
        {"system": "celery", "runners": 1, "tasks_per_second": 200.0, "of_ceiling": 0.2},
    ]
    paced = {"p10": 9.0, "p50": 21.4, "p90": 40.0, "p99": 80.2}
    control[1].update(paced_rate=50.0, paced_p50_ms=21.4, paced_p99_ms=80.2, paced_latency_ms=paced)
    gateway = {
        "concurrency": 64,
        "phases": [
            {"phase": "post_new", "requests_per_second": 400.0, "p50_ms": 10.0, "p99_ms": 60.0},
            {"phase": "get_task", "requests_per_second": 900.0, "p50_ms": 5.0, "p99_ms": 20.0},
        ],
    }
    operation = {"p50_ms": 0.2, "p99_ms": 1.0}
    growth_row = {
        "backlog": 10_000,
        "used_memory_mib": 13.0,
        **dict.fromkeys(("enqueue", "delay", "release", "claim", "position", "depth"), operation),
    }
    growth = {"rows": [growth_row], "trim_check": {"entries_after": 0}}
    analysis = {
        "durations_seconds": [2.0, 4.0],
        "metadata": {
            "packages": [
                {"name": "a", "ecosystem": "npm", "start": 0.5, "static": 0.1, "total": 2.0},
                {"name": "b", "ecosystem": "pypi", "install": 3.0, "total": 4.0},
            ]
        },
    }
    pipeline = {
        "stages": ["queue", "fetch", "total"],
        "summary": {"queue": [0.01, 0.02], "fetch": None, "total": [5.0, 9.0]},
    }
    objects = {
        "rows": [
            {
                "client": "botocore",
                "op": "put",
                "client_cpu_ms": 2.0,
                "server_cpu_ms": 2.0,
                "total_of_baseline": 1.0,
            },
            {
                "client": "store",
                "op": "put",
                "client_cpu_ms": 0.56,
                "server_cpu_ms": 1.14,
                "total_of_baseline": 0.43,
            },
        ]
    }
    return {
        "benches": {
            "s3_put": {"result": objects},
            "control_plane": {"result": control},
            "analysis_pipeline": {"result": pipeline},
            "gateway": {"result": gateway},
            "growth": {"result": growth},
            "analysis": {"result": analysis},
            "detection": {"error": "exit status 1"},
        }
    }


def test_summary_puts_each_measurement_beside_its_target() -> None:
    rows = {what: (measured, target) for what, measured, target in summary_rows(_latest())}

    assert rows["control plane, tasks/s"] == ("95 (2 runners, 10.0% of ceiling)", ">= 1000")
    assert rows["Celery peer, tasks/s"][0] == "200"
    assert rows["gateway post_new"] == ("400/s, p99 60 ms", ">= 1000/s, p99 < 50 ms")
    assert rows["full analysis, median s"] == ("3.0 over 2 packages", "< 20")
    assert rows["acked entries trimmed"] == ("0 left", "0")
    assert rows["packguard latency at 50 tasks/s"][0] == "p50 21 ms, p99 80 ms"
    assert "celery latency at 50 tasks/s" not in rows
    assert rows["analysis through the pipeline, median s"][0] == "queue 0.01"
    assert rows["report object put, CPU ms client + S3 server"][0] == (
        "0.56 + 1.14 (43% of plain aiobotocore)"
    )


def test_charts_are_drawn_for_every_bench_that_ran(tmp_path: Path) -> None:
    drawn = draw_all(_latest(), tmp_path)

    assert sorted(path.name for path in drawn) == [
        "bench_analysis_phases.png",
        "bench_gateway_latency.png",
        "bench_growth.png",
        "bench_task_latency.png",
        "bench_throughput.png",
    ]
    assert all(path.stat().st_size > 1000 for path in drawn)
    assert draw_all({"benches": {}}, tmp_path / "none") == []
