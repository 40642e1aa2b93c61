"""Run the static analyzer in-process over corpus samples and score the result."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packguard.analyzer.analyze import AnalysisRequest, analyze
from packguard.analyzer.rulespec import RuleSpec
from packguard.common.report import AnalysisReport, VerdictLabel
from tests.corpus.samples import Sample

FLAGGED = frozenset({VerdictLabel.SUSPICIOUS, VerdictLabel.MALICIOUS})


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    report: AnalysisReport
    seconds: float

    @property
    def flagged(self) -> bool:
        return self.report.verdict.label in FLAGGED

    @property
    def correct(self) -> bool:
        return self.flagged == (self.sample.label == "malicious")


def static_report(
    artifact: Path,
    ecosystem: str,
    name: str,
    version: str,
    rules: Sequence[RuleSpec],
    scratch: Path,
) -> AnalysisReport:
    request = AnalysisRequest(
        ecosystem=ecosystem,
        name=name,
        version=version,
        artifacts=(artifact,),
        scratch_dir=scratch,
        static_only=True,
    )
    return analyze(request, rules)


def evaluate(sample: Sample, rules: Sequence[RuleSpec], workdir: Path) -> Outcome:
    artifact = workdir / sample.filename
    artifact.write_bytes(sample.build())
    started = time.perf_counter()
    report = static_report(artifact, sample.ecosystem, sample.name, sample.version, rules, workdir)
    return Outcome(sample, report, time.perf_counter() - started)


@dataclass(frozen=True)
class Summary:
    malicious: int
    detected: int
    benign: int
    false_positives: int
    median_seconds: float

    @property
    def recall(self) -> float:
        return self.detected / self.malicious if self.malicious else 1.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.benign if self.benign else 0.0


def summarize(outcomes: Sequence[Outcome]) -> Summary:
    malicious = [o for o in outcomes if o.sample.label == "malicious"]
    benign = [o for o in outcomes if o.sample.label == "benign"]
    return Summary(
        malicious=len(malicious),
        detected=sum(o.flagged for o in malicious),
        benign=len(benign),
        false_positives=sum(o.flagged for o in benign),
        median_seconds=statistics.median(o.seconds for o in outcomes) if outcomes else 0.0,
    )
