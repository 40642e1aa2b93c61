"""Dynamic rules: their match shape, matching, and the verdicts recorded behaviour earns.

The verdict table replays the rules' own recorded fixtures, so it follows the rule files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from packguard.analyzer.dynamic.bait import bait_for
from packguard.analyzer.dynamic.engine import compile_rules, replay
from packguard.analyzer.dynamic.matching import DynamicMatch, match_observations
from packguard.analyzer.dynamic.observations import Observation
from packguard.analyzer.dynamic.reporting import findings_from_dynamic_hits
from packguard.analyzer.ruleset import load_rules
from packguard.analyzer.scoring import score_findings
from packguard.common.report import VerdictLabel

FIXTURES = Path(__file__).parents[1] / "rules"
SPECS = load_rules()
RULES = compile_rules(SPECS)
BAIT = bait_for(Path("/sandbox/scratch/home"), "fixture")


def replayed(path: str) -> list[str]:
    lines = (FIXTURES / f"{path}.strace.fixture").read_text().splitlines()
    return sorted({hit.rule_id for hit in replay(lines, RULES)})


@pytest.mark.parametrize(
    "match",
    [
        {},
        {"any_of": [{"event": "file"}], "all_of": [{"event": "dns"}]},
        {"any_of": [{"event": "teleport"}]},
        {"any_of": [{"event": "file", "colour": "red"}]},
        {"any_of": [{"event": "process", "programs": ["(unclosed"]}]},
        {"all_of": [{"any_of": []}]},
    ],
)
def test_invalid_match_shapes_are_refused(match: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DynamicMatch.model_validate(match)


def seen(kind: str, line: int | None, **fields: Any) -> Observation:
    phase = fields.pop("phase", "install")
    return Observation(kind, phase, kind, f"{kind}@{line}", "", line, **fields)  # type: ignore[arg-type]


def test_all_of_hits_once_on_the_observation_that_completes_it() -> None:
    match = DynamicMatch.model_validate(
        {"all_of": [{"event": "file", "bait": True}, {"any_of": [{"event": ["dns", "tls"]}]}]}
    )
    observations = [seen("dns", 3), seen("file", 7, bait=True), seen("tls", 9)]
    (hit,) = match_observations([("r", match)], observations)
    assert (hit.line, hit.snippet) == (7, "file@7; dns@3")
    assert match_observations([("r", match)], observations[:1]) == []


def test_phase_and_flag_filters() -> None:
    match = DynamicMatch.model_validate(
        {"any_of": [{"event": "process", "phases": ["install"], "package_spawned": True}]}
    )
    observations = [
        seen("process", 1, package_spawned=True),
        seen("process", 2, package_spawned=False),
        seen("process", 3, package_spawned=True, phase="import"),
    ]
    assert [hit.line for hit in match_observations([("r", match)], observations)] == [1]


@pytest.mark.parametrize(
    ("fixture", "label"),
    [
        # Secrets read + sent, or code run at install that fetches and executes: intent.
        ("dynamic-credential-exfiltration/match/npmrc-then-lookup", VerdictLabel.MALICIOUS),
        ("dynamic-bait-sent/match/key-in-query-string", VerdictLabel.MALICIOUS),
        ("dynamic-install-download-execute/match/curl-pipe-sh", VerdictLabel.MALICIOUS),
        # Strong signals on their own.
        ("dynamic-bait-read/match/python-reads-cloud-key", VerdictLabel.SUSPICIOUS),
        ("dynamic-persistence-write/match/bashrc-and-cron", VerdictLabel.SUSPICIOUS),
        ("dynamic-spawn-network-tool/match/postinstall-curl-pipe-sh", VerdictLabel.MALICIOUS),
        # Capability: a download, a lookup, a plain child process.
        ("dynamic-http-request/match/plain-download", VerdictLabel.LOW),
        ("dynamic-dns-lookup/match/node-lookup", VerdictLabel.BENIGN),
        ("dynamic-spawn-inline-code/clean/execsync-uname", VerdictLabel.BENIGN),
        ("dynamic-bait-read/clean/own-files-and-missing-config", VerdictLabel.BENIGN),
    ],
)
def test_recorded_behaviour_verdicts(fixture: str, label: VerdictLabel) -> None:
    lines = (FIXTURES / f"{fixture}.strace.fixture").read_text().splitlines()
    findings = findings_from_dynamic_hits(SPECS, replay(lines, RULES))
    assert score_findings(findings).label == label, [f.rule_id for f in findings]


def test_findings_carry_phase_syscall_and_snippet_evidence() -> None:
    lines = FIXTURES / "dynamic-bait-read/match/python-reads-cloud-key.strace.fixture"
    findings = findings_from_dynamic_hits(SPECS, replay(lines.read_text().splitlines(), RULES))
    (finding,) = [f for f in findings if f.rule_id == "dynamic-bait-read"]
    assert finding.category == "dynamic"
    assert [(e.phase, e.syscall, e.snippet) for e in finding.evidence] == [
        ("install", "openat", "read /sandbox/scratch/home/.aws/credentials"),
        ("install", "openat", "list /sandbox/scratch/home/.ssh"),
    ]
    assert all(e.file is None and e.line is None for e in finding.evidence)


def test_every_dynamic_rule_fires_on_some_recorded_fixture() -> None:
    fired = {
        rule_id
        for folder in FIXTURES.glob("dynamic-*/match")
        for path in folder.glob("*.strace.fixture")
        for rule_id in replayed(str(path.relative_to(FIXTURES)).removesuffix(".strace.fixture"))
    }
    assert fired == {rule_id for rule_id, _ in RULES}
