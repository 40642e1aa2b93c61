"""The dynamic phases of one analysis: bait planted, sinkhole up, install then import of
each artifact under strace, everything the package did gathered per phase.

The ecosystem adapter says what to run; this module runs it the same way for all of them.
Each phase has its own time budget, shared by its steps.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packguard.analyzer.dynamic.activity import Activity, TraceScope
from packguard.analyzer.dynamic.bait import Bait, plant_bait
from packguard.analyzer.dynamic.limits import CGROUP_ROOT, LimitProbe, limit_hits, mount_points
from packguard.analyzer.dynamic.observations import PhaseContext
from packguard.analyzer.dynamic.sinkhole import Sinkhole, SinkholeConfig, SinkholeLog
from packguard.analyzer.dynamic.stubs import write_stubs
from packguard.analyzer.dynamic.tracer import TracedStep, run_traced
from packguard.analyzer.ecosystems import (
    PHASES,
    EcosystemPhases,
    PhaseSetupError,
    Step,
    Workspace,
)
from packguard.analyzer.ecosystems.pypi import BUILD_BACKENDS_DIR

HOOKS_DIR = Path(__file__).parent / "hooks"
# Set by the analyzer image: the dynamic phases run package code, so only there.
SANDBOX_ENV = "PACKGUARD_SANDBOX"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Reads here are the runtime loading itself: counted, not kept.
RUNTIME_PREFIXES = (
    "/usr/lib/",
    "/usr/lib64/",
    "/usr/local/lib/",
    "/usr/share/",
    "/usr/include/",
    "/lib/",
    "/lib64/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/bin/",
    "/sbin/",
    "/etc/ld.so.",
    "/etc/ssl/",
    "/etc/python3",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/gai.conf",
    "/proc/self/",
    "/proc/thread-self/",
    "/sys/",
    "/dev/",
    f"{BUILD_BACKENDS_DIR}/",
)
PhaseStatus = Literal["ok", "skipped", "failed", "timeout"]


@dataclass(frozen=True)
class DynamicSettings:
    install_timeout: float = 90.0
    import_timeout: float = 30.0
    settle_seconds: float = 2.0
    """How long a loaded package's own timers and threads may still run."""
    sinkhole: SinkholeConfig = field(default_factory=SinkholeConfig)
    hooks: Path = HOOKS_DIR
    cgroup_root: Path = CGROUP_ROOT
    """Where the container's limit counters are (see ``dynamic.limits``)."""


@dataclass
class PhaseOutcome:
    name: str
    artifact: str
    status: PhaseStatus
    context: PhaseContext
    duration_ms: int = 0
    detail: str | None = None
    steps: list[TracedStep] = field(default_factory=list)
    activity: Activity = field(default_factory=Activity)


@dataclass
class DynamicOutcome:
    phases: list[PhaseOutcome]
    bait: Bait
    stand_ins: list[str]
    notes: list[str]


def is_sandboxed(environ: Mapping[str, str] = os.environ) -> bool:
    """In the analyzer image, as an unprivileged user: where package code may run."""
    return environ.get(SANDBOX_ENV) == "1" and os.geteuid() != 0


def run_dynamic(
    ecosystem: str,
    artifacts: Sequence[tuple[Path, Path]],
    scratch: Path,
    *,
    seed: str,
    home: Path | None = None,
    settings: DynamicSettings | None = None,
) -> DynamicOutcome:
    """Install then import each ``(artifact, extracted tree)``.

    ``scratch`` (created) holds the venvs and build dirs; ``home`` (default
    ``scratch/home``; created, must not exist) gets the bait. Both are removed after.
    """
    settings = settings or DynamicSettings()
    home = home or scratch / "home"
    home.mkdir(parents=True)
    outcome = DynamicOutcome([], plant_bait(home, seed), [], [])
    session = _Session(
        PHASES[ecosystem], settings, Sinkhole(settings.sinkhole), write_stubs(scratch / "stubs")
    )
    # Every place package code may fill: scratch, and the container's /tmp and /dev/shm.
    places = (scratch, Path(tempfile.gettempdir()), Path("/dev/shm"))  # noqa: S108
    probe = LimitProbe(mount_points(places), settings.cgroup_root)
    try:
        session.sinkhole.start()
        for index, (artifact, tree) in enumerate(artifacts):
            workspace = session.workspace(artifact, tree, scratch / f"dynamic-{index}", home)
            outcome.phases += session.run_artifact(workspace, outcome, probe)
            outcome.stand_ins += _stand_ins(workspace.standin_log, outcome.stand_ins)
            # Its venv and build are done with: the next artifact gets that scratch space
            # (a tmpfs, counted as the sandbox's memory).
            shutil.rmtree(workspace.root, ignore_errors=True)
    finally:
        outcome.notes += session.sinkhole.stop().notes
        # The package may have left read-only directories behind: best effort.
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return outcome


