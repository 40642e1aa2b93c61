"""Detection quality and speed of the static analyzer, optionally beside GuardDog.

    .venv/bin/python -m bench.detection                 # the labelled corpus (tests/corpus)
    .venv/bin/python -m bench.detection --real          # + popular packages, downloaded
    .venv/bin/python -m bench.detection --real --guarddog

Corpus: every sample is built in memory and analysed in-process with ``--static-only``
semantics; prints recall (malicious flagged suspicious or worse), the false-positive rate
on the hard benign set and the median seconds per package.

``--real`` downloads ``bench.popular_packages`` (≥100 PyPI, ≥100 npm, fixed versions)
from the index and registry the ecosystem tooling is configured with (pip config /
``npm config get registry``; ``PYPI_INDEX_URL`` / ``NPM_REGISTRY_URL`` override), verifies
digests, caches them under ``--cache``, and reports the flagged rate (each one flagged is
printed with its summary) and the median seconds per package. Downloads are bounded in
count (``--limit``), size (``--max-bytes``) and time.

``--guarddog`` installs GuardDog into its own venv (``--cache``/guarddog-venv) when it
can and runs ``guarddog <ecosystem> scan`` on the same inputs, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.popular_packages import NPM, PYPI
from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.rulespec import RuleSpec
from packguard.common.report import AnalysisReport
from tests.corpus import SAMPLES
from tests.corpus.evaluate import FLAGGED, evaluate, static_report, summarize

if TYPE_CHECKING:  # the corpus run needs none of these installed
    import aiohttp

    from packguard.common.purl import PackageRef
    from packguard.runner.registries.base import ArtifactLocation, RegistryAdapter

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO / ".packguard" / "bench-detection"
RESULTS = REPO / "bench" / "results" / "detection.json"
GUARDDOG_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Row:
    tool: str
    inputs: str
    recall: float | None
    flagged_rate: float
    median_seconds: float
    count: int


@dataclass(frozen=True)
class Input:
    ecosystem: str
    name: str
    version: str
    path: Path
    malicious: bool | None
    """Label for corpus samples; ``None`` for real packages (assumed benign)."""
    extra: tuple[Path, ...] = ()
    """The release's other artifacts the runner also analyses (a PyPI wheel beside the
    sdist); only with ``download_real(every_artifact=True)``."""

    @property
    def artifacts(self) -> tuple[Path, ...]:
        """Every artifact, primary (``path``) first."""
        return (self.path, *self.extra)


def corpus_inputs(workdir: Path) -> list[Input]:
    inputs = []
    for index, sample in enumerate(SAMPLES):
        folder = workdir / f"corpus-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / sample.filename
        path.write_bytes(sample.build())
        malicious = sample.label == "malicious"
        inputs.append(Input(sample.ecosystem, sample.name, sample.version, path, malicious))
    return inputs


def run_corpus(rules: Sequence[RuleSpec], workdir: Path) -> Row:
    outcomes = []
    for index, sample in enumerate(SAMPLES):
        folder = workdir / f"packguard-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        outcomes.append(evaluate(sample, rules, folder))
    summary = summarize(outcomes)
    for outcome in outcomes:
        if not outcome.correct:
            verdict = outcome.report.verdict
            print(f"  wrong: {outcome.sample.label} {outcome.sample.name}: {verdict.summary}")
    return Row(
        "packguard",
        f"corpus ({summary.malicious} malicious, {summary.benign} benign)",
        summary.recall,
        summary.false_positive_rate,
        summary.median_seconds,
        len(outcomes),
    )


def run_packguard(rules: Sequence[RuleSpec], inputs: Sequence[Input], workdir: Path) -> Row:
    seconds = []
    flagged = 0
    for item in inputs:
        started = time.perf_counter()
        report: AnalysisReport = static_report(
            item.path, item.ecosystem, item.name, item.version, rules, workdir
        )
        seconds.append(time.perf_counter() - started)
        if report.verdict.label in FLAGGED:
            flagged += 1
            print(
                f"  flagged {item.ecosystem}:{item.name}@{item.version}: {report.verdict.summary}"
            )
    return Row(
        "packguard",
        f"real ({len(inputs)} packages)",
        None,
        flagged / len(inputs) if inputs else 0.0,
        statistics.median(seconds) if seconds else 0.0,
        len(inputs),
    )


async def download_real(
    cache: Path, limit: int, max_bytes: int, *, every_artifact: bool = False
) -> list[Input]:
    """The first ``limit`` popular packages of each ecosystem, from ``cache`` or the
    registries. Each package's folder holds its primary artifact (what the registry
    adapter's ``locate`` picks); with ``every_artifact``, ``extra/`` beside it holds the
    others the runner analyses too (``locate_all``)."""
    import aiohttp

    from packguard.common.errors import PackguardError
    from packguard.common.purl import Ecosystem, PackageRef
    from packguard.runner.registries import build_registries

    registries = build_registries(
        pypi_index=os.environ.get("PYPI_INDEX_URL"), npm_registry=os.environ.get("NPM_REGISTRY_URL")
    )
    wanted = [(Ecosystem.PYPI, *entry) for entry in PYPI[:limit]]
    wanted += [(Ecosystem.NPM, *entry) for entry in NPM[:limit]]
    inputs: list[Input] = []
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for ecosystem, name, version in wanted:
            package = PackageRef(ecosystem, name, version)
            folder = cache / ecosystem.value / f"{name.replace('/', '__')}-{version}"
            try:
                primary = _files(folder)
                if not primary:
                    location = await registries[ecosystem].locate(session, package)
                    primary = [await _download(session, location, folder, max_bytes)]
                extra: list[Path] = []
                if every_artifact:
                    adapter = registries[ecosystem]
                    extra = await _extra_artifacts(session, adapter, package, folder, max_bytes)
            except PackguardError as error:
                print(f"  skipped {ecosystem.value}:{name}@{version}: {error}", file=sys.stderr)
                continue
            item = Input(ecosystem.value, name, version, primary[0], None, tuple(extra))
            inputs.append(item)
    return inputs


def _files(folder: Path) -> list[Path]:
    """Cached artifacts (not partial downloads), by name."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


