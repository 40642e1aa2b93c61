"""Measured full analyses of popular real packages, phase by phase, beside a bare
container's start measured in the same run.

    .venv/bin/python -m bench.analysis_phases [--count 40] [--cache DIR] [--baseline-runs 5]
    .venv/bin/python -m bench.analysis_phases --only numpy,botocore   # just these

Packages come from ``bench.popular_packages`` (half PyPI, half npm), downloaded by
``bench.detection``'s cached downloader with every artifact the runner analyses (PyPI:
the sdist and one wheel). Each is analysed the way the runner does it: the analyzer image
of this checkout, built into the devstack's engine if missing, run by the runner's own
``run_analysis`` (its ``TaskWorkspace``, ``container_config`` and ``DockerSandbox``)
with the runner's default sandbox limits, static and dynamic phases, one at a time.

Per package it prints, in seconds:

- start: container creation until the analyzer began (``report.started_at``): engine,
  interpreter, rule loading;
- static: the extract, inventory and static phases;
- install / import: the dynamic phases (every artifact);
- other: the rest of the wall time (scratch venvs, bait, sinkhole, report, teardown);
- total: creation until the container was removed and the report read;
- peak MiB: the container's memory high-water mark (the engine's ``max_usage``; on a
  cgroup v2 host, the highest usage sampled about once a second), scratch tmpfs included:
  what the 1 GiB limit is held against.

``--only NAME[,NAME]`` analyses just those packages of the popular list (every ecosystem
that has the name); its rows go to ``--output`` only when one is given, so a partial run
never replaces the distribution the simulation reads. ``--image IMAGE`` runs an analyzer
image already in the engine instead of this checkout's (an earlier build, for a before
and after in one sitting).

Then the median and p90 of each, and the baseline: ``docker run --rm --entrypoint true
IMAGE`` (the image's entrypoint is the analyzer, so ``IMAGE true`` would run it) and the
runner's container config running ``true``, each ``--baseline-runs`` times spread over
the run. The totals go to ``bench/results/analysis_durations.json``
(``durations_seconds`` plus ``metadata``), the distribution the autoscaling simulation
reads. The issue's bar: full analysis median < 20 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import aiodocker

from bench.detection import DEFAULT_CACHE, Input, download_real
from bench.popular_packages import NPM, PYPI
from packguard.common.errors import PackguardError
from packguard.common.purl import Ecosystem, PackageRef
from packguard.common.report import AnalysisReport
from packguard.devstack import ensure_analyzer_image, ensure_base_image, ensure_docker_engine
from packguard.runner.analysis import TaskWorkspace, run_analysis
from packguard.runner.download import DownloadedArtifact
from packguard.runner.sandbox import DockerSandbox, SandboxLimits, container_config
from packguard.runner.settings import RunnerSettings

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "analysis_durations.json"
STATIC_PHASES = ("extract", "inventory", "static")
COLUMNS = ("start", "static", "install", "import", "other", "total")
BAR_MEDIAN_SECONDS = 20.0


@dataclass(frozen=True)
class Measured:
    ecosystem: str
    name: str
    version: str
    artifacts: int
    status: str
    """``completed``, or the error code of the failure the runner would record."""
    verdict: str | None
    start: float | None
    static: float | None
    install: float | None
    import_: float | None
    other: float | None
    total: float
    error: str | None = None
    """Why the analysis failed, as the runner would record it."""
    peak_mib: float | None = None
    """The container's memory high-water mark, when the engine reported one."""

    def column(self, name: str) -> float | None:
        value: float | None = getattr(self, "import_" if name == "import" else name)
        return value


async def _never() -> bool:
    return False


def phase_seconds(report: AnalysisReport, names: Sequence[str]) -> float:
    return sum(phase.duration_ms for phase in report.phases if phase.name in names) / 1000


