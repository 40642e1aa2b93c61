"""One analysis: hash the artifacts, extract, inventory, run the static rules, run the
dynamic phases (in the sandbox only), score.

Paths in the report are relative to the archive root; when several artifacts share one
report, each path is prefixed with ``<artifact filename>/``. A refused artifact yields a
report with ``error`` set, one ``archive-*`` finding and the later phases skipped.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packguard.analyzer.archive import ExtractedTree, ExtractLimits, extract_archive
from packguard.analyzer.dynamic.reporting import dynamic_report
from packguard.analyzer.dynamic.session import DynamicSettings, run_dynamic
from packguard.analyzer.engines.archive import rejection_hit
from packguard.analyzer.errors import ArchiveRejected
from packguard.analyzer.inventory import TreeFile, build_inventory, hash_file
from packguard.analyzer.ruleset import findings_from_hits, run_rules
from packguard.analyzer.rulespec import RuleSpec
from packguard.analyzer.scoring import score_findings
from packguard.common.report import (
    AnalysisReport,
    ArtifactInfo,
    DynamicTrace,
    Finding,
    InventoryEntry,
    PackageInfo,
    PhaseResult,
    Severity,
)

ANALYZER_VERSION = "0.1.0"
_SHOWN_REPEATS = 5


@dataclass(frozen=True)
class AnalysisRequest:
    ecosystem: str
    name: str
    version: str
    artifacts: tuple[Path, ...]
    scratch_dir: Path
    static_only: bool = False
    limits: ExtractLimits = field(default_factory=ExtractLimits)
    dynamic: DynamicSettings | None = None
    """``None``: no dynamic phases (they run package code: only in the sandbox)."""


@dataclass
class _Run:
    """What one analysis accumulates on its way to a report."""

    request: AnalysisRequest
    clock: Callable[[], float]
    phases: list[PhaseResult] = field(default_factory=list)
    inventory: list[InventoryEntry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    dynamic: DynamicTrace | None = None

    def record(
        self, name: str, started: float, detail: str | None = None, *, failed: bool = False
    ) -> None:
        elapsed = int((self.clock() - started) * 1000)
        status = "failed" if failed else "ok"
        self.phases.append(
            PhaseResult(name=name, status=status, duration_ms=elapsed, detail=detail)
        )

    def skip(self, name: str, detail: str) -> None:
        self.phases.append(PhaseResult(name=name, status="skipped", detail=detail))


def artifact_info(path: Path) -> ArtifactInfo:
    sha256, size, _ = hash_file(path)
    return ArtifactInfo(filename=path.name, size_bytes=size, sha256=sha256)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def analyze(
    request: AnalysisRequest,
    rules: Sequence[RuleSpec],
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], datetime] = _utc_now,
) -> AnalysisReport:
    """The report for ``request``. Raises only on crashes (I/O errors, bugs)."""
    started_at, started = wall_clock(), clock()
    artifacts = [artifact_info(path) for path in request.artifacts]
    run = _Run(request, clock)
    workdir = Path(tempfile.mkdtemp(prefix="analysis-", dir=request.scratch_dir))
    try:
        _run_phases(run, rules, workdir)
    finally:
        # Extraction never creates symlinks, so removing the tree cannot follow one out.
        shutil.rmtree(workdir, ignore_errors=True)
    return AnalysisReport(
        analyzer_version=ANALYZER_VERSION,
        package=PackageInfo(
            ecosystem=request.ecosystem, name=request.name, version=request.version
        ),
        artifacts=artifacts,
        inventory=run.inventory,
        findings=run.findings,
        verdict=score_findings(run.findings),
        phases=run.phases,
        error=run.error,
        dynamic=run.dynamic,
        started_at=started_at,
        duration_ms=int((clock() - started) * 1000),
    )


def _run_phases(run: _Run, rules: Sequence[RuleSpec], workdir: Path) -> None:
    trees = _extract(run, rules, workdir)
    if trees is None:
        for name in ("inventory", "static", "dynamic"):
            run.skip(name, "artifact rejected")
        return
    started = run.clock()
    files: list[TreeFile] = []
    for tree, prefix in trees:
        inventory = build_inventory(tree, prefix)
        run.inventory.extend(inventory.entries)
        files.extend(inventory.files)
    run.record("inventory", started, f"{len(run.inventory)} entries")
    started = run.clock()
    static_rules = [spec for spec in rules if spec.engine != "dynamic"]
    static = run_rules(static_rules, files, run.request.ecosystem, declared_name=run.request.name)
    run.findings = static.findings
    run.record("static", started, "; ".join(static.notes) or None)
    if run.request.static_only:
        run.skip("dynamic", "static-only requested")
    elif run.request.dynamic is None:
        run.skip("dynamic", "dynamic phases run only inside the sandbox")
    else:
        _run_dynamic(run, rules, trees, workdir, run.request.dynamic)


def _run_dynamic(
    run: _Run,
    rules: Sequence[RuleSpec],
    trees: list[tuple[ExtractedTree, str]],
    workdir: Path,
    settings: DynamicSettings,
) -> None:
    """Install and import each artifact under strace; findings join the static ones."""
    artifacts = run.request.artifacts
    pairs = [(artifact, tree.root) for artifact, (tree, _) in zip(artifacts, trees, strict=True)]
    seed = hash_file(artifacts[0])[0]  # same artifact, same bait: reproducible reports
    home = run.request.scratch_dir / "home"  # where a user's home would be, if free
    outcome = run_dynamic(
        run.request.ecosystem,
        pairs,
        workdir / "dynamic",
        seed=seed,
        home=None if home.exists() else home,
        settings=settings,
    )
    dynamic = dynamic_report(outcome, rules)
    run.phases += dynamic.phases
    run.findings = sorted(
        [*run.findings, *dynamic.findings],
        key=lambda f: (-list(Severity).index(f.severity), f.rule_id),
    )
    run.dynamic = dynamic.trace


def _extract(
    run: _Run, rules: Sequence[RuleSpec], workdir: Path
) -> list[tuple[ExtractedTree, str]] | None:
    started = run.clock()
    artifacts = run.request.artifacts
    trees = []
    for index, artifact in enumerate(artifacts):
        destination = workdir / str(index)
        destination.mkdir()
        prefix = f"{artifact.name}/" if len(artifacts) > 1 else ""
        try:
            trees.append((extract_archive(artifact, destination, run.request.limits), prefix))
        except ArchiveRejected as error:
            run.error = f"{error.code}: {error}"
            run.record("extract", started, f"{artifact.name}: {run.error}", failed=True)
            run.findings = findings_from_hits(
                rules, [rejection_hit(error, artifact.name)], phase="extract"
            )
            return None
    members = sum(len(tree.members) for tree, _ in trees)
    detail = f"{members} members from {len(trees)} artifact(s)"
    # Identical repeats are harmless (pyarrow's sdist carries its LICENSE twice): noted only.
    repeats = [f"{prefix}{path}" for tree, prefix in trees for path in tree.repeats]
    if repeats:
        shown = ", ".join(repeats[:_SHOWN_REPEATS])
        detail += f"; {len(repeats)} path(s) stored more than once, identical: {shown}"
    run.record("extract", started, detail)
    return trees
