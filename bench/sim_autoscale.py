"""The original peak day through the runner autoscaler, simulated: waits, runners, cost.

    .venv/bin/python -m bench.sim_autoscale [--seed 1] [--start-delay 30] \
        [--durations FILE.json] [--png docs/img/sim_autoscale.png]

A discrete-event simulation of the original design's peak day: 20,000 analyses submitted
over 8 hours, 5,000 in the busiest hour (ARRIVALS_PER_HOUR), each arrival at a uniform
random time within its hour. One runner pod runs one analysis at a time
(WORKER_CONCURRENCY=1) and is ready START_DELAY seconds after the Deployment grows.

The autoscaler is KEDA plus the HPA it drives, with the settings of our ScaledObject:
every SYNC seconds the HPA turns the queue metric (waiting + running: the runners
group's lag + pending entries) into a replica count with the policy under test, within
10 % tolerance, scaling up by at most max(10 pods, 100 %) per minute and down by at most
1 pod per 10 minutes after a 5-minute stabilisation window. KEDA activates a Deployment
at zero on its 30 s poll and scales it to zero after 5 idle minutes. Scale-down removes
starting pods first, then idle ones; a busy pod finishes its analysis before it goes.
Not modelled: new nodes (the cluster autoscaler adds minutes when the pool is full),
ecosystem caps, retries.

Analysis times come from `--durations` (a JSON list of seconds, e.g. from
`SELECT extract(epoch FROM finished_at - started_at) FROM tasks`, or the file
bench/analysis_phases.py writes), else from bench/results/analysis_durations.json when a
run left one, else from the committed measurement bench/data/analysis_durations.json,
else (``--median-seconds`` given, or no file) from a lognormal with a 5 s median and sigma
1.0, capped at the 30-minute timeout. Measured times are drawn with replacement. The
policies compared all see the same arrivals and durations.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import itertools
import json
import math
import random
import statistics
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packguard.scheduler.scaling import MAX_REPLICAS, desired_replicas

REPO = Path(__file__).resolve().parent.parent
MEASURED_DURATIONS = REPO / "bench/results/analysis_durations.json"
# The measurement docs/deploy.md quotes, kept in the repo (bench/results is not).
MEASURED_SNAPSHOT = REPO / "bench/data/analysis_durations.json"
DEFAULT_PNG = REPO / "docs/img/sim_autoscale.png"
ARRIVALS_PER_HOUR = (1000, 1500, 3000, 5000, 4000, 2500, 1800, 1200)  # 20,000, peak 5,000
LOGNORMAL_MEDIAN_SECONDS = 5.0
LOGNORMAL_SIGMA = 1.0
TIMEOUT_SECONDS = 30 * 60
SAMPLE_SECONDS = 30.0
HORIZON_SECONDS = 24 * 3600.0  # stops a policy that never catches up

Policy = Callable[[int], int]


def one_runner_per_task(queued: int) -> int:
    """KEDA's own redis-streams target: one lagging or pending entry per replica."""
    return min(queued, MAX_REPLICAS)


@dataclass(frozen=True)
class Autoscaler:
    """KEDA + HPA behaviour (the ScaledObject's `advanced.horizontalPodAutoscalerConfig`)."""

    sync_seconds: float = 15.0
    poll_seconds: float = 30.0  # KEDA pollingInterval: activation from zero
    cooldown_seconds: float = 300.0  # KEDA cooldownPeriod: back to zero
    tolerance: float = 0.1
    up_pods: int = 10
    up_percent: float = 100.0
    up_period: float = 60.0
    down_pods: int = 1
    down_percent: float = 0.0  # 0: no Percent policy
    down_period: float = 600.0
    down_window: float = 300.0
    start_delay: float = 30.0
    max_replicas: int = MAX_REPLICAS


@dataclass(frozen=True)
class Scenario:
    name: str
    policy: Policy
    faster_scale_down: bool = False  # max(1 pod, 10 %) per minute instead of 1 pod / 10 min

    def autoscaler(self, base: Autoscaler) -> Autoscaler:
        if not self.faster_scale_down:
            return base
        return dataclasses.replace(base, down_percent=10.0, down_period=60.0)


SCENARIOS = (
    Scenario("step rule (original)", desired_replicas),
    Scenario("one runner per task", one_runner_per_task),
    Scenario("one per task, faster scale-down", one_runner_per_task, faster_scale_down=True),
)


@dataclass(eq=False)
class Pod:
    state: str = "starting"  # starting, idle, busy, draining (busy, then gone), gone


@dataclass
class Outcome:
    policy: str
    waits: list[float] = field(default_factory=list)
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)  # t, wait, run, pods
    peak_pods: int = 0
    pod_seconds: float = 0.0
    busy_seconds: float = 0.0

    def summary(self) -> dict[str, float]:
        cuts = statistics.quantiles(self.waits, n=100, method="inclusive")
        return {
            "wait_p50_s": cuts[49],
            "wait_p95_s": cuts[94],
            "wait_max_s": max(self.waits),
            "wait_mean_s": statistics.fmean(self.waits),
            "peak_runners": self.peak_pods,
            "runner_hours": self.pod_seconds / 3600,
            "utilisation": self.busy_seconds / self.pod_seconds,
            "analyses": len(self.waits),
        }