@dataclass(frozen=True)
class _Session:
    adapter: EcosystemPhases
    settings: DynamicSettings
    sinkhole: Sinkhole
    stubs: Path

    def workspace(self, artifact: Path, tree: Path, root: Path, home: Path) -> Workspace:
        tmp = root / "tmp"
        tmp.mkdir(parents=True)
        return Workspace(
            artifact=artifact,
            tree=tree,
            root=root,
            tmp=tmp,
            home=home,
            hooks=self.settings.hooks,
            standin_log=root / "stand-ins.log",
            path=f"{SYSTEM_PATH}:{self.stubs}",
            settle_seconds=self.settings.settle_seconds,
        )

    def run_artifact(
        self, workspace: Workspace, outcome: DynamicOutcome, probe: LimitProbe
    ) -> list[PhaseOutcome]:
        name, settings = workspace.artifact.name, self.settings
        paths = tuple(str(p) for p in (*self.adapter.package_paths(workspace), workspace.root))
        install_context = PhaseContext("install", outcome.bait, paths)
        import_context = PhaseContext("import", outcome.bait, paths)
        started = time.monotonic()
        try:
            self.adapter.prepare(workspace)
            install_steps = self.adapter.install_steps(workspace)
        except PhaseSetupError as error:
            failed = PhaseOutcome("install", name, "failed", install_context, detail=str(error))
            failed.duration_ms = int((time.monotonic() - started) * 1000)
            skipped = PhaseOutcome("import", name, "skipped", import_context)
            skipped.detail = "not installed"
            return [failed, skipped]
        quiet = (*RUNTIME_PREFIXES, str(settings.hooks), str(self.stubs), *paths)
        scope = TraceScope(quiet_prefixes=quiet)
        env = _base_env(workspace, outcome.bait)
        before = probe.sample()
        install = _run_phase(install_steps, install_context, scope, env, settings.install_timeout)
        install.activity.limits += limit_hits(before, after := probe.sample())
        _absorb(install, self.sinkhole.take(), outcome)
        import_steps = self.adapter.import_steps(workspace, installed=install.status == "ok")
        loaded = _run_phase(import_steps, import_context, scope, env, settings.import_timeout)
        loaded.activity.limits += limit_hits(after, probe.sample())
        _absorb(loaded, self.sinkhole.take(), outcome)
        install.artifact = loaded.artifact = name
        return [install, loaded]


def _run_phase(
    steps: Sequence[Step],
    context: PhaseContext,
    scope: TraceScope,
    env: dict[str, str],
    budget: float,
) -> PhaseOutcome:
    name = context.phase
    phase = PhaseOutcome(name, "", "ok", context)
    if not steps:
        phase.status = "skipped"
        phase.detail = "nothing to run" if name == "install" else "nothing to import"
        return phase
    started = time.monotonic()
    for step in steps:
        remaining = budget - (time.monotonic() - started)
        if remaining <= 0:
            phase.status = "timeout"
            break
        traced = run_traced(step, base_env=env, timeout=remaining, scope=scope)
        phase.steps.append(traced)
        _merge(phase.activity, traced.activity)
        if traced.timed_out:
            phase.status = "timeout"
            break
        if traced.exit_code != 0:
            phase.status = "failed"
            if name == "install":  # npm stops at the first failing script; so does pip
                break
    phase.duration_ms = int((time.monotonic() - started) * 1000)
    phase.detail = "; ".join(_step_summary(step) for step in phase.steps)
    return phase


def _step_summary(step: TracedStep) -> str:
    if step.timed_out:
        return f"{step.label}: timed out"
    summary = f"{step.label}: exit {step.exit_code}"
    if step.exit_code != 0 and step.stderr_tail.strip():
        summary += f" ({step.stderr_tail.strip().splitlines()[-1][:200]})"
    if step.lingering:
        summary += ", left processes running (killed)"
    return summary


def _base_env(workspace: Workspace, bait: Bait) -> dict[str, str]:
    return {
        "HOME": str(workspace.home),
        "PATH": workspace.path,
        "TMPDIR": str(workspace.tmp),
        "LANG": "C.UTF-8",
        "USER": "builder",
        "LOGNAME": "builder",
        "SHELL": "/bin/sh",
        "PACKGUARD_STANDIN_LOG": str(workspace.standin_log),
        **bait.environment,
    }


def _merge(into: Activity, other: Activity) -> None:
    into.processes += other.processes
    into.files += other.files
    into.network += other.network
    into.dns += other.dns
    into.http += other.http
    into.tls += other.tls
    into.raw_payloads += other.raw_payloads
    into.limits += other.limits
    into.syscalls += other.syscalls
    into.quiet_reads += other.quiet_reads
    into.overflow += other.overflow


def _absorb(phase: PhaseOutcome, log: SinkholeLog, outcome: DynamicOutcome) -> None:
    """The sinkhole's records of this phase: authoritative for what was sent."""
    phase.activity.dns += log.dns
    phase.activity.http += log.http
    phase.activity.tls += log.tls
    phase.activity.raw_payloads += [data for _, data in log.raw if data]
    outcome.notes += log.notes


def _stand_ins(log: Path, known: Sequence[str]) -> list[str]:
    try:
        names = log.read_text(encoding="utf-8", errors="replace").split()
    except OSError:
        return []
    return [name for name in dict.fromkeys(names) if name not in known][:100]
