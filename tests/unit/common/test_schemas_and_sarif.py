import json
from pathlib import Path

import jsonschema
import pytest

from packguard.common.report import (
    AnalysisReport,
    ArtifactInfo,
    Evidence,
    Finding,
    PackageInfo,
    Severity,
    Verdict,
    VerdictLabel,
)
from packguard.common.sarif import report_to_sarif
from packguard.common.schemas import DOCUMENTS, data_schema_markdown, render

SCHEMAS = Path(__file__).resolve().parents[3] / "docs" / "schemas"


@pytest.mark.parametrize("filename", sorted(DOCUMENTS))
def test_committed_schema_matches_the_models(filename: str) -> None:
    committed = (SCHEMAS / filename).read_text()
    assert committed == render(DOCUMENTS[filename]), (
        f"docs/schemas/{filename} is stale: run python -m packguard.common.schemas docs/schemas"
    )


def _report() -> AnalysisReport:
    return AnalysisReport(
        analyzer_version="0.1.0",
        package=PackageInfo(ecosystem="pypi", name="stealer", version="1.0"),
        artifacts=[ArtifactInfo(filename="stealer-1.0.tar.gz", size_bytes=10, sha256="ab" * 32)],
        findings=[
            Finding(
                rule_id="credential-access-secret-files",
                title="Reads credential files",
                severity=Severity.HIGH,
                confidence=0.9,
                category="credential-access",
                evidence=[Evidence(file="stealer-1.0/setup.py", line=4, snippet="open(...)")],
            ),
            Finding(
                rule_id="dynamic-bait-read",
                title="Read planted bait credentials",
                severity=Severity.CRITICAL,
                confidence=1.0,
                category="dynamic",
                evidence=[Evidence(phase="install", syscall="openat", snippet="~/.aws")],
            ),
        ],
        verdict=Verdict(label=VerdictLabel.MALICIOUS, score=9.5),
    )


def test_report_validates_against_its_committed_schema() -> None:
    schema = json.loads((SCHEMAS / "report.v1.schema.json").read_text())
    jsonschema.validate(_report().model_dump(mode="json"), schema)


def test_sarif_has_one_rule_per_rule_id_and_a_result_per_finding() -> None:
    sarif = report_to_sarif(_report())
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "credential-access-secret-files",
        "dynamic-bait-read",
    ]
    static, dynamic = run["results"]
    assert static["level"] == "error" and static["ruleIndex"] == 0
    region = static["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 4, "snippet": {"text": "open(...)"}}
    assert dynamic["locations"][0]["logicalLocations"][0]["name"] == "install/openat"
    assert run["properties"]["verdict"]["label"] == "malicious"
    json.dumps(sarif)  # plain JSON all the way down


def test_sarif_of_a_clean_report_has_no_results() -> None:
    clean = _report().model_copy(update={"findings": []})
    assert report_to_sarif(clean)["runs"][0]["results"] == []


def test_data_schema_doc_matches_the_models() -> None:
    committed = (SCHEMAS.parent / "data_schema.md").read_text()
    assert committed == data_schema_markdown(), (
        "docs/data_schema.md is stale: run python -m packguard.common.schemas docs/schemas"
    )
