"""bench/chaos/plan.py: the workload a chaos run sends."""

from __future__ import annotations

import random

from bench.chaos.plan import ChaosPlan, build_workload, real_packages

from packguard.scheduler.priority import DEFAULT_PRIORITY_THRESHOLD


def test_build_workload_default_plan_sends_every_task_once_in_time_order() -> None:
    plan = ChaosPlan()
    workload = build_workload(plan, random.Random(plan.seed))
    kinds = [s.kind for s in workload]
    assert kinds.count("noop") == plan.noop_tasks
    assert kinds.count("real") == plan.real_tasks
    assert sum(s.burst for s in workload) == plan.burst_tasks
    assert len({s.purl for s in workload}) == len(workload)
    assert len({s.idempotency_key for s in workload}) == len(workload)
    assert [s.at for s in workload] == sorted(s.at for s in workload)
    assert all(0 <= s.at <= plan.load_seconds for s in workload)


def test_build_workload_priorities_route_real_work_to_the_priority_stream_only() -> None:
    # The sandbox runners serve only the priority stream, the no-op runners only the
    # ready stream: the split rests on these priorities and the scheduler's threshold.
    workload = build_workload(ChaosPlan(), random.Random(3))
    assert all(s.priority >= DEFAULT_PRIORITY_THRESHOLD for s in workload if s.kind == "real")
    assert all(s.priority < DEFAULT_PRIORITY_THRESHOLD for s in workload if s.kind == "noop")


def test_build_workload_same_seed_same_workload() -> None:
    plan = ChaosPlan(noop_tasks=50, real_tasks=4, burst_tasks=10)
    assert build_workload(plan, random.Random(7)) == build_workload(plan, random.Random(7))


def test_build_workload_real_tasks_arrive_before_the_burst() -> None:
    plan = ChaosPlan()
    reals = [s for s in build_workload(plan, random.Random(1)) if s.kind == "real"]
    assert max(s.at for s in reals) <= plan.load_seconds * 0.8
    assert not any(s.burst for s in reals)


def test_real_packages_last_two_fail_on_purpose() -> None:
    packages = real_packages(6)
    assert [p.served for p in packages] == ["ok"] * 4 + ["missing", "unavailable"]
    assert {p.ecosystem for p in packages} == {"pypi", "npm"}
    workload = build_workload(
        ChaosPlan(noop_tasks=20, real_tasks=6, burst_tasks=5), random.Random(1)
    )
    expected = {s.purl: s.expect for s in workload if s.kind == "real"}
    assert [expected[p.purl] for p in packages] == ["completed"] * 4 + ["failed"] * 2


def test_submission_body_omits_a_zero_delay() -> None:
    workload = build_workload(ChaosPlan(noop_tasks=200, burst_tasks=0), random.Random(1))
    delayed = [s for s in workload if s.delay_seconds]
    assert delayed, "one in ten no-op tasks waits in the delayed set"
    assert "delay_seconds" in delayed[0].body()
    assert "delay_seconds" not in next(s for s in workload if not s.delay_seconds).body()
