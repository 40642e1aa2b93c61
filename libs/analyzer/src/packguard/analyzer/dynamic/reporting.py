"""The dynamic phases' outcome as report parts: phase results, findings, ``DynamicTrace``.

Findings carry evidence ``{phase, syscall, snippet}``; the trace keeps what a reader needs
to see the behaviour (programs run, flagged file accesses, network intent), capped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packguard.analyzer.dynamic.activity import Activity
from packguard.analyzer.dynamic.matching import DynamicHit, DynamicMatch, match_observations
from packguard.analyzer.dynamic.observations import Observation, observe
from packguard.analyzer.dynamic.session import DynamicOutcome, PhaseOutcome
from packguard.analyzer.engines.base import MAX_EVIDENCE_PER_FINDING
from packguard.analyzer.rulespec import RuleSpec
from packguard.common.report import (
    DnsRecord,
    DynamicTrace,
    Evidence,
    FileRecord,
    Finding,
    HttpRecord,
    NetworkRecord,
    PhaseResult,
    ProcessRecord,
    Severity,
    StepOutput,
    TlsRecord,
)

MAX_RECORDS = 200
_SEVERITY_ORDER = list(Severity)


@dataclass(frozen=True)
class DynamicReport:
    phases: list[PhaseResult]
    findings: list[Finding]
    trace: DynamicTrace


def dynamic_report(outcome: DynamicOutcome, specs: Sequence[RuleSpec]) -> DynamicReport:
    rules = [
        (spec.id, DynamicMatch.model_validate(spec.match))
        for spec in specs
        if spec.engine == "dynamic"
    ]
    many = len({phase.artifact for phase in outcome.phases}) > 1
    hits: list[DynamicHit] = []
    builder = _TraceBuilder()
    for phase in outcome.phases:
        observations = observe(phase.activity, phase.context)
        hits += match_observations(rules, observations)
        builder.add(phase, observations, rules)
    trace = builder.trace
    trace = trace.model_copy(update={"stand_ins": outcome.stand_ins, "notes": outcome.notes[:50]})
    return DynamicReport(
        phases=[_phase_result(phase, many) for phase in outcome.phases],
        findings=findings_from_dynamic_hits(specs, hits),
        trace=trace,
    )


def findings_from_dynamic_hits(
    specs: Sequence[RuleSpec], hits: Sequence[DynamicHit]
) -> list[Finding]:
    by_id = {spec.id: spec for spec in specs}
    evidence: dict[str, dict[tuple[str, str], Evidence]] = {}
    for hit in hits:
        unique = evidence.setdefault(hit.rule_id, {})
        if len(unique) < MAX_EVIDENCE_PER_FINDING:
            unique.setdefault(
                (hit.phase, hit.snippet),
                Evidence(phase=hit.phase, syscall=hit.syscall, snippet=hit.snippet),
            )
    findings = [
        Finding(
            rule_id=rule_id,
            title=by_id[rule_id].title,
            severity=by_id[rule_id].severity,
            confidence=by_id[rule_id].confidence,
            category=by_id[rule_id].category,
            evidence=list(unique.values()),
        )
        for rule_id, unique in evidence.items()
    ]
    return sorted(findings, key=lambda f: (-_SEVERITY_ORDER.index(f.severity), f.rule_id))


def _phase_result(phase: PhaseOutcome, many: bool) -> PhaseResult:
    detail = phase.detail or None
    if many and detail:
        detail = f"{phase.artifact}: {detail}"
    return PhaseResult(
        name=phase.name, status=phase.status, duration_ms=phase.duration_ms, detail=detail
    )


class _TraceBuilder:
    def __init__(self) -> None:
        self.trace = DynamicTrace()
        self._seen: set[tuple[str, ...]] = set()

    def add(
        self,
        phase: PhaseOutcome,
        observations: Sequence[Observation],
        rules: Sequence[tuple[str, DynamicMatch]],
    ) -> None:
        trace = self.trace
        name = phase.name
        for step in phase.steps:
            trace.steps.append(
                StepOutput(
                    phase=name,
                    label=step.label,
                    command=step.command[:500],
                    exit_code=step.exit_code,
                    timed_out=step.timed_out,
                    duration_ms=step.duration_ms,
                    stdout_tail=step.stdout_tail,
                    stderr_tail=step.stderr_tail,
                    trace_lines=step.trace_lines,
                )
            )
        for seen in observations:
            record = _record(seen, rules)
            if record is not None:
                self._keep(record, (name, seen.kind, seen.snippet))
        self._activity(name, phase.activity)

    def _activity(self, phase: str, activity: Activity) -> None:
        for lookup in activity.dns:
            record_dns = DnsRecord(phase=phase, name=lookup.name, qtype=lookup.qtype)
            self._keep(record_dns, ("dns", phase, lookup.name, lookup.qtype))
        for seen in activity.http:
            request = seen.request
            record = HttpRecord(
                phase=phase,
                method=request.method,
                host=request.host,
                path=request.path,
                request_line=request.request_line,
                port=seen.port,
            )
            self._keep(record, ("http", phase, request.host, request.request_line))
        for tls in activity.tls:
            record_tls = TlsRecord(phase=phase, server_name=tls.server_name, port=tls.port)
            self._keep(record_tls, ("tls", phase, tls.server_name, str(tls.port)))
        if activity.overflow:
            self.trace = self.trace.model_copy(update={"truncated": True})

    def _keep(
        self,
        record: ProcessRecord | FileRecord | NetworkRecord | DnsRecord | HttpRecord | TlsRecord,
        key: tuple[str, ...],
    ) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        target: list[object] = {
            ProcessRecord: self.trace.processes,
            FileRecord: self.trace.files,
            NetworkRecord: self.trace.network,
            DnsRecord: self.trace.dns,
            HttpRecord: self.trace.http,
            TlsRecord: self.trace.tls,
        }[type(record)]  # type: ignore[assignment]
        if len(target) < MAX_RECORDS:
            target.append(record)
        else:
            self.trace = self.trace.model_copy(update={"truncated": True})


def _record(
    seen: Observation, rules: Sequence[tuple[str, DynamicMatch]]
) -> ProcessRecord | FileRecord | NetworkRecord | None:
    if seen.kind == "process":
        return ProcessRecord(
            phase=seen.phase,
            command=seen.subject[:500],
            ok=seen.ok,
            package_spawned=seen.package_spawned,
        )
    if seen.kind == "connect":
        return NetworkRecord(
            phase=seen.phase,
            syscall=seen.syscall,
            family=seen.family,
            address=seen.address,
            port=seen.port,
            ok=seen.ok,
        )
    if seen.kind != "file":
        return None
    flags = [flag for flag, on in (("bait", seen.bait), ("outside", seen.outside)) if on]
    if not flags and _is_flagged(seen, rules):
        flags = ["sensitive"]
    if not flags:
        return None
    return FileRecord.model_validate(
        {
            "phase": seen.phase,
            "syscall": seen.syscall,
            "path": seen.path,
            "access": seen.access,
            "ok": seen.ok,
            "flags": flags,
        }
    )


def _is_flagged(seen: Observation, rules: Sequence[tuple[str, DynamicMatch]]) -> bool:
    return any(pattern.matches(seen) for _, match in rules for pattern in match.any_of)
