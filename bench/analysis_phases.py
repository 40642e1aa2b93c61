"""Measured full analyses of popular real packages, phase by phase, beside a bare
container's start measured in the same run.

    .venv/bin/python -m bench.analysis_phases [--count 40] [--cache DIR] [--baseline-runs 5]

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
- total: creation until the container was removed and the report read.

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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiodocker

from bench.detection import DEFAULT_CACHE, Input, download_real
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

    def column(self, name: str) -> float | None:
        value: float | None = getattr(self, "import_" if name == "import" else name)
        return value


async def _never() -> bool:
    return False


def phase_seconds(report: AnalysisReport, names: Sequence[str]) -> float:
    return sum(phase.duration_ms for phase in report.phases if phase.name in names) / 1000


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
        created, started = time.time(), time.perf_counter()
        try:
            report = await run_analysis(
                sandbox,
                image=image,
                limits=limits,
                workspace=workspace,
                artifacts=artifacts,
                package=package,
                task_id=uuid.uuid4(),
                attempt=1,
                timeout_seconds=timeout_seconds,
                is_cancelled=_never,
            )
        except PackguardError as error:
            return failed(item, error, time.perf_counter() - started)
        return measured_from(item, report, created, time.perf_counter() - started)
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
    print(f"\n{'package':<44} {'verdict':<10}{head}")
    for row in rows:
        label = f"{row.ecosystem}:{row.name}@{row.version}"
        if row.artifacts > 1:
            label += f" ({row.artifacts} files)"
        cells = "".join(
            f"{value:>9.2f}" if (value := row.column(c)) is not None else f"{'-':>9}"
            for c in COLUMNS
        )
        print(f"{label[:44]:<44} {row.verdict or row.status:<10}{cells}")
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
    per_ecosystem = (args.count + 1) // 2
    print("downloading (or reading the cache of) popular packages…")
    inputs = interleaved(
        await download_real(args.cache, per_ecosystem, args.max_bytes, every_artifact=True),
        args.count,
    )
    limits = SandboxLimits.from_settings(RunnerSettings())
    work = Path(tempfile.mkdtemp(prefix="packguard-bench-phases-", dir="/var/tmp"))
    try:
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
                row = await analyse(sandbox, image, limits, item, work, args.timeout)
                rows.append(row)
                print(f"  {index + 1}/{len(inputs)} {item.ecosystem}:{item.name} {row.total:.1f}s")
            await measure_baseline(baseline, host, sandbox, image, limits, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_rows(rows)
    print_summary(rows, baseline)
    write_results(rows, baseline, image, limits, args.output)
    print(f"totals written to {args.output}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="packages, half per ecosystem")
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per analysis")
    parser.add_argument("--max-bytes", type=int, default=30 << 20, help="artifact size cap")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