async def _download(
    session: aiohttp.ClientSession, location: ArtifactLocation, folder: Path, max_bytes: int
) -> Path:
    from packguard.runner.download import download_artifact

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / location.filename
    partial = folder / f".{location.filename}.partial"
    await download_artifact(session, location, partial, max_bytes=max_bytes)
    partial.replace(target)  # a cut download never looks cached
    return target


async def _extra_artifacts(
    session: aiohttp.ClientSession,
    adapter: RegistryAdapter,
    package: PackageRef,
    folder: Path,
    max_bytes: int,
) -> list[Path]:
    """The non-primary artifacts, cached in ``folder/extra`` (which exists once fetched)."""
    extra = folder / "extra"
    if not extra.is_dir():
        locations = await adapter.locate_all(session, package)
        staging = folder / ".extra.partial"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        primary = {p.name for p in _files(folder)}
        for location in locations:
            if location.filename not in primary:
                await _download(session, location, staging, max_bytes)
        staging.replace(extra)
    return _files(extra)


def guarddog_binary(cache: Path) -> Path | None:
    """GuardDog in its own venv, installed on first use; ``None`` if it cannot be."""
    home = cache / "guarddog-venv"
    binary = home / "bin" / "guarddog"
    if binary.exists():
        return binary
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    pip = [str(home / "bin" / "python"), "-m", "pip", "install", "--quiet", "guarddog"]
    result = subprocess.run(pip, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0 or not binary.exists():
        print(f"  guarddog not installable: {result.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return binary


def guarddog_flags(binary: Path, item: Input) -> bool | None:
    command = [str(binary), item.ecosystem, "scan", str(item.path), "--output-format", "json"]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=GUARDDOG_TIMEOUT_SECONDS, check=False
        )
        document = json.loads(result.stdout or "{}")
    except (subprocess.TimeoutExpired, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    # GuardDog 3 separates capabilities from risks and gives its own verdict in
    # ``risks`` / ``risk_score``; older versions only count ``issues``.
    if isinstance(document.get("risks"), list):
        return bool(document["risks"])
    issues = document.get("issues")
    return bool(issues) if isinstance(issues, int) else None


def run_guarddog(binary: Path, inputs: Sequence[Input], label: str) -> Row:
    seconds = []
    flagged = detected = malicious = benign_flagged = benign = 0
    for item in inputs:
        started = time.perf_counter()
        verdict = guarddog_flags(binary, item)
        seconds.append(time.perf_counter() - started)
        hit = bool(verdict)
        flagged += hit
        if item.malicious:
            malicious += 1
            detected += hit
        else:
            benign += 1
            benign_flagged += hit
    recall = detected / malicious if malicious else None
    rate = benign_flagged / benign if benign else 0.0
    median = statistics.median(seconds) if seconds else 0.0
    return Row("guarddog", label, recall, rate, median, len(inputs))


def print_table(rows: Sequence[Row]) -> None:
    print()
    print(f"| {'tool':<10} | {'inputs':<34} | recall | FP / flagged | median s/pkg |")
    print(f"| {'-' * 10} | {'-' * 34} | ------ | ------------ | ------------ |")
    for row in rows:
        recall = f"{row.recall:.1%}" if row.recall is not None else "n/a"
        print(
            f"| {row.tool:<10} | {row.inputs:<34} | {recall:>6} | {row.flagged_rate:>12.1%} "
            f"| {row.median_seconds:>12.3f} |"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", action="store_true", help="also scan popular packages")
    parser.add_argument("--guarddog", action="store_true", help="run GuardDog side by side")
    parser.add_argument("--limit", type=int, default=120, help="packages per ecosystem")
    parser.add_argument("--max-bytes", type=int, default=30 << 20, help="artifact size cap")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the rows go (JSON)")
    args = parser.parse_args(argv)
    rules = load_rules()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-detection-") as scratch:
        workdir = Path(scratch)
        print("packguard on the corpus…")
        rows.append(run_corpus(rules, workdir))
        real: list[Input] = []
        if args.real:
            print("downloading popular packages…")
            real = asyncio.run(download_real(args.cache, args.limit, args.max_bytes))
            print(f"packguard on {len(real)} popular packages…")
            rows.append(run_packguard(rules, real, workdir))
        if args.guarddog:
            binary = guarddog_binary(args.cache)
            if binary is not None:
                print("guarddog on the corpus…")
                rows.append(run_guarddog(binary, corpus_inputs(workdir), rows[0].inputs))
                if real:
                    print("guarddog on the popular packages…")
                    rows.append(run_guarddog(binary, real, f"real ({len(real)} packages)"))
    print_table(rows)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"rows": [asdict(row) for row in rows]}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