class Day:
    """One policy through one day; `run` returns what it cost and how long tasks waited."""

    def __init__(self, tasks: Sequence[tuple[float, float]], policy: Policy, auto: Autoscaler):
        self.auto, self.policy = auto, policy
        self.events: list[tuple[float, int, str, object]] = []
        self.sequence = itertools.count()
        for arrival, duration in tasks:
            self.push(arrival, "arrival", duration)
        self.total = len(tasks)
        self.now = 0.0
        self.waiting: deque[tuple[float, float]] = deque()
        # Dicts, not sets: removal order must not depend on object ids (reproducible runs).
        self.starting: dict[Pod, None] = {}
        self.idle: list[Pod] = []
        self.busy: dict[Pod, None] = {}
        self.running = 0  # analyses in progress, on busy and draining pods
        self.live = 0  # pods that exist, whatever their state
        self.replicas = 0  # the Deployment's spec.replicas (draining pods excluded)
        self.changes: list[tuple[float, int]] = []  # HPA's record of scale events
        self.recommendations: deque[tuple[float, int]] = deque()
        self.idle_since: float | None = 0.0

    def push(self, at: float, kind: str, payload: object = None) -> None:
        heapq.heappush(self.events, (at, next(self.sequence), kind, payload))

    def run(self, name: str) -> Outcome:
        outcome = Outcome(name)
        self.push(0.0, "sync")
        self.push(0.0, "sample")
        # Until every task ran and KEDA scaled to zero: the idle tail is paid for too.
        while len(outcome.waits) < self.total or self.live:
            at, _, kind, payload = heapq.heappop(self.events)
            if at > HORIZON_SECONDS:
                break
            self.advance(at, outcome)
            if kind == "arrival":
                self.waiting.append((at, float(payload)))  # type: ignore[arg-type]
            elif kind == "ready" and isinstance(payload, Pod):
                self.on_ready(payload)
            elif kind == "finish" and isinstance(payload, Pod):
                self.on_finish(payload)
            elif kind == "sync":
                self.control()
                self.push(at + self.auto.sync_seconds, "sync")
            elif kind == "sample":
                outcome.samples.append((at, len(self.waiting), self.running, self.live))
                self.push(at + SAMPLE_SECONDS, "sample")
            self.dispatch(outcome)
        return outcome

    def advance(self, at: float, outcome: Outcome) -> None:
        """Integrate pods alive and pods busy up to `at`."""
        elapsed = at - self.now
        outcome.pod_seconds += elapsed * self.live
        outcome.busy_seconds += elapsed * self.running
        outcome.peak_pods = max(outcome.peak_pods, self.live)
        self.now = at

    def on_ready(self, pod: Pod) -> None:
        if pod.state == "starting":  # not removed while it started
            self.starting.pop(pod, None)
            pod.state = "idle"
            self.idle.append(pod)

    def on_finish(self, pod: Pod) -> None:
        self.running -= 1
        if pod.state == "draining":
            pod.state = "gone"
            self.live -= 1
        else:
            self.busy.pop(pod, None)
            pod.state = "idle"
            self.idle.append(pod)

    def dispatch(self, outcome: Outcome) -> None:
        while self.waiting and self.idle:
            pod = self.idle.pop()
            arrival, duration = self.waiting.popleft()
            outcome.waits.append(self.now - arrival)
            pod.state = "busy"
            self.busy[pod] = None
            self.running += 1
            self.push(self.now + duration, "finish", pod)

    def control(self) -> None:
        auto, now = self.auto, self.now
        queued = len(self.waiting) + self.running  # the runners group's lag + pending
        self.idle_since = None if queued else (now if self.idle_since is None else self.idle_since)
        on_poll = math.isclose(now % auto.poll_seconds, 0.0, abs_tol=1e-6)
        if self.replicas == 0:
            if queued and on_poll:
                self.scale_to(1)
            return
        if self.idle_since is not None and now - self.idle_since >= auto.cooldown_seconds:
            if on_poll:
                self.scale_to(0)
            return
        self.scale_to(self.hpa_target(queued))

    def hpa_target(self, queued: int) -> int:
        auto, now, current = self.auto, self.now, self.replicas
        wanted = max(1, min(self.policy(queued), auto.max_replicas))
        if abs(wanted / current - 1) <= auto.tolerance:
            wanted = current
        self.recommendations.append((now, wanted))
        while self.recommendations[0][0] < now - auto.down_window:
            self.recommendations.popleft()
        if wanted > current:
            start = current - self.changed(auto.up_period, up=True)
            limit = max(start + auto.up_pods, math.ceil(start * (1 + auto.up_percent / 100)))
            return min(wanted, limit)
        stabilised = max(r for _, r in self.recommendations)
        if stabilised >= current:
            return current
        start = current + self.changed(auto.down_period, up=False)
        step = max(auto.down_pods, math.floor(start * auto.down_percent / 100))
        return min(current, max(stabilised, start - step))

    def changed(self, period: float, *, up: bool) -> int:
        """Pods added (up) or removed (down) within the last `period` seconds."""
        return abs(sum(d for t, d in self.changes if t > self.now - period and (d > 0) == up))

    def scale_to(self, target: int) -> None:
        delta = target - self.replicas
        if delta == 0:
            return
        self.changes.append((self.now, delta))
        self.replicas = target
        for _ in range(delta):
            pod = Pod()
            self.starting[pod] = None
            self.live += 1
            self.push(self.now + self.auto.start_delay, "ready", pod)
        # Removal order: pods not started yet, idle ones, then busy ones (they drain).
        excess = -delta
        while excess > 0 and (self.starting or self.idle):
            pod = self.starting.popitem()[0] if self.starting else self.idle.pop()
            pod.state = "gone"
            self.live -= 1
            excess -= 1
        while excess > 0:
            pod = self.busy.popitem()[0]
            pod.state = "draining"
            excess -= 1