class PeakMemory:
    """The highest memory use the engine reports for one container while it runs."""

    def __init__(self) -> None:
        self.bytes: int | None = None

    def seen(self, stats: dict[str, Any]) -> None:
        memory = stats.get("memory_stats") or {}
        # cgroup v1 keeps a high-water mark; v2 reports only the current usage.
        value = memory.get("max_usage") or memory.get("usage")
        if isinstance(value, int) and value > (self.bytes or 0):
            self.bytes = value

    @property
    def mib(self) -> float | None:
        return None if self.bytes is None else self.bytes / (1 << 20)

    async def watch(self, docker: aiodocker.Docker, task_id: uuid.UUID) -> None:
        """Until cancelled: find the task's container, then follow its stats stream."""
        label = f"packguard.task_id={task_id}"
        while True:
            found = await docker.containers.list(filters={"label": [label]})
            if found:
                with contextlib.suppress(aiodocker.DockerError):
                    async for stats in found[0].stats(stream=True):
                        self.seen(stats)
                return
            await asyncio.sleep(0.1)


def measured_from(item: Input, report: AnalysisReport, created: float, total: float) -> Measured:
    """Splits ``total`` (seconds from creation at wall time ``created``) by the report."""
    start = report.started_at.timestamp() - created if report.started_at else None
    static = phase_seconds(report, STATIC_PHASES)
    install = phase_seconds(report, ("install",))
    loaded = phase_seconds(report, ("import",))
    known = (start or 0.0) + static + install + loaded
    return Measured(
        item.ecosystem,
        item.name,
        item.version,
        len(item.artifacts),
        "completed",
        report.verdict.label.value,
        start,
        static,
        install,
        loaded,
        total - known,
        total,
    )


def failed(item: Input, error: PackguardError, total: float) -> Measured:
    return Measured(
        item.ecosystem,
        item.name,
        item.version,
        len(item.artifacts),
        status=error.code,
        verdict=None,
        start=None,
        static=None,
        install=None,
        import_=None,
        other=None,
        total=total,
        error=str(error)[:500],
    )


async def analyse(
    sandbox: DockerSandbox,
    docker: aiodocker.Docker,
    image: str,
    limits: SandboxLimits,
    item: Input,
    work: Path,
    timeout_seconds: float,
) -> Measured:
    workspace = TaskWorkspace(work / f"bench-{uuid.uuid4()}")
    workspace.create()
    try:
        artifacts = []
        for path in item.artifacts:
            target = workspace.input_dir / path.name
            shutil.copyfile(path, target)
            digest = _sha256(target)
            artifacts.append(DownloadedArtifact(target, target.stat().st_size, digest))
        package = PackageRef(Ecosystem(item.ecosystem), item.name, item.version)
        task_id = uuid.uuid4()
        peak = PeakMemory()
        watcher = asyncio.create_task(peak.watch(docker, task_id))
        created, started = time.time(), time.perf_counter()
        try:
            report = await run_analysis(
                sandbox,
                image=image,
                limits=limits,
                workspace=workspace,
                artifacts=artifacts,
                package=package,
                task_id=task_id,
                attempt=1,
                timeout_seconds=timeout_seconds,
                is_cancelled=_never,
            )
        except PackguardError as error:
            row = failed(item, error, time.perf_counter() - started)
        else:
            row = measured_from(item, report, created, time.perf_counter() - started)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return replace(row, peak_mib=peak.mib)
    finally:
        workspace.remove()


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def docker_run_true(host: str, image: str) -> float | None:
    """Seconds of ``docker run --rm --entrypoint true IMAGE``; None without the CLI."""
    docker = shutil.which("docker")
    if docker is None:
        return None
    command = [docker, "run", "--rm", "--network", "none", "--entrypoint", "true", image]
    env = {**os.environ, "DOCKER_HOST": host}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, timeout=120, check=False)
    if done.returncode != 0:
        print(
            f"  docker run failed: {done.stderr.decode(errors='replace')[-300:]}", file=sys.stderr
        )
        return None
    return time.perf_counter() - started


