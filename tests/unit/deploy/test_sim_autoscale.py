"""bench/sim_autoscale.py: the HPA rules it models, and a day through them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from bench.sim_autoscale import (
    ARRIVALS_PER_HOUR,
    SCENARIOS,
    Autoscaler,
    Day,
    duration_sampler,
    one_runner_per_task,
    simulate,
)

from packguard.scheduler.scaling import desired_replicas


def _day(replicas: int, auto: Autoscaler | None = None) -> Day:
    day = Day([], one_runner_per_task, auto or Autoscaler())
    day.replicas = replicas
    day.now = 10_000.0
    return day


def test_peak_day_profile_is_the_original_design() -> None:
    assert sum(ARRIVALS_PER_HOUR) == 20_000
    assert max(ARRIVALS_PER_HOUR) == 5_000
    assert len(ARRIVALS_PER_HOUR) == 8


def test_original_scenario_uses_the_schedulers_own_rule() -> None:
    assert SCENARIOS[0].policy is desired_replicas


@pytest.mark.parametrize(
    ("replicas", "queued", "added_last_minute", "expected"),
    [
        (10, 100, 0, 20),  # max(+10 pods, +100 %) per minute
        (30, 100, 0, 60),  # the percent policy wins above 10 replicas
        (10, 100, 10, 10),  # this minute's budget is spent
        (1, 5, 0, 5),
        (20, 21, 0, 20),  # within the 10 % tolerance: no change
    ],
)
def test_hpa_scale_up_is_rate_limited(
    replicas: int, queued: int, added_last_minute: int, expected: int
) -> None:
    day = _day(replicas)
    if added_last_minute:
        day.changes.append((day.now - 30, added_last_minute))
    assert day.hpa_target(queued) == expected


def test_hpa_scale_down_waits_for_the_window_then_one_pod_per_ten_minutes() -> None:
    day = _day(20)
    day.recommendations.append((day.now - 100, 20))  # inside the 5-minute window
    assert day.hpa_target(2) == 20
    day.recommendations.clear()
    assert day.hpa_target(2) == 19
    day.changes.append((day.now - 300, -1))  # one pod already went in this period
    day.replicas = 19
    assert day.hpa_target(2) == 19


def test_faster_scale_down_removes_ten_percent_a_minute() -> None:
    auto = SCENARIOS[2].autoscaler(Autoscaler())
    assert SCENARIOS[2].faster_scale_down
    assert _day(50, auto).hpa_target(2) == 45


def test_one_task_scales_from_zero_and_back() -> None:
    auto = Autoscaler()
    outcome = Day([(0.0, 10.0)], desired_replicas, auto).run("one task")
    # Activated on KEDA's first poll, ready after the pod start delay.
    assert outcome.waits == [pytest.approx(auto.start_delay)]
    assert outcome.peak_pods == 1
    alive = outcome.pod_seconds
    # Started, ran, then idled through the cooldown until a poll scaled it to zero.
    assert auto.start_delay + 10 + auto.cooldown_seconds <= alive
    assert alive <= auto.start_delay + 10 + auto.cooldown_seconds + auto.poll_seconds + 15


def test_peak_day_runs_every_analysis_in_every_scenario() -> None:
    outcomes, source = simulate(Autoscaler(), seed=3)
    assert "lognormal" in source or "measured" in source
    for outcome in outcomes:
        summary = outcome.summary()
        assert summary["analyses"] == 20_000
        assert 0 < summary["utilisation"] <= 1
        assert summary["peak_runners"] <= 1000
    step, per_task, faster = (o.summary() for o in outcomes)
    # The trade-off the docs describe: the step rule queues, one-per-task pays for idle pods.
    assert step["wait_p95_s"] > per_task["wait_p95_s"]
    assert step["runner_hours"] < per_task["runner_hours"]
    assert faster["runner_hours"] < per_task["runner_hours"]


def test_measured_durations_are_read_from_a_list_or_the_phase_bench_document(
    tmp_path: Path,
) -> None:
    bare = tmp_path / "bare.json"
    bare.write_text("[1.5, 2.5]")
    document = tmp_path / "phases.json"
    document.write_text('{"durations_seconds": [4.0], "metadata": {}}')

    draw_bare, source = duration_sampler(bare, random.Random(1), median=None, sigma=1.0)
    draw_document, _ = duration_sampler(document, random.Random(1), median=None, sigma=1.0)
    _, assumed = duration_sampler(None, random.Random(1), median=7.0, sigma=1.0)

    assert {draw_bare() for _ in range(50)} == {1.5, 2.5} and "2 samples" in source
    assert draw_document() == 4.0
    assert "lognormal, median 7" in assumed