def arrivals(rng: random.Random) -> list[float]:
    return sorted(
        hour * 3600 + rng.uniform(0, 3600)
        for hour, count in enumerate(ARRIVALS_PER_HOUR)
        for _ in range(count)
    )


def duration_sampler(
    path: Path | None, rng: random.Random, *, median: float | None, sigma: float
) -> tuple[Callable[[], float], str]:
    """Draws analysis times, and says where they come from: ``path``, else the latest
    measurement, else the committed one; a ``median`` asks for the lognormal instead."""
    found = next((p for p in (MEASURED_DURATIONS, MEASURED_SNAPSHOT) if p.exists()), None)
    source = path or (found if median is None else None)
    if source is not None:
        document = json.loads(source.read_text())
        # A bare list of seconds, or bench/analysis_phases.py's {"durations_seconds": [...]}.
        seconds = document["durations_seconds"] if isinstance(document, dict) else document
        measured = [float(s) for s in seconds if float(s) >= 0]
        where = source.relative_to(REPO) if source.is_relative_to(REPO) else source
        return (lambda: rng.choice(measured)), f"measured: {len(measured)} samples from {where}"
    median = median or LOGNORMAL_MEDIAN_SECONDS
    mu = math.log(median)
    return (
        lambda: min(rng.lognormvariate(mu, sigma), TIMEOUT_SECONDS),
        f"assumed: lognormal, median {median:g} s, sigma {sigma:g}",
    )


def simulate(
    auto: Autoscaler,
    *,
    seed: int,
    durations: Path | None = None,
    median: float | None = None,
    sigma: float = LOGNORMAL_SIGMA,
    scenarios: Sequence[Scenario] = SCENARIOS,
) -> tuple[list[Outcome], str]:
    rng = random.Random(seed)
    draw, source = duration_sampler(durations, rng, median=median, sigma=sigma)
    tasks = [(arrival, draw()) for arrival in arrivals(rng)]
    outcomes = [
        Day(tasks, scenario.policy, scenario.autoscaler(auto)).run(scenario.name)
        for scenario in scenarios
    ]
    return outcomes, source


def print_table(outcomes: Sequence[Outcome]) -> None:
    print(
        f"{'scenario':<34}{'wait p50':>9}{'p95':>8}{'max':>7}{'mean':>7}"
        f"{'peak runners':>14}{'runner-hours':>14}{'busy':>6}"
    )
    for outcome in outcomes:
        s = outcome.summary()
        print(
            f"{outcome.policy:<34}{s['wait_p50_s']:>8.1f}s{s['wait_p95_s']:>7.1f}s"
            f"{s['wait_max_s']:>6.0f}s{s['wait_mean_s']:>6.1f}s{s['peak_runners']:>14.0f}"
            f"{s['runner_hours']:>14.1f}{s['utilisation']:>6.0%}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-delay", type=float, default=Autoscaler.start_delay)
    parser.add_argument("--durations", type=Path, help="JSON list of analysis seconds")
    parser.add_argument(
        "--median-seconds",
        type=float,
        help=f"draw from a lognormal with this median (default {LOGNORMAL_MEDIAN_SECONDS:g} s "
        "when no measurement exists) instead of measured times",
    )
    parser.add_argument("--sigma", type=float, default=LOGNORMAL_SIGMA)
    parser.add_argument("--png", type=Path, default=DEFAULT_PNG)
    parser.add_argument("--no-png", action="store_true")
    args = parser.parse_args(argv)
    auto = Autoscaler(start_delay=args.start_delay)
    outcomes, source = simulate(
        auto,
        seed=args.seed,
        durations=args.durations,
        median=args.median_seconds,
        sigma=args.sigma,
    )
    print(
        f"{sum(ARRIVALS_PER_HOUR)} analyses in {len(ARRIVALS_PER_HOUR)} h, peak "
        f"{max(ARRIVALS_PER_HOUR)}/h; pod start {auto.start_delay:g} s; durations {source}"
    )
    print_table(outcomes)
    if not args.no_png:
        from bench.sim_autoscale_plot import draw_day  # matplotlib only when drawing

        draw_day(outcomes, args.png, subtitle=f"analysis times {source}")
        print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