async def runner_config_true(
    sandbox: DockerSandbox, image: str, limits: SandboxLimits, work: Path
) -> float:
    """Seconds of the runner's own container config (mounts, tmpfs, limits) running ``true``."""
    workspace = TaskWorkspace(work / f"baseline-{uuid.uuid4()}")
    workspace.create()
    try:
        config = container_config(
            image=image,
            command=[],
            input_dir=workspace.input_dir,
            output_dir=workspace.output_dir,
            limits=limits,
            labels={"packguard.bench": "baseline"},
        )
        config["Entrypoint"] = ["true"]
        started = time.perf_counter()
        await sandbox.run(
            f"packguard-bench-{uuid.uuid4()}", config, timeout_seconds=120, is_cancelled=_never
        )
        return time.perf_counter() - started
    finally:
        workspace.remove()


@dataclass
class Baseline:
    docker_run: list[float]
    runner_config: list[float]


async def measure_baseline(
    baseline: Baseline,
    host: str,
    sandbox: DockerSandbox,
    image: str,
    limits: SandboxLimits,
    work: Path,
) -> None:
    seconds = await asyncio.to_thread(docker_run_true, host, image)
    if seconds is not None:
        baseline.docker_run.append(seconds)
    baseline.runner_config.append(await runner_config_true(sandbox, image, limits, work))


def list_depth(names: AbstractSet[str], popular: Sequence[tuple[str, str]]) -> int:
    """How many entries of ``popular`` reach the last of ``names`` it holds (0: none)."""
    return max((i + 1 for i, (name, _) in enumerate(popular) if name in names), default=0)


def selected(inputs: Sequence[Input], names: AbstractSet[str]) -> list[Input]:
    return [item for item in inputs if item.name in names]


def interleaved(inputs: Sequence[Input], count: int) -> list[Input]:
    """``count`` packages, PyPI and npm alternating, so both see the engine in every state."""
    by_ecosystem = [[i for i in inputs if i.ecosystem == e] for e in ("pypi", "npm")]
    mixed = [item for pair in zip(*by_ecosystem, strict=False) for item in pair]
    longer = max(by_ecosystem, key=len)
    mixed += longer[len(min(by_ecosystem, key=len)) :]
    return mixed[:count]


