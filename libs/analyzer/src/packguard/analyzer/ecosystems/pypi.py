"""PyPI: pip installs the file offline into a scratch venv, then its modules are imported.

``pip install --no-deps --no-build-isolation --no-index`` runs exactly what installing the
artifact runs (an sdist's ``setup.py`` or build backend; nothing for a wheel) and nothing
else. ``--no-build-isolation`` builds with what the venv can import: the image's pinned
build backends (``BUILD_BACKENDS_DIR``: setuptools, hatchling, flit-core, poetry-core,
pdm-backend, setuptools-scm..., put on the venv's path by a ``.pth``), then the system's
(``--system-site-packages``). Isolation would need an index to fetch ``build-system.requires``
from, would refuse versions other than those asked for, and would hide the stand-in hook,
which the venv carries as a ``.pth`` too.
The import phase imports the top-level modules the installed ``RECORD`` lists, or, when
the build failed, those found in the sdist's own tree.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from pathlib import Path

from packguard.analyzer.ecosystems.base import PhaseSetupError, Step, Workspace

SYSTEM_PYTHON = "/usr/bin/python3"
STANDIN_MODULE = "_packguard_standins"
BUILD_BACKENDS_DIR = "/opt/packguard-backends"
"""Where the analyzer image installs the build backends (libs/analyzer/image/Dockerfile)."""
BUILD_BACKENDS_ENV = "PACKGUARD_BUILD_BACKENDS"
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip holds
MAX_MODULES = 20
PYTHON = r"python[0-9.]*"
_VENV_TIMEOUT_SECONDS = 60
_NOT_MODULES = frozenset({"setup", "conftest", "noxfile", "fabfile", "tasks", "__pycache__"})
_PIP_OPTIONS = (
    "--no-deps",
    "--no-build-isolation",
    "--no-index",
    "--no-cache-dir",
    "--no-compile",
    "--no-input",
    "--disable-pip-version-check",
    "--no-warn-script-location",
)


class PypiPhases:
    name: str = "pypi"
    source_globs: tuple[str, ...] = (
        "**/*.py",
        "**/*.pyw",
        "**/*.pth",
        "**/*.pyx",
        "**/setup.cfg",
        "**/*.toml",
    )

    def prepare(self, workspace: Workspace) -> None:
        venv = _venv(workspace)
        python = os.environ.get("PACKGUARD_SYSTEM_PYTHON", SYSTEM_PYTHON)
        command = [python, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=_VENV_TIMEOUT_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PhaseSetupError(f"cannot create the venv: {error}") from error
        if done.returncode != 0:
            raise PhaseSetupError(f"cannot create the venv: {done.stderr.strip()[-300:]}")
        site = site_packages(venv)
        backends = Path(os.environ.get(BUILD_BACKENDS_ENV, BUILD_BACKENDS_DIR))
        if backends.is_dir():  # in the image; elsewhere pip builds with what the system has
            (site / "_packguard_backends.pth").write_text(f"{backends}\n", encoding="utf-8")
        shutil.copyfile(workspace.hooks / "standins.py", site / f"{STANDIN_MODULE}.py")
        (site / f"{STANDIN_MODULE}.pth").write_text(
            f"import {STANDIN_MODULE}; {STANDIN_MODULE}.install_from_env()\n", encoding="utf-8"
        )

    def install_steps(self, workspace: Workspace) -> list[Step]:
        python = str(_venv(workspace) / "bin" / "python")
        argv = (python, "-m", "pip", "install", *_PIP_OPTIONS, str(workspace.artifact))
        env = {
            "PIP_CONFIG_FILE": os.devnull,
            "PYTHONDONTWRITEBYTECODE": "1",
            # Wheels are zips, which cannot date files before 1980: sdists whose members
            # say 1970 (reproducible builds zero them) only build when backends (flit,
            # setuptools) take the date from here instead.
            "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH,
            # setup.py runs from pip's build dir under TMPDIR
            "PACKGUARD_STANDIN_ROOTS": str(workspace.tmp),
        }
        # depth 0 is pip, depth 1 its build hook process: the package's code runs there.
        return [
            Step("pip install", argv, workspace.root, env, tooling_depth=2, host_programs=PYTHON)
        ]

    def import_steps(self, workspace: Workspace, *, installed: bool) -> list[Step]:
        venv = _venv(workspace)
        site = site_packages(venv)
        paths: list[Path] = []
        modules = installed_modules(site) if installed else []
        if not modules:
            paths, modules = source_modules(workspace.tree)
        if not modules:
            return []
        # -I: our driver's directory stays off sys.path; -B: no bytecode written anywhere.
        argv = [str(venv / "bin" / "python"), "-I", "-B"]
        argv.append(str(workspace.hooks / "import_driver.py"))
        argv.append(str(workspace.settle_seconds))
        for path in paths:
            argv += ["--path", str(path)]
        argv += modules[:MAX_MODULES]
        roots = os.pathsep.join(str(p) for p in (site, *paths))
        env = {"PYTHONDONTWRITEBYTECODE": "1", "PACKGUARD_STANDIN_ROOTS": roots}
        return [Step("import", tuple(argv), workspace.root, env, host_programs=PYTHON)]

    def package_paths(self, workspace: Workspace) -> tuple[Path, ...]:
        return (_venv(workspace), workspace.tree)


def _venv(workspace: Workspace) -> Path:
    return workspace.root / "venv"


def site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise PhaseSetupError(f"no site-packages in {venv}")
    return found[0]


def installed_modules(site: Path) -> list[str]:
    """Top-level importable names listed in the ``RECORD`` of what pip installed."""
    names: set[str] = set()
    for record in sorted(site.glob("*.dist-info/RECORD")):
        try:
            rows = list(csv.reader(record.read_text(encoding="utf-8").splitlines()))
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        for row in rows:
            name = _module_name(row[0] if row else "")
            if name:
                names.add(name)
    return sorted(names)


def _module_name(path: str) -> str | None:
    first, slash, _ = path.partition("/")
    if not slash:
        stem = first.split(".", 1)[0]
        is_module = first.endswith(".py") or first.endswith((".so", ".pyd"))
        return stem if is_module and _is_importable(stem) else None
    if first.endswith((".dist-info", ".data")) or first.startswith(".."):
        return None
    return first if _is_importable(first) else None


def _is_importable(name: str) -> bool:
    return name.isidentifier() and name not in _NOT_MODULES and not name.startswith("_packguard")


def source_modules(tree: Path) -> tuple[list[Path], list[str]]:
    """Import roots and top-level modules of an unpacked sdist (or wheel) tree."""
    tops = [tree, *[d for d in sorted(tree.iterdir()) if d.is_dir()]] if tree.is_dir() else []
    bases = [base for top in tops for base in (top, top / "src") if base.is_dir()]
    paths: list[Path] = []
    modules: list[str] = []
    for base in bases:
        found = [
            entry.name.removesuffix(".py")
            for entry in sorted(base.iterdir())
            if _is_importable(entry.name.removesuffix(".py"))
            and (
                (entry.is_file() and entry.name.endswith(".py"))
                or (entry.is_dir() and (entry / "__init__.py").is_file())
            )
        ]
        if found:
            paths.append(base)
            modules += [name for name in found if name not in modules]
    return paths, modules


PYPI = PypiPhases()
