"""The ``dynamic`` rule engine: validates dynamic rules and replays recorded traces.

In an analysis, dynamic rules run over the observations of each traced phase (see
``dynamic.session``), never over the package's files: ``analyze`` keeps them out of the
static phase. ``scan`` exists for recorded traces: a tree file ending in ``.strace`` is
read as one phase of ``strace -f -tt -y`` output, so rule fixtures are real trace
excerpts. Comment lines set the replay's context and add what the sinkhole recorded
(TLS never shows in the trace: the handshake goes out through ``write``)::

    # phase: install            (default install)
    # package: /sandbox/scratch/dynamic-0/venv    (repeatable: where writes are expected)
    # tooling-depth: 2          (default 1)
    # host-programs: python[0-9.]*   (the tooling that runs the package's code)
    # bait-seed: fixture        (the seed of the bait values a trace may send)
    # sinkhole: dns NAME QTYPE | http PORT METHOD HOST PATH | tls PORT SERVER_NAME
    # limit: memory|processes|disk DETAIL   (a limit the phase ran into, as sampled)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from packguard.analyzer.dynamic.activity import (
    Activity,
    ActivityBuilder,
    DnsLookup,
    HttpSeen,
    TlsSeen,
    TraceScope,
)
from packguard.analyzer.dynamic.bait import bait_for
from packguard.analyzer.dynamic.limits import RESOURCES, LimitHit
from packguard.analyzer.dynamic.matching import DynamicHit, DynamicMatch, match_observations
from packguard.analyzer.dynamic.observations import PhaseContext, observe
from packguard.analyzer.dynamic.strace import parse_lines
from packguard.analyzer.dynamic.wire import HttpRequest
from packguard.analyzer.engines.base import EngineResult, Hit, ScanContext
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

ENGINE_NAME = "dynamic"
TRACE_SUFFIX = ".strace"
DEFAULT_HOME = "/sandbox/scratch/home"
REPLAY_SEED = "fixture"
_DIRECTIVE = re.compile(
    r"^#\s*(phase|package|tooling-depth|host-programs|bait-seed|home|sinkhole|limit):\s*([^#]+)"
)
_MAX_REPLAY_BYTES = 4 << 20


def compile_rules(specs: Iterable[RuleSpec]) -> list[tuple[str, DynamicMatch]]:
    return [
        (spec.id, DynamicMatch.model_validate(spec.match))
        for spec in specs
        if spec.engine == ENGINE_NAME
    ]


class DynamicEngine:
    def validate(self, spec: RuleSpec) -> None:
        DynamicMatch.model_validate(spec.match)  # a pydantic error is a ValueError

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        result = EngineResult()
        rules = compile_rules(specs)
        if not rules:
            return result
        for tree_file in files:
            if not tree_file.path.endswith(TRACE_SUFFIX):
                continue
            if tree_file.size > _MAX_REPLAY_BYTES:
                result.notes.append(f"{tree_file.path}: trace too large to replay")
                continue
            lines = tree_file.disk_path.read_text("utf-8", "backslashreplace").splitlines()
            result.hits += [
                Hit(hit.rule_id, tree_file.path, hit.line, hit.snippet)
                for hit in replay(lines, rules)
            ]
        return result


def replay(lines: Sequence[str], rules: Sequence[tuple[str, DynamicMatch]]) -> list[DynamicHit]:
    """The hits of ``rules`` over one recorded phase."""
    settings: dict[str, list[str]] = {}
    records: list[tuple[int, list[str]]] = []
    for number, line in enumerate(lines, start=1):
        directive = _DIRECTIVE.match(line)
        if directive and directive[1] in {"sinkhole", "limit"}:
            records.append((number, [directive[1], *directive[2].split()]))
        elif directive:
            settings.setdefault(directive[1], []).append(directive[2].strip())
    scope = TraceScope(
        tooling_depth=int(settings.get("tooling-depth", ["1"])[0]),
        host_programs=settings.get("host-programs", [""])[0],
    )
    builder = ActivityBuilder(scope)
    for event in parse_lines(lines):
        builder.add(event)
    activity = builder.finish()
    for number, (kind, *fields) in records:
        if kind == "limit":
            _add_limit(activity, number, fields)
        else:
            _add_record(activity, number, fields)
    home = Path(settings.get("home", [DEFAULT_HOME])[0])
    context = PhaseContext(
        phase=settings.get("phase", ["install"])[0],
        bait=bait_for(home, settings.get("bait-seed", [REPLAY_SEED])[0]),
        package_paths=tuple(settings.get("package", ())),
    )
    return match_observations(rules, observe(activity, context))


def _add_limit(activity: Activity, line: int, fields: list[str]) -> None:
    """``RESOURCE DETAIL...``: what ``dynamic.limits`` would have sampled."""
    resource = next((r for r in RESOURCES if fields and fields[0] == r), None)
    if resource is not None:
        activity.limits.append(LimitHit(resource, " ".join(fields[1:]), line))


def _add_record(activity: Activity, line: int, fields: list[str]) -> None:
    """``dns NAME [QTYPE]``, ``http PORT METHOD HOST PATH``, ``tls PORT SERVER_NAME``."""
    kind, rest = (fields[0], fields[1:]) if fields else ("", [])
    if kind == "dns" and rest:
        activity.dns.append(DnsLookup(rest[0], rest[1] if len(rest) > 1 else "A", line))
    elif kind == "http" and len(rest) >= 4 and rest[0].isdigit():
        port, method, host, path = int(rest[0]), rest[1], rest[2], rest[3]
        request = HttpRequest(method, host, path, "HTTP/1.1")
        payload = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
        activity.http.append(HttpSeen(request, port, line, payload))
    elif kind == "tls" and len(rest) >= 2 and rest[0].isdigit():
        activity.tls.append(TlsSeen(rest[1], int(rest[0]), line))
