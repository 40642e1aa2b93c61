"""setup() replaces an install-time command (install, develop, egg_info...) with its own."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from packguard.analyzer.engines.python_facts import PyModule
from packguard.analyzer.engines.python_flow import names_pattern

_SETUP = names_pattern("setup", "setuptools.setup", "distutils.core.setup")
# Build steps (build_ext, build_py) are routinely customised; these run user code on
# every install, or whenever pip asks for metadata.
INSTALL_COMMANDS = frozenset(
    {"install", "develop", "egg_info", "bdist_egg", "bdist_wheel", "easy_install", "install_lib"}
)


def lines(module: PyModule) -> Iterator[int]:
    facts = module.facts
    values = {name: value for names, value in facts.assignments for name in names}
    for site in facts.calls:
        if site.name is None or not _SETUP.match(site.name):
            continue
        for keyword in site.node.keywords:
            if keyword.arg != "cmdclass":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = values.get(value.id, value)
            yield from _overrides(value, site.node.lineno)


def _overrides(value: ast.expr, fallback: int) -> Iterator[int]:
    if isinstance(value, ast.Dict):
        for key in value.keys:
            if isinstance(key, ast.Constant) and key.value in INSTALL_COMMANDS:
                yield key.lineno
    elif isinstance(value, ast.Call):
        for keyword in value.keywords:
            if keyword.arg in INSTALL_COMMANDS:
                yield keyword.value.lineno or fallback
