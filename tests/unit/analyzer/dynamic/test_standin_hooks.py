"""Inert stand-ins for missing dependencies: the Python finder and the Node require hook.

The fixture packages are inert: they import missing names and use them, nothing more.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from packguard.analyzer.dynamic.hooks import standins
from packguard.analyzer.dynamic.session import HOOKS_DIR

NODE_WITH_HOOK = ("node", "--require", str(HOOKS_DIR / "standins.js"))
PACKAGE = """
import zz_packguard_missing_http as http
from zz_packguard_missing_np.linalg import norm
try:
    import winreg
except ImportError:
    winreg = None

@http.decorator
def answer():
    return 41

class Session(http.Session):
    pass

RESULT = (answer() + 1, http.get("http://x.invalid").status_code == 200, winreg, norm([1]))
SESSION = Session(timeout=3)
"""


@pytest.fixture
def clean_modules() -> Iterator[None]:
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        del sys.modules[name]


def write_package(root: Path, name: str) -> Path:
    package = root / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(PACKAGE)
    return package


def test_missing_imports_of_the_package_get_stand_ins(tmp_path: Path, clean_modules: None) -> None:
    write_package(tmp_path, "zz_pg_fixture_one")
    log = tmp_path / "stand-ins.log"
    finder = standins.install([str(tmp_path)], str(log))
    sys.path.insert(0, str(tmp_path))
    try:
        module = __import__("zz_pg_fixture_one")
    finally:
        sys.path.remove(str(tmp_path))
        standins.uninstall(finder)
    # The decorated function kept its body; the stdlib name stayed missing.
    assert module.RESULT[:3] == (42, False, None)
    assert isinstance(module.SESSION, standins.StandInBase)
    assert log.read_text().split() == [
        "zz_packguard_missing_http",
        "zz_packguard_missing_np",
        "zz_packguard_missing_np.linalg",
    ]


def test_imports_from_outside_the_roots_still_fail(tmp_path: Path, clean_modules: None) -> None:
    finder = standins.install([str(tmp_path / "elsewhere")])
    try:
        with pytest.raises(ImportError):
            __import__("zz_packguard_missing_from_test")
    finally:
        standins.uninstall(finder)
    assert finder.stood_in == []


def test_stand_in_is_permissive_and_neutral() -> None:
    thing = standins.StandIn("dep")
    assert str(thing.a.b()) == "" and not thing and len(thing) == 0 and list(thing) == []
    assert thing["k"] is thing and int(thing) == 0 and (thing + 1) is thing
    with thing as entered:
        assert entered is thing
    thing.attribute = 3  # ignored, no error


def test_install_from_env_needs_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(standins.ROOTS_ENV, raising=False)
    assert standins.install_from_env() is None


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_require_hook_stands_in_for_missing_modules(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "lib").mkdir(parents=True)
    (package / "package.json").write_text(
        '{"name": "t", "version": "1.0.0", "main": "lib/main.js"}'
    )
    (package / "lib" / "main.js").write_text(
        "const axios = require('zz-packguard-missing');\n"
        "const fp = require('zz-packguard-missing-too/fp');\n"
        "const addon = require('./build/Release/addon.node');\n"
        "const got = axios.create().get('http://x.invalid');\n"
        "const seen = [typeof got.then, String(axios), typeof fp.map, typeof addon];\n"
        "console.log(JSON.stringify(seen));\n"
    )
    log = tmp_path / "stand-ins.log"
    completed = subprocess.run(
        [*NODE_WITH_HOOK, str(HOOKS_DIR / "require_driver.js"), str(package), "200"],
        env={"PACKGUARD_STANDIN_ROOTS": str(package), "PACKGUARD_STANDIN_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == '["undefined","","function","function"]'
    assert f"packguard: required {package}" in completed.stderr
    assert log.read_text().split() == [
        "zz-packguard-missing",
        "zz-packguard-missing-too/fp",
        "./build/Release/addon.node",
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_hook_leaves_requires_outside_the_roots_alone(tmp_path: Path) -> None:
    script = tmp_path / "outside.js"
    script.write_text("try { require('zz-packguard-missing') } catch (e) { console.log(e.code) }\n")
    completed = subprocess.run(
        [*NODE_WITH_HOOK, str(script)],
        env={"PACKGUARD_STANDIN_ROOTS": str(tmp_path / "package")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stdout.strip() == "MODULE_NOT_FOUND"


ESM_MANIFEST = (
    '{"name": "t", "version": "1.0.0", "type": "module", "exports": '
    '{".": {"import": {"types": "./t.d.ts", "default": "./src/index.js"}, '
    '"require": "./cjs/index.cjs"}}}'
)
ESM_INDEX = """
import dflt, { formatISO, parse as renamed } from 'zz-packguard-missing-esm';
export { helper } from 'zz-packguard-missing-esm-too/sub';
import * as whole from 'zz-packguard-missing-esm-three';
import { mark } from './side.js';
const seen = [typeof dflt, typeof formatISO, typeof renamed, typeof whole.default];
console.log(JSON.stringify(['esm', ...seen, String(formatISO(1)), mark]));
"""


def run_driver(package: Path, log: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NODE_WITH_HOOK, str(HOOKS_DIR / "require_driver.js"), str(package), "200"],
        env={"PACKGUARD_STANDIN_ROOTS": str(package), "PACKGUARD_STANDIN_LOG": str(log)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_driver_imports_es_module_entries_with_stand_ins(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "src").mkdir(parents=True)
    (package / "cjs").mkdir()
    (package / "package.json").write_text(ESM_MANIFEST)
    (package / "src" / "index.js").write_text(ESM_INDEX)
    (package / "src" / "side.js").write_text("export const mark = 'side';\n")
    (package / "cjs" / "index.cjs").write_text(
        "const dep = require('zz-packguard-missing-cjs');\nconsole.log(typeof dep.x);\n"
    )
    log = tmp_path / "stand-ins.log"
    completed = run_driver(package, log)
    assert completed.returncode == 0, completed.stderr
    # The ES build (no main, no index.js: the exports map names it) and the CommonJS one.
    assert completed.stdout.splitlines() == [
        '["esm","function","function","function","function","","side"]',
        "function",
    ]
    assert f"packguard: imported {package}/src/index.js" in completed.stderr
    assert f"packguard: required {package}/cjs/index.cjs" in completed.stderr
    assert log.read_text().split() == [
        "zz-packguard-missing-esm",
        "zz-packguard-missing-esm-too/sub",
        "zz-packguard-missing-esm-three",
        "zz-packguard-missing-cjs",
    ]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_driver_imports_mjs_main_and_reports_a_package_without_entry(
    tmp_path: Path,
) -> None:
    package = tmp_path / "package"
    package.mkdir()
    (package / "package.json").write_text('{"name": "t", "version": "1.0.0", "main": "m.mjs"}')
    (package / "m.mjs").write_text(
        "import x from 'zz-packguard-missing';\nconsole.log(typeof x);\n"
    )
    completed = run_driver(package, tmp_path / "log")
    assert (completed.returncode, completed.stdout) == (0, "function\n"), completed.stderr
    assert f"packguard: imported {package}/m.mjs" in completed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "package.json").write_text('{"name": "e", "version": "1.0.0"}')
    completed = run_driver(empty, tmp_path / "log2")
    assert completed.returncode == 0
    assert f"packguard: no entry point in {empty}" in completed.stderr


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_node_esm_hook_leaves_imports_outside_the_roots_alone(tmp_path: Path) -> None:
    script = tmp_path / "outside.mjs"
    script.write_text("import('zz-packguard-missing').catch((e) => console.log(e.code));\n")
    completed = subprocess.run(
        [*NODE_WITH_HOOK, str(script)],
        env={"PACKGUARD_STANDIN_ROOTS": str(tmp_path / "package")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.stdout.strip() == "ERR_MODULE_NOT_FOUND"
