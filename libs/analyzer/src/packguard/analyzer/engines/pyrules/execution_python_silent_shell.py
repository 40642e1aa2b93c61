"""A shell command started silently (output discarded, detached) when the module loads or
setup.py runs."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from packguard.analyzer.engines.python_facts import CallSite, PyModule, has_string
from packguard.analyzer.engines.python_flow import names_pattern

_SPAWN = names_pattern("subprocess.*")
_SYSTEM = names_pattern("os.system", "os.popen")
_SILENT_COMMAND = re.compile(
    r"(>|&>)\s*/dev/null|\bnohup\b|&\s*$|\bstart\s+/b\b|-WindowStyle\s+Hidden", re.I
)
_SILENT_VALUES = re.compile(
    r"DEVNULL|devnull|/dev/null|\bnul\b|CREATE_NO_WINDOW|DETACHED_PROCESS|134217728|\b8\b|0x0*8\b"
)


def _is_setup(module: PyModule) -> bool:
    return module.member_path.rsplit("/", 1)[-1] == "setup.py"


def lines(module: PyModule) -> Iterator[int]:
    facts = module.facts
    setup_time = _is_setup(module)
    for site in facts.calls:
        if site.name is None or not (site.at_module_level or setup_time):
            continue
        spawned = _SPAWN.match(site.name) is not None and _silent_shell(site)
        system = _SYSTEM.match(site.name) is not None
        if spawned or (system and has_string(site.node, _SILENT_COMMAND, facts, scope=site.scope)):
            yield site.node.lineno


def _silent_shell(site: CallSite) -> bool:
    keywords = {keyword.arg: keyword.value for keyword in site.node.keywords}
    shell = keywords.get("shell")
    if not (isinstance(shell, ast.Constant) and shell.value is True):
        return False
    # Output captured (check_output, stdout=PIPE) is read, not hidden: only a discarded
    # stdout or a hidden window counts.
    quiet = [keywords.get(name) for name in ("stdout", "creationflags")]
    return any(value is not None and _SILENT_VALUES.search(ast.unparse(value)) for value in quiet)
