"""The simulated peak day as a picture: submissions on top, then one panel per scenario.

Each scenario panel shares the axes with the others so they compare at a glance: tasks
waiting (the queue depth the scaler sees, minus what runs), analyses running, and runner
pods alive (starting, working, idle or draining: what is paid for).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.sim_autoscale import ARRIVALS_PER_HOUR, Outcome

COLOURS = {"waiting": "#d95f02", "running": "#1b9e77", "pods": "#7570b3", "arrivals": "#999999"}
BIN_MINUTES = 10


def draw_day(outcomes: Sequence[Outcome], path: Path, *, subtitle: str) -> None:
    figure, axes = plt.subplots(
        len(outcomes) + 1,
        1,
        figsize=(10, 2.2 + 2.6 * len(outcomes)),
        sharex=True,
        gridspec_kw={"height_ratios": [0.6] + [1.0] * len(outcomes)},
    )
    _draw_arrivals(axes[0], outcomes[0])
    top = max(max(w, r, p) for outcome in outcomes for _, w, r, p in outcome.samples)
    for axis, outcome in zip(axes[1:], outcomes, strict=True):
        _draw_scenario(axis, outcome, top)
    axes[-1].set_xlabel("hours into the peak day")
    axes[-1].set_xlim(0, max(t for o in outcomes for t, *_ in o.samples) / 3600)
    figure.suptitle(
        f"Runner autoscaling on the peak day: {sum(ARRIVALS_PER_HOUR):,} analyses in "
        f"{len(ARRIVALS_PER_HOUR)} h\n{subtitle}",
        fontsize=11,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _draw_arrivals(axis: Axes, outcome: Outcome) -> None:
    """Submissions per minute, in BIN_MINUTES bins, from the hourly profile."""
    hours = [h + i / (60 / BIN_MINUTES) for h in range(len(ARRIVALS_PER_HOUR)) for i in range(6)]
    rates = [ARRIVALS_PER_HOUR[int(h)] / 60 for h in hours]
    axis.bar(hours, rates, width=BIN_MINUTES / 60, align="edge", color=COLOURS["arrivals"])
    axis.set_ylabel("submitted\nper minute")
    axis.set_title("submissions (hourly profile, peak 5,000/h)", fontsize=10, loc="left")
    axis.grid(axis="y", alpha=0.3)


def _draw_scenario(axis: Axes, outcome: Outcome, top: int) -> None:
    hours = [t / 3600 for t, *_ in outcome.samples]
    waiting = [w for _, w, _, _ in outcome.samples]
    running = [r for _, _, r, _ in outcome.samples]
    pods = [p for _, _, _, p in outcome.samples]
    axis.fill_between(hours, waiting, step="post", color=COLOURS["waiting"], alpha=0.35)
    for values, key, label in (
        (waiting, "waiting", "tasks waiting"),
        (running, "running", "analyses running"),
    ):
        axis.step(hours, values, where="post", linewidth=0.8, color=COLOURS[key], label=label)
    axis.step(hours, pods, where="post", color=COLOURS["pods"], linewidth=2, label="runner pods")
    summary = outcome.summary()
    axis.set_title(
        f"{outcome.policy}: wait p95 {summary['wait_p95_s']:.0f} s, max "
        f"{summary['wait_max_s']:.0f} s; peak {summary['peak_runners']:.0f} runners; "
        f"{summary['runner_hours']:.0f} runner-hours ({summary['utilisation']:.0%} busy)",
        fontsize=10,
        loc="left",
    )
    axis.set_ylim(0, top * 1.05)
    axis.set_ylabel("count")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper right", fontsize=8, ncols=3)
