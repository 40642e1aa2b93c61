"""The one table ``make bench`` ends with: each target, what was measured, met or not."""

from __future__ import annotations

import statistics
from typing import Any


def _result(latest: dict[str, Any], name: str) -> Any:
    return (latest["benches"].get(name) or {}).get("result")


def summary_rows(latest: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, measured, target) for every figure a target names."""
    rows: list[tuple[str, str, str]] = []
    control = _result(latest, "control_plane")
    if control:
        best = max((r for r in control if r["system"] == "packguard"), key=_rate, default=None)
        celery = max((r for r in control if r["system"] == "celery"), key=_rate, default=None)
        ceiling = max((r for r in control if r["system"] == "ceiling"), key=_rate, default=None)
        if best:
            rows.append(
                (
                    "control plane, tasks/s",
                    f"{best['tasks_per_second']:.0f} ({best['runners']} runners, "
                    f"{best['of_ceiling']:.1%} of ceiling)",
                    ">= 1000",
                )
            )
        if celery:
            rows.append(("Celery peer, tasks/s", f"{celery['tasks_per_second']:.0f}", "below us"))
        if ceiling:
            rows.append(("bare redis-py ceiling", f"{ceiling['tasks_per_second']:.0f}", "-"))
        for system in ("packguard", "celery"):
            paced = next(
                (r for r in control if r["system"] == system and "paced_p50_ms" in r), None
            )
            if paced:
                rows.append(
                    (
                        f"{system} latency at {paced['paced_rate']:.0f} tasks/s",
                        f"p50 {paced['paced_p50_ms']:.0f} ms, p99 {paced['paced_p99_ms']:.0f} ms",
                        "-",
                    )
                )
    gateway = _result(latest, "gateway")
    for phase in gateway["phases"] if gateway else []:
        target = {"post_new": ">= 1000/s", "post_dedup": ">= 1000/s", "get_task": ">= 2000/s"}
        rows.append(
            (
                f"gateway {phase['phase']}",
                f"{phase['requests_per_second']:.0f}/s, p99 {phase['p99_ms']:.0f} ms",
                target.get(phase["phase"], "-")
                + (", p99 < 50 ms" if phase["phase"] in target else ""),
            )
        )
    objects = _result(latest, "s3_put")
    for row in objects["rows"] if objects else []:
        if row["client"] == "store":
            rows.append(
                (
                    f"report object {row['op']}, CPU ms client + S3 server",
                    f"{row['client_cpu_ms']:.2f} + {row['server_cpu_ms']:.2f} "
                    f"({row['total_of_baseline']:.0%} of plain aiobotocore)",
                    "-",
                )
            )
    analysis = _result(latest, "analysis")
    if analysis:
        totals = analysis["durations_seconds"]
        rows.append(
            (
                "full analysis, median s",
                f"{statistics.median(totals):.1f} over {len(totals)} packages",
                "< 20",
            )
        )
    pipeline = _result(latest, "analysis_pipeline")
    if pipeline:
        stages = pipeline["summary"]
        parts = ", ".join(
            f"{stage} {stages[stage][0]:.2f}"
            for stage in pipeline["stages"]
            if stages.get(stage) and stage != "total"
        )
        rows.append(("analysis through the pipeline, median s", parts, "-"))
    growth = _result(latest, "growth")
    if growth:
        last = growth["rows"][-1]
        worst = max(last[op]["p50_ms"] for op in ("enqueue", "claim", "position", "depth"))
        rows.append(
            (
                f"Redis ops at {last['backlog']:,} queued",
                f"p50 <= {worst:.2f} ms, {last['used_memory_mib']:.0f} MiB",
                "flat",
            )
        )
        trim = growth["trim_check"]
        rows.append(("acked entries trimmed", f"{trim['entries_after']} left", "0"))
    detection = _result(latest, "detection")
    for row in detection["rows"] if detection else []:
        recall = f"{row['recall']:.0%}" if row["recall"] is not None else "n/a"
        rows.append(
            (
                f"{row['tool']} on {row['inputs']}",
                f"recall {recall}, flagged {row['flagged_rate']:.1%}, "
                f"{row['median_seconds']:.3f} s/pkg",
                "recall >= 95%, FP 0 (corpus); <= 1% flagged (real)",
            )
        )
    return rows


def print_summary(latest: dict[str, Any]) -> None:
    rows = summary_rows(latest)
    width = max((len(row[0]) for row in rows), default=10)
    measured_width = max((len(row[1]) for row in rows), default=10)
    print(f"\n{'what':<{width}}  {'measured':<{measured_width}}  target")
    for what, measured, target in rows:
        print(f"{what:<{width}}  {measured:<{measured_width}}  {target}")
    for name, entry in latest["benches"].items():
        if "error" in entry:
            print(f"{name}: {entry['error']}")


def _rate(row: dict[str, Any]) -> float:
    return float(row["tasks_per_second"])
