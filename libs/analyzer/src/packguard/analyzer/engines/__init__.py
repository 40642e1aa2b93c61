"""Rule engines, keyed by the ``engine`` name rule files use."""

from __future__ import annotations

from packguard.analyzer.engines.archive import ArchiveEngine
from packguard.analyzer.engines.base import Engine, EngineResult, Hit
from packguard.analyzer.engines.manifest import ManifestEngine
from packguard.analyzer.engines.python_ast import PythonAstEngine

__all__ = ["ENGINES", "Engine", "EngineResult", "Hit"]

# Engines are stateless; adding one (tree-sitter ``js``, ``yara``) is one line here.
ENGINES: dict[str, Engine] = {
    "archive": ArchiveEngine(),
    "manifest": ManifestEngine(),
    "python-ast": PythonAstEngine(),
}
