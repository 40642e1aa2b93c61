"""The analyzer runs in the sandbox: it may import only pydantic-only parts of common,
and no network, database or container client."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import packguard.analyzer

ALLOWED_COMMON = {"packguard.common.report", "packguard.common.sandbox"}
# Third-party clients must never even be loaded; the stdlib network modules are banned
# from the analyzer's own imports (pydantic itself may load urllib.parse or socket).
FORBIDDEN_CLIENTS = {"aiobotocore", "aiodocker", "aiohttp", "asyncpg", "boto3", "botocore"}
FORBIDDEN_CLIENTS |= {"docker", "httpx", "redis", "requests", "structlog", "valkey"}
FORBIDDEN_ROOTS = FORBIDDEN_CLIENTS | {"http", "socket", "ssl", "urllib"}
PACKAGE_DIR = Path(packguard.analyzer.__file__).parent


def imported_modules(source: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_analyzer_sources_import_only_allowed_modules() -> None:
    offenders = {}
    for source in PACKAGE_DIR.rglob("*.py"):
        modules = imported_modules(source)
        bad = {m for m in modules if m.split(".")[0] in FORBIDDEN_ROOTS}
        bad |= {m for m in modules if m.startswith("packguard.common") and m not in ALLOWED_COMMON}
        if bad:
            offenders[str(source.relative_to(PACKAGE_DIR))] = sorted(bad)
    assert offenders == {}


def test_analyzer_cli_import_loads_no_forbidden_module() -> None:
    probe = "import sys, packguard.analyzer.cli;print('\\n'.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
        ).stdout.split()
    )
    assert {m for m in loaded if m.split(".")[0] in FORBIDDEN_CLIENTS} == set()
    common = {m for m in loaded if m.startswith("packguard.common.")}
    assert common <= ALLOWED_COMMON
