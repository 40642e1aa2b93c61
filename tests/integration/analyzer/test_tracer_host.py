"""The tracer and the dynamic session with the host's real strace, pip and node.

What runs is inert and stays in tmp_path: a bait read, a write into the scratch home,
a child process. Nothing touches the network (the host has a real resolver: no names).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from packguard.analyzer.archive import ExtractLimits, extract_archive
from packguard.analyzer.dynamic.activity import TraceScope
from packguard.analyzer.dynamic.session import DynamicSettings, run_dynamic
from packguard.analyzer.dynamic.sinkhole import SinkholeConfig
from packguard.analyzer.dynamic.tracer import run_traced
from packguard.analyzer.ecosystems import Step
from tests.fixtures.packages import npm_tarball, pypi_sdist

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed here"),
]
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
# No resolver or listener on privileged ports of the host: ephemeral ports only.
LOOPBACK_ONLY = SinkholeConfig(dns_port=0, tcp_ports=(0,))


def test_traced_step_reports_processes_files_and_output(tmp_path: Path) -> None:
    secret = tmp_path / "home" / ".npmrc"
    secret.parent.mkdir()
    secret.write_text("//registry.example/:_authToken=x\n")
    code = (
        "import subprocess, sys\n"
        f"open({str(secret)!r}).read()\n"
        f"open({str(tmp_path / 'out.txt')!r}, 'w').write('x')\n"
        "subprocess.run(['true'])\n"
        "print('done'); print('warn', file=sys.stderr)\n"
    )
    step = Step("import", (sys.executable, "-c", code), tmp_path, {}, 1, r"python[0-9.]*")
    traced = run_traced(step, base_env=ENV, timeout=60, scope=TraceScope())
    assert (traced.exit_code, traced.timed_out, traced.trace_complete) == (0, False, True)
    assert (traced.stdout_tail, traced.stderr_tail) == ("done\n", "warn\n")
    files = {(f.path, f.access) for f in traced.activity.files}
    assert {(str(secret), "read"), (str(tmp_path / "out.txt"), "write")} <= files
    spawned = [run.program for run in traced.activity.processes if not run.tooling]
    assert spawned == ["true"]


def test_step_past_its_timeout_is_killed_with_its_children(tmp_path: Path) -> None:
    code = "import subprocess; subprocess.Popen(['sleep', '60']); import time; time.sleep(60)"
    step = Step("install", (sys.executable, "-c", code), tmp_path, {}, 1, r"python[0-9.]*")
    traced = run_traced(step, base_env=ENV, timeout=1.0, scope=TraceScope())
    assert traced.timed_out and traced.exit_code is None
    assert any(run.program == "sleep" for run in traced.activity.processes)


def test_processes_left_behind_get_a_short_linger_then_are_killed(tmp_path: Path) -> None:
    code = "import subprocess; subprocess.Popen(['sleep', '60'])"
    step = Step("install", (sys.executable, "-c", code), tmp_path, {}, 1, r"python[0-9.]*")
    traced = run_traced(step, base_env=ENV, timeout=60, scope=TraceScope(), linger=0.5)
    assert (traced.exit_code, traced.timed_out, traced.lingering) == (0, False, True)
    assert [run.program for run in traced.activity.processes if not run.tooling] == ["sleep"]


def test_missing_program_is_reported_not_raised(tmp_path: Path) -> None:
    step = Step("install", (str(tmp_path / "nope"),), tmp_path, {}, 1)
    traced = run_traced(step, base_env=ENV, timeout=30, scope=TraceScope())
    assert traced.exit_code != 0 and not traced.timed_out
    assert "nope" in traced.stderr_tail  # strace says it cannot find the program


SETUP = """
import os
from setuptools import setup
import zz_packguard_missing_build_dep  # a stand-in lets setup.py go on
open(os.path.expanduser("~/.aws/credentials")).read()
open(os.path.expanduser("~/.bashrc"), "a").write("# inert\\n")
setup(name="inertpkg", version="1.0", py_modules=["inertpkg"])
"""


@pytest.mark.slow
def test_session_installs_and_imports_an_sdist_on_the_host(tmp_path: Path) -> None:
    artifact = pypi_sdist("inertpkg", "1.0", {"setup.py": SETUP})
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)
    tree = tmp_path / "tree"
    tree.mkdir()
    extract_archive(path, tree, ExtractLimits())
    settings = DynamicSettings(settle_seconds=0.2, sinkhole=LOOPBACK_ONLY)
    outcome = run_dynamic("pypi", [(path, tree)], tmp_path / "dyn", seed="s", settings=settings)
    install, loaded = outcome.phases
    assert (install.status, loaded.status) == ("ok", "ok"), install.detail
    touched = {(f.path, f.access) for f in install.activity.files}
    home = outcome.bait.home
    assert (str(home / ".aws" / "credentials"), "read") in touched
    assert (str(home / ".bashrc"), "write") in touched
    assert "zz_packguard_missing_build_dep" in outcome.stand_ins
    assert "packguard: imported inertpkg" in loaded.steps[0].stderr_tail
    assert not (tmp_path / "dyn").exists() and not home.exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_session_runs_npm_lifecycle_scripts_then_requires(tmp_path: Path) -> None:
    artifact = npm_tarball(
        "inert-npm",
        "1.0.0",
        {"post.js": "require('fs').readFileSync(require('os').homedir() + '/.npmrc');\n"},
        scripts={"preinstall": "true", "postinstall": "node post.js"},
    )
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)
    tree = tmp_path / "tree"
    tree.mkdir()
    extract_archive(path, tree, ExtractLimits())
    settings = DynamicSettings(settle_seconds=0.2, sinkhole=LOOPBACK_ONLY)
    outcome = run_dynamic("npm", [(path, tree)], tmp_path / "dyn", seed="s", settings=settings)
    install, loaded = outcome.phases
    assert [step.label for step in install.steps] == ["preinstall", "postinstall"]
    assert (install.status, loaded.status) == ("ok", "ok")
    assert (str(outcome.bait.home / ".npmrc"), "read") in {
        (f.path, f.access) for f in install.activity.files
    }


def _sdist(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Path]:
    artifact = pypi_sdist("inertpkg", "1.0", files)
    path = tmp_path / artifact.filename
    path.write_bytes(artifact.data)
    tree = tmp_path / "tree"
    tree.mkdir()
    extract_archive(path, tree, ExtractLimits())
    return path, tree


@pytest.mark.slow
def test_failed_build_still_imports_the_sdist_sources(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["zz-missing-backend"]\nbuild-backend = "zz_missing_backend"\n'
    )
    module = "import os\nopen(os.path.expanduser('~/.pypirc')).read()\n"
    path, tree = _sdist(tmp_path, {"pyproject.toml": pyproject, "inertpkg.py": module})
    settings = DynamicSettings(settle_seconds=0.2, sinkhole=LOOPBACK_ONLY)
    outcome = run_dynamic("pypi", [(path, tree)], tmp_path / "dyn", seed="s", settings=settings)
    install, loaded = outcome.phases
    assert (install.status, loaded.status) == ("failed", "ok")
    assert "No module named 'zz_missing_backend'" in (install.detail or "")
    assert (str(outcome.bait.home / ".pypirc"), "read") in {
        (f.path, f.access) for f in loaded.activity.files
    }


@pytest.mark.slow
def test_install_past_its_budget_times_out(tmp_path: Path) -> None:
    setup = "import time\ntime.sleep(60)\n"
    path, tree = _sdist(tmp_path, {"setup.py": setup})
    settings = DynamicSettings(install_timeout=3, settle_seconds=0.2, sinkhole=LOOPBACK_ONLY)
    outcome = run_dynamic("pypi", [(path, tree)], tmp_path / "dyn", seed="s", settings=settings)
    install, _ = outcome.phases
    assert install.status == "timeout"
    assert install.detail == "pip install: timed out"