def p90(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def median_p90(values: Sequence[float | None]) -> tuple[float, float] | None:
    """(median, p90) of the known values; None when none is known."""
    known = [value for value in values if value is not None]
    return (statistics.median(known), p90(known)) if known else None


def summary(rows: Sequence[Measured], column: str) -> tuple[float, float] | None:
    return median_p90([row.column(column) for row in rows])


def print_rows(rows: Sequence[Measured]) -> None:
    head = "".join(f"{name:>9}" for name in COLUMNS)
    print(f"\n{'package':<44} {'verdict':<10}{head} {'peak MiB':>9}")
    for row in rows:
        label = f"{row.ecosystem}:{row.name}@{row.version}"
        if row.artifacts > 1:
            label += f" ({row.artifacts} files)"
        cells = "".join(
            f"{value:>9.2f}" if (value := row.column(c)) is not None else f"{'-':>9}"
            for c in COLUMNS
        )
        peak = f"{row.peak_mib:>9.0f}" if row.peak_mib is not None else f"{'-':>9}"
        print(f"{label[:44]:<44} {row.verdict or row.status:<10}{cells} {peak}")
        if row.error:
            print(f"    {row.error[:200]}")


def print_summary(rows: Sequence[Measured], baseline: Baseline) -> None:
    groups = [("all", list(rows))]
    groups += [(e, [r for r in rows if r.ecosystem == e]) for e in ("pypi", "npm")]
    for label, group in groups:
        for stat, index in (("median", 0), ("p90", 1)):
            cells = ""
            for column in COLUMNS:
                value = summary(group, column)
                cells += f"{value[index]:>9.2f}" if value else f"{'-':>9}"
            print(f"{f'{stat} {label} ({len(group)})':<55}{cells}")
    for name, values in (
        ("docker run --rm --entrypoint true IMAGE", baseline.docker_run),
        ("runner container config running true", baseline.runner_config),
    ):
        if values:
            print(
                f"baseline {name}: median {statistics.median(values):.2f} s, "
                f"p90 {p90(values):.2f} s ({len(values)} runs)"
            )
    totals = summary(rows, "total")
    if totals:
        verdict = "meets" if totals[0] < BAR_MEDIAN_SECONDS else "misses"
        print(
            f"full analysis median {totals[0]:.2f} s {verdict} the < {BAR_MEDIAN_SECONDS:g} s bar"
        )


def write_results(
    rows: Sequence[Measured], baseline: Baseline, image: str, limits: SandboxLimits, path: Path
) -> None:
    document: dict[str, Any] = {
        "durations_seconds": [round(row.total, 3) for row in rows],
        "metadata": {
            "what": "seconds per full analysis (static + dynamic, container start and "
            "teardown included) of popular real packages, one at a time, by "
            "bench/analysis_phases.py; failed analyses included (they hold a runner too)",
            "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "image": image,
            "limits": asdict(limits),
            "host": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "baseline_seconds": asdict(baseline),
            "packages": [asdict(row) for row in rows],
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")


async def run(args: argparse.Namespace) -> int:
    host = await ensure_docker_engine()
    if args.only:
        names = {name.strip() for name in args.only.split(",") if name.strip()}
        # Only as far down the popular lists as the last name asked for.
        depth = max(list_depth(names, PYPI), list_depth(names, NPM))
        fetched = await download_real(args.cache, depth, args.max_bytes, every_artifact=True)
        inputs = selected(fetched, names)
        missing = names - {item.name for item in inputs}
        if missing:
            print(f"not in the popular list (or not downloadable): {', '.join(sorted(missing))}")
    else:
        per_ecosystem = (args.count + 1) // 2
        print("downloading (or reading the cache of) popular packages…")
        inputs = interleaved(
            await download_real(args.cache, per_ecosystem, args.max_bytes, every_artifact=True),
            args.count,
        )
    limits = SandboxLimits.from_settings(RunnerSettings())
    work = Path(tempfile.mkdtemp(prefix="packguard-bench-phases-", dir="/var/tmp"))
    try:
        image = args.image
        if image is None:
            await ensure_base_image(host, log_path=work / "base.log")
            image = await ensure_analyzer_image(
                host, repo_root=REPO, log_path=work / "image.log", state_dir=work
            )
        print(f"{len(inputs)} packages through {image}, one at a time")
        rows: list[Measured] = []
        baseline = Baseline([], [])
        async with aiodocker.Docker(url=host) as docker:
            sandbox = DockerSandbox(docker)
            every = max(1, len(inputs) // max(1, args.baseline_runs - 1))
            for index, item in enumerate(inputs):
                if index % every == 0:
                    await measure_baseline(baseline, host, sandbox, image, limits, work)
                row = await analyse(sandbox, docker, image, limits, item, work, args.timeout)
                rows.append(row)
                print(
                    f"  {index + 1}/{len(inputs)} {item.ecosystem}:{item.name} {row.total:.1f}s"
                    f" {row.status}"
                )
            await measure_baseline(baseline, host, sandbox, image, limits, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_rows(rows)
    print_summary(rows, baseline)
    output = args.output or (None if args.only else RESULTS)
    if output is not None:
        write_results(rows, baseline, image, limits, output)
        print(f"totals written to {output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="packages, half per ecosystem")
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per analysis")
    parser.add_argument("--max-bytes", type=int, default=30 << 20, help="artifact size cap")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--only", help="comma-separated package names (of the popular list)")
    parser.add_argument(
        "--image", help="an analyzer image in the engine (default: this checkout's)"
    )
    parser.add_argument(
        "--output", type=Path, help=f"where the rows go (default {RESULTS}, not with --only)"
    )
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
