"""The labelled corpus through the static analyzer, in-process: recall and false positives.

Every sample is built in memory (``tests.corpus``) and analysed exactly as the sandbox
would with ``--static-only``; nothing in it is executed.
"""

from __future__ import annotations

import pytest

from packguard.analyzer.rulespec import RuleSpec
from tests.corpus import BENIGN, MALICIOUS, SAMPLES, Sample
from tests.corpus.evaluate import Outcome, evaluate, summarize

MIN_RECALL = 0.95


@pytest.fixture(scope="module")
def outcomes(
    rules: tuple[RuleSpec, ...], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Outcome]:
    results = {}
    for index, sample in enumerate(SAMPLES):
        workdir = tmp_path_factory.mktemp(f"corpus-{index}")
        results[f"{sample.ecosystem}:{sample.name}"] = evaluate(sample, rules, workdir)
    return results


def test_corpus_has_enough_samples_of_each_kind() -> None:
    assert len(MALICIOUS) >= 30
    assert len(BENIGN) >= 15
    keys = [f"{s.ecosystem}:{s.name}" for s in SAMPLES]
    assert len(set(keys)) == len(keys)
    assert {s.kind for s in SAMPLES} == {"sdist", "wheel", "npm"}


def test_corpus_malicious_recall_at_least_95_percent(outcomes: dict[str, Outcome]) -> None:
    summary = summarize(list(outcomes.values()))
    missed = [
        f"{key} ({o.report.verdict.label}: {o.report.verdict.summary})"
        for key, o in outcomes.items()
        if o.sample.label == "malicious" and not o.flagged
    ]
    assert summary.recall >= MIN_RECALL, f"missed: {missed}"


@pytest.mark.parametrize("sample", BENIGN, ids=lambda s: f"{s.ecosystem}:{s.name}")
def test_corpus_benign_sample_is_not_flagged(outcomes: dict[str, Outcome], sample: Sample) -> None:
    outcome = outcomes[f"{sample.ecosystem}:{sample.name}"]
    assert not outcome.flagged, outcome.report.verdict.summary
    assert outcome.report.error is None


def test_corpus_findings_carry_evidence(outcomes: dict[str, Outcome]) -> None:
    for outcome in outcomes.values():
        for finding in outcome.report.findings:
            assert finding.evidence, finding.rule_id
            code_evidence = [e for e in finding.evidence if e.file and e.line]
            if finding.category not in ("metadata", "archive"):
                assert code_evidence, finding.rule_id
                assert all(e.snippet for e in code_evidence), finding.rule_id
