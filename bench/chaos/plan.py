"""What one chaos run does and when: the workload and the fault schedule, as plain data.

Times are seconds from the start of the load. Everything random is drawn from one seeded
``random.Random``, so a run can be replayed with ``--seed``.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Literal

TaskKind = Literal["noop", "real"]
Expectation = Literal["completed", "failed"]

# Real analyses go to the priority stream (served by the sandbox runners only), no-op
# tasks to the ready stream (served by the no-op runners only): see harness.runner_env.
REAL_PRIORITY = 8
NOOP_MAX_PRIORITY = 4


@dataclass(frozen=True, slots=True)
class FaultSchedule:
    runner_kill_interval: tuple[float, float] = (4.0, 8.0)
    """SIGKILL a random runner every uniform(a, b) seconds, and start a replacement."""
    runner_kills_from: float = 5.0
    runner_kills_until: float = 125.0
    scheduler_kill_at: float = 15.0
    redis_restart_at: float = 30.0
    reporter_kill_at: float = 45.0
    postgres_restart_at: float = 60.0
    s3_outage_at: float = 75.0
    s3_outage_seconds: float = 30.0
    service_down_seconds: float = 2.0
    """How long a SIGKILLed scheduler, reporter or gateway stays down before its restart."""
    gateway_kill_after_burst_answers: int = 40
    """The gateway is killed once this many burst submissions have been answered, so
    the rest of the burst is in flight or not yet sent."""


@dataclass(frozen=True, slots=True)
class ChaosPlan:
    noop_tasks: int = 1000
    real_tasks: int = 30
    burst_tasks: int = 200
    """Of the no-op tasks, sent all at once at ``burst_at`` (the gateway dies under them)."""
    load_seconds: float = 120.0
    """The other submissions are spread evenly over this window."""
    burst_at: float = 112.0
    noop_runners: int = 3
    sandbox_runners: int = 2
    settle_seconds: float = 240.0
    """After the load: how long every accepted task has to reach a final state."""
    run_limit_seconds: float = 540.0
    """The whole run from starting the stack to the audit (images excluded); teardown
    follows within seconds, so a run stays under ten minutes."""
    client_concurrency: int = 64
    client_give_up_seconds: float = 120.0
    """A client retries one submission (same idempotency key) for this long."""
    resend_every: int = 20
    """Every Nth submission is sent again after its answer: the same task must come back."""
    seed: int = 1
    faults: FaultSchedule = field(default_factory=FaultSchedule)


@dataclass(frozen=True, slots=True)
class Submission:
    index: int
    purl: str
    kind: TaskKind
    idempotency_key: str
    at: float
    priority: int = 0
    delay_seconds: int = 0
    expect: Expectation = "completed"
    burst: bool = False
    resend: bool = False

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"purl": self.purl, "priority": self.priority}
        if self.delay_seconds:
            body["delay_seconds"] = self.delay_seconds
        return body


@dataclass(frozen=True, slots=True)
class RealPackage:
    """A real analysis target the loopback registry must (or must not) serve."""

    ecosystem: Literal["pypi", "npm"]
    name: str
    version: str
    served: Literal["ok", "missing", "unavailable"] = "ok"
    """``missing``: the registry answers 404 (fails ``not_found``); ``unavailable``: 503
    (retried, then fails ``registry_unavailable``)."""

    @property
    def purl(self) -> str:
        return f"pkg:{self.ecosystem}/{self.name}@{self.version}"


def real_packages(count: int) -> list[RealPackage]:
    """Half PyPI sdists, half npm tarballs; the last two fail on purpose (404, then 503)."""
    packages = []
    for i in range(count):
        ecosystem: Literal["pypi", "npm"] = "pypi" if i % 2 == 0 else "npm"
        served: Literal["ok", "missing", "unavailable"] = "ok"
        if i == count - 2:
            served = "missing"
        elif i == count - 1:
            served = "unavailable"
        packages.append(RealPackage(ecosystem, f"chaos-real-{i}", f"1.0.{i}", served))
    return packages


def build_workload(plan: ChaosPlan, rng: random.Random) -> list[Submission]:
    """Every submission of the run, ordered by send time."""
    reals = real_packages(plan.real_tasks)
    steady_count = plan.noop_tasks - plan.burst_tasks + len(reals)
    # Real analyses take seconds each: interleave them over the first 80 % of the window
    # so that they meet the faults while running.
    span = max(len(reals), int(steady_count * 0.8))
    real_at = {i * span // len(reals): package for i, package in enumerate(reals)}
    gap = plan.load_seconds / max(steady_count, 1)
    submissions = []
    noop_number = 0
    for index in range(steady_count):
        package = real_at.get(index)
        if package is None:
            submissions.append(_noop(plan, rng, index, noop_number, index * gap, burst=False))
            noop_number += 1
            continue
        submissions.append(
            Submission(
                index,
                package.purl,
                "real",
                _key(plan, index),
                index * gap,
                priority=REAL_PRIORITY,
                expect="completed" if package.served == "ok" else "failed",
            )
        )
    for offset in range(plan.burst_tasks):
        index = steady_count + offset
        submissions.append(_noop(plan, rng, index, noop_number + offset, plan.burst_at, burst=True))
    for position, submission in enumerate(submissions):
        if plan.resend_every and submission.index % plan.resend_every == plan.resend_every - 1:
            submissions[position] = dataclasses.replace(submission, resend=True)
    return sorted(submissions, key=lambda s: (s.at, s.index))


def _noop(
    plan: ChaosPlan, rng: random.Random, index: int, number: int, at: float, *, burst: bool
) -> Submission:
    ecosystem = "npm" if number % 2 else "pypi"
    # One in ten waits in the delayed set first, so the restarts also meet delayed tasks.
    delay = rng.randint(2, 5) if not burst and rng.random() < 0.1 else 0
    return Submission(
        index,
        f"pkg:{ecosystem}/chaos-noop-{number}@1.0.0",
        "noop",
        _key(plan, index),
        at,
        priority=rng.randint(0, NOOP_MAX_PRIORITY),
        delay_seconds=delay,
        burst=burst,
    )


def _key(plan: ChaosPlan, index: int) -> str:
    return f"chaos-{plan.seed}-{index}"
