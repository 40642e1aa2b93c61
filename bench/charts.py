"""The charts of docs/performance.md, drawn from bench/results/latest.json.

One function per picture; each skips silently when its benchmark did not run, so a
partial ``--only`` run redraws just what it measured.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

COLOURS = {"packguard": "#1b9e77", "celery": "#d95f02", "ceiling": "#7570b3"}
PHASES = ("start", "static", "install", "import_", "other")
PHASE_LABELS = {
    "start": "container start",
    "static": "static",
    "install": "dynamic: install",
    "import_": "dynamic: import",
    "other": "other",
}
GROWTH_OPERATIONS = ("enqueue", "delay", "release", "claim", "position", "depth")


def _result(latest: dict[str, Any], name: str) -> Any:
    entry = latest["benches"].get(name) or {}
    return entry.get("result")


def draw_throughput(latest: dict[str, Any], path: Path) -> Path | None:
    rows = _result(latest, "control_plane")
    if not rows:
        return None
    by_system: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row in rows:
        by_system[row["system"]].append((row["runners"], row["tasks_per_second"]))
    figure, axis = plt.subplots(figsize=(7, 4))
    for system, points in sorted(by_system.items()):
        points.sort()
        axis.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            label=system,
            color=COLOURS.get(system),
        )
    axis.set_yscale("log")
    axis.set_xlabel("runners (Celery: worker processes)")
    axis.set_ylabel("tasks per second (log)")
    axis.set_title("Control plane, no-op analyses, end to end")
    axis.set_xticks(sorted({row["runners"] for row in rows}))
    axis.grid(alpha=0.3)
    axis.legend()
    return _save(figure, path)


def draw_paced_latency(latest: dict[str, Any], path: Path) -> Path | None:
    """Submit → recorded latency distribution at the paced rate, per system and runners."""
    rows = [r for r in _result(latest, "control_plane") or [] if "paced_latency_ms" in r]
    if not rows:
        return None
    figure, axis = plt.subplots(figsize=(7, 4))
    styles = ("-", "--", ":", "-.")
    runner_counts = sorted({row["runners"] for row in rows})
    for row in rows:
        quantiles = row["paced_latency_ms"]
        levels = [int(name[1:]) for name in quantiles]
        axis.plot(
            list(quantiles.values()),
            levels,
            marker="o",
            markersize=3,
            color=COLOURS.get(row["system"]),
            linestyle=styles[runner_counts.index(row["runners"]) % len(styles)],
            label=f"{row['system']}, {row['runners']} runner{'s' if row['runners'] > 1 else ''}",
        )
    axis.set_xscale("log")
    axis.set_xlabel("submit → recorded, ms (log)")
    axis.set_ylabel("percentile")
    axis.set_title(f"Task latency at {rows[0]['paced_rate']:g} tasks/s offered (no-op analyses)")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _save(figure, path)


def draw_latency(latest: dict[str, Any], path: Path) -> Path | None:
    gateway = _result(latest, "gateway")
    if not gateway:
        return None
    phases = gateway["phases"]
    names = [phase["phase"] for phase in phases]
    figure, axis = plt.subplots(figsize=(8, 4))
    positions = range(len(names))
    axis.bar([p - 0.2 for p in positions], [ph["p50_ms"] for ph in phases], 0.4, label="p50")
    axis.bar([p + 0.2 for p in positions], [ph["p99_ms"] for ph in phases], 0.4, label="p99")
    for position, phase in zip(positions, phases, strict=True):
        axis.annotate(
            f"{phase['requests_per_second']:.0f}/s",
            (position, max(phase["p99_ms"], phase["p50_ms"])),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axis.axhline(50, color="grey", linestyle="--", linewidth=1, label="p99 target 50 ms")
    axis.set_xticks(list(positions), names)
    axis.set_ylabel("latency, ms")
    axis.set_title(f"One gateway process at concurrency {gateway['concurrency']}")
    axis.legend()
    return _save(figure, path)


def draw_phases(latest: dict[str, Any], path: Path) -> Path | None:
    analysis = _result(latest, "analysis")
    if not analysis:
        return None
    packages = sorted(
        analysis["metadata"]["packages"], key=lambda row: row.get("total") or 0.0, reverse=True
    )
    labels = [f"{row['name']} ({row['ecosystem']})" for row in packages]
    figure, axis = plt.subplots(figsize=(8, max(4.0, 0.22 * len(packages))))
    left = [0.0] * len(packages)
    for phase in PHASES:
        values = [float(row.get(phase) or 0.0) for row in packages]
        axis.barh(labels, values, left=left, label=PHASE_LABELS[phase])
        left = [a + b for a, b in zip(left, values, strict=True)]
    totals = [float(row.get("total") or 0.0) for row in packages]
    median = statistics.median(totals) if totals else 0.0
    axis.axvline(median, color="black", linewidth=1, label=f"median {median:.1f} s")
    axis.invert_yaxis()
    axis.tick_params(axis="y", labelsize=7)
    axis.set_xlabel("seconds")
    axis.set_title("Full analysis per package, by phase")
    axis.legend(fontsize=8)
    return _save(figure, path)


def draw_growth(latest: dict[str, Any], path: Path) -> Path | None:
    growth = _result(latest, "growth")
    if not growth:
        return None
    rows = [row for row in growth["rows"] if row["backlog"] > 0]
    if not rows:
        return None
    backlogs = [row["backlog"] for row in rows]
    figure, (latency, memory) = plt.subplots(1, 2, figsize=(10, 4))
    for operation in GROWTH_OPERATIONS:
        latency.plot(
            backlogs, [row[operation]["p50_ms"] for row in rows], marker="o", label=operation
        )
    latency.set_xscale("log")
    latency.set_xlabel("queued tasks (ready stream, and as many delayed)")
    latency.set_ylabel("p50, ms")
    latency.set_title("Redis operation latency")
    latency.legend(fontsize=8)
    memory.plot(backlogs, [row["used_memory_mib"] for row in rows], marker="o")
    memory.set_xscale("log")
    memory.set_yscale("log")
    memory.set_xlabel("queued tasks (ready stream, and as many delayed)")
    memory.set_ylabel("Redis used_memory, MiB")
    memory.set_title("Redis memory")
    return _save(figure, path)


def draw_all(latest: dict[str, Any], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    drawn = [
        draw_throughput(latest, directory / "bench_throughput.png"),
        draw_paced_latency(latest, directory / "bench_task_latency.png"),
        draw_latency(latest, directory / "bench_gateway_latency.png"),
        draw_phases(latest, directory / "bench_analysis_phases.png"),
        draw_growth(latest, directory / "bench_growth.png"),
    ]
    return [path for path in drawn if path is not None]


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
