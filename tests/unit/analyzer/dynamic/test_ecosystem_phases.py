"""Ecosystem adapters: what installing and loading a package runs, per ecosystem."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from packguard.analyzer.dynamic.session import HOOKS_DIR
from packguard.analyzer.ecosystems import PHASES, PhaseSetupError, Workspace
from packguard.analyzer.ecosystems.npm import NPM, package_dir
from packguard.analyzer.ecosystems.pypi import (
    BUILD_BACKENDS_ENV,
    PYPI,
    installed_modules,
    site_packages,
    source_modules,
)
from packguard.analyzer.rulespec import ECOSYSTEMS


def workspace(tmp_path: Path, artifact: str = "pkg-1.0.tar.gz") -> Workspace:
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    return Workspace(
        artifact=tmp_path / artifact,
        tree=tree,
        root=tmp_path / "root",
        tmp=tmp_path / "root" / "tmp",
        home=tmp_path / "home",
        hooks=Path("/hooks"),
        standin_log=tmp_path / "root" / "stand-ins.log",
        path="/usr/bin:/bin:/stubs",
        settle_seconds=1.5,
    )


def test_one_adapter_per_supported_ecosystem() -> None:
    assert sorted(PHASES) == sorted(ECOSYSTEMS)
    assert all(adapter.name == name for name, adapter in PHASES.items())


def test_pip_install_is_offline_without_deps_or_isolation(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    (step,) = PYPI.install_steps(ws)
    assert step.argv[:4] == (str(ws.root / "venv" / "bin" / "python"), "-m", "pip", "install")
    assert {"--no-deps", "--no-build-isolation", "--no-index"} <= set(step.argv)
    assert step.argv[-1] == str(ws.artifact)
    assert (step.tooling_depth, step.host_programs) == (2, r"python[0-9.]*")
    assert step.env["PACKGUARD_STANDIN_ROOTS"] == str(ws.tmp)


def test_pip_install_dates_wheel_files_no_earlier_than_zip_allows(tmp_path: Path) -> None:
    (step,) = PYPI.install_steps(workspace(tmp_path))
    assert step.env["SOURCE_DATE_EPOCH"] == "315532800"


@pytest.mark.parametrize("present", [True, False])
def test_venv_sees_the_image_build_backends_when_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, present: bool
) -> None:
    backends = tmp_path / "backends"
    if present:
        backends.mkdir()
    monkeypatch.setenv(BUILD_BACKENDS_ENV, str(backends))
    monkeypatch.setenv("PACKGUARD_SYSTEM_PYTHON", sys.executable)
    ws = dataclasses.replace(workspace(tmp_path), hooks=HOOKS_DIR)
    ws.root.mkdir()
    PYPI.prepare(ws)
    pth = site_packages(ws.root / "venv") / "_packguard_backends.pth"
    assert (pth.read_text() if pth.exists() else None) == (f"{backends}\n" if present else None)


def test_installed_modules_come_from_record(tmp_path: Path) -> None:
    info = tmp_path / "pkg-1.0.dist-info"
    info.mkdir()
    (info / "RECORD").write_text(
        "pkg/__init__.py,sha256=x,1\npkg/sub/m.py,,\nhelper.py,,\n_speedups.cpython-311-x86_64-linux-gnu.so,,\n"
        "pkg-1.0.dist-info/METADATA,,\n../../../bin/pkg-cli,,\nsetup.py,,\nnot-a-name.py,,\n"
    )
    assert installed_modules(tmp_path) == ["_speedups", "helper", "pkg"]


def test_source_modules_of_an_sdist_tree(tmp_path: Path) -> None:
    top = tmp_path / "pkg-1.0"
    (top / "src" / "pkg").mkdir(parents=True)
    (top / "src" / "pkg" / "__init__.py").write_text("")
    (top / "tool.py").write_text("")
    (top / "setup.py").write_text("")
    (top / "docs").mkdir()
    paths, modules = source_modules(tmp_path)
    assert (paths, modules) == ([top, top / "src"], ["tool", "pkg"])


def test_import_step_uses_isolated_interpreter_and_falls_back_to_sources(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    (ws.root / "venv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (ws.tree / "pkg-1.0" / "pkg").mkdir(parents=True)
    (ws.tree / "pkg-1.0" / "pkg" / "__init__.py").write_text("")
    (step,) = PYPI.import_steps(ws, installed=False)
    assert step.argv[1:4] == ("-I", "-B", "/hooks/import_driver.py")
    assert step.argv[4:] == ("1.5", "--path", str(ws.tree / "pkg-1.0"), "pkg")


def test_nothing_to_import_means_no_step(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    (ws.root / "venv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    assert PYPI.import_steps(ws, installed=True) == []


def write_manifest(tree: Path, manifest: object, folder: str = "package") -> Path:
    directory = tree / folder
    directory.mkdir(parents=True)
    (directory / "package.json").write_text(json.dumps(manifest))
    return directory


def test_npm_runs_lifecycle_scripts_in_npm_order_with_npm_environment(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "evil-1.0.0.tgz")
    scripts = {
        "postinstall": "node post.js",
        "preinstall": "node pre.js",
        "test": "jest",
        "install": " ",
    }
    directory = write_manifest(ws.tree, {"name": "evil", "version": "1.0.0", "scripts": scripts})
    steps = NPM.install_steps(ws)
    assert [(s.label, s.argv) for s in steps] == [
        ("preinstall", ("/bin/sh", "-c", "node pre.js")),
        ("postinstall", ("/bin/sh", "-c", "node post.js")),
    ]
    env = steps[1].env
    assert env["npm_lifecycle_event"] == "postinstall"
    assert env["npm_package_name"] == "evil" and env["npm_package_version"] == "1.0.0"
    assert env["NODE_OPTIONS"] == "--require /hooks/standins.js"
    assert env["PATH"] == f"{directory}/node_modules/.bin:/usr/bin:/bin:/stubs"
    assert all(s.cwd == directory and s.host_programs == "sh" for s in steps)


def test_npm_require_step_loads_the_package_directory(tmp_path: Path) -> None:
    ws = workspace(tmp_path, "x-1.0.0.tgz")
    directory = write_manifest(ws.tree, {"name": "x"}, folder="x")  # not the usual package/
    (step,) = NPM.import_steps(ws, installed=True)
    assert step.argv == ("node", "/hooks/require_driver.js", str(directory), "1500")
    assert package_dir(ws.tree) == directory


@pytest.mark.parametrize("manifest", [None, "[1, 2]", "{not json"])
def test_npm_without_a_usable_manifest_cannot_be_installed(
    tmp_path: Path, manifest: str | None
) -> None:
    ws = workspace(tmp_path, "x-1.0.0.tgz")
    if manifest is not None:
        (ws.tree / "package").mkdir()
        (ws.tree / "package" / "package.json").write_text(manifest)
    with pytest.raises(PhaseSetupError):
        NPM.install_steps(ws)
