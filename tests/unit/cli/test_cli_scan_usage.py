"""``packguard scan`` argument errors exit 3 before any engine or registry is contacted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from packguard.cli.main import run
from packguard.cli.scan_command import ScanFormat, copy_local_artifact, render
from packguard.common.errors import ArtifactTooLarge, InvalidInput
from packguard.common.report import AnalysisReport, PackageInfo, Verdict, VerdictLabel

# No engine answers here: a scan that got as far as the engine would fail differently.
NO_ENGINE = "unix:///nonexistent/packguard-test.sock"


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.setattr("sys.argv", ["packguard", "scan", *args])
    with pytest.raises(SystemExit) as exited:
        run()
    assert isinstance(exited.value.code, int)
    return exited.value.code


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["pkg:pypi/six@1.16.0", "--format", "xml"],
        ["pkg:pypi/six@1.16.0", "--ecosystem", "cargo"],
        ["pkg:pypi/six@1.16.0", "--timeout", "0"],
    ],
)
def test_scan_bad_usage_exits_3(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    assert _run(monkeypatch, *args) == 3


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["payload.bin"], "unsupported_ecosystem"),
        (["pkg:pypi/six"], "missing_version"),
        (["pkg:pypi/six@1.16.0", "--ecosystem", "npm"], "invalid_input"),
    ],
)
def test_scan_invalid_target_exits_3_with_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], code: str
) -> None:
    assert _run(monkeypatch, *args) == 3

    captured = capsys.readouterr()
    assert captured.out == ""
    assert code in captured.err


def test_scan_missing_file_exits_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run(monkeypatch, str(tmp_path / "absent-1.0.tar.gz")) == 3

    assert "is not a file" in capsys.readouterr().err


def test_copy_local_artifact_copies_with_digest(tmp_path: Path) -> None:
    source = tmp_path / "six-1.0.tar.gz"
    source.write_bytes(b"archive bytes")
    (tmp_path / "input").mkdir()

    artifact = copy_local_artifact(source, tmp_path / "input", max_bytes=100)

    assert artifact.path.read_bytes() == b"archive bytes"
    assert artifact.size_bytes == 13
    assert artifact.sha256 == hashlib.sha256(b"archive bytes").hexdigest()


def test_copy_local_artifact_over_cap_raises(tmp_path: Path) -> None:
    source = tmp_path / "six-1.0.tar.gz"
    source.write_bytes(b"x" * 11)

    with pytest.raises(ArtifactTooLarge):
        copy_local_artifact(source, tmp_path, max_bytes=10)


def test_copy_local_artifact_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput):
        copy_local_artifact(tmp_path, tmp_path, max_bytes=10)


def _report() -> AnalysisReport:
    return AnalysisReport(
        analyzer_version="test",
        package=PackageInfo(ecosystem="pypi", name="six", version="1.0"),
        artifacts=[],
        verdict=Verdict(label=VerdictLabel.SUSPICIOUS, score=5.5),
    )


def test_render_json_puts_verdict_at_top_level() -> None:
    document = json.loads(str(render(_report(), ScanFormat.JSON)))

    assert document["verdict"]["label"] == "suspicious"
    assert document["verdict"]["score"] == 5.5


def test_render_text_returns_report_for_summary() -> None:
    report = _report()

    assert render(report, ScanFormat.TEXT) is report


def test_render_sarif_uses_common_exporter() -> None:
    document = json.loads(str(render(_report(), ScanFormat.SARIF)))

    assert document["version"] == "2.1.0"
