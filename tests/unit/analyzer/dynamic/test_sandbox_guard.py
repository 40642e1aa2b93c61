"""Package code runs only in the sandbox; the report survives what the package left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packguard.analyzer.cli import write_report
from packguard.analyzer.dynamic.session import SANDBOX_ENV, is_sandboxed
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel

REPORT = AnalysisReport(
    analyzer_version="t",
    package=PackageInfo(ecosystem="pypi", name="x", version="1"),
    artifacts=[],
    verdict=Verdict(label=VerdictLabel.BENIGN, score=0.0),
)


@pytest.mark.parametrize(
    ("value", "expected"), [("1", os.geteuid() != 0), ("0", False), (None, False)]
)
def test_dynamic_phases_need_the_image_marker_and_a_non_root_user(
    value: str | None, expected: bool
) -> None:
    environ = {} if value is None else {SANDBOX_ENV: value}
    assert is_sandboxed(environ) is expected


def test_report_replaces_what_the_package_planted(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    output = tmp_path / "report.json"
    output.mkdir()  # a directory where the report goes
    (tmp_path / ".report.json.partial").symlink_to(outside)  # a link where it is staged
    write_report(REPORT, output)
    assert AnalysisReport.model_validate_json(output.read_text()) == REPORT
    assert outside.read_text() == "untouched"
    assert not (tmp_path / ".report.json.partial").exists()


def test_report_rewrites_the_runners_precreated_file_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runner's layout: a directory the sandbox user cannot write, one file it owns,
    # which package code may have filled and made read-only.
    output = tmp_path / "report.json"
    output.write_text("x" * 100_000)
    output.chmod(0o400)
    monkeypatch.setattr("packguard.analyzer.cli.os.access", lambda path, mode: False)
    write_report(REPORT, output)
    assert AnalysisReport.model_validate_json(output.read_text()) == REPORT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
