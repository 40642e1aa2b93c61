"""Rule engines, keyed by the ``engine`` name rule files use."""

from __future__ import annotations

from packguard.analyzer.dynamic.engine import DynamicEngine
from packguard.analyzer.engines.archive import ArchiveEngine
from packguard.analyzer.engines.base import Engine, EngineResult, Hit, ScanContext
from packguard.analyzer.engines.js import JsEngine
from packguard.analyzer.engines.manifest import ManifestEngine
from packguard.analyzer.engines.metadata import MetadataEngine
from packguard.analyzer.engines.python_ast import PythonAstEngine
from packguard.analyzer.engines.text import TextEngine

__all__ = ["ENGINES", "Engine", "EngineResult", "Hit", "ScanContext"]

# Engines are stateless; adding one (``yara``) is one line here.
ENGINES: dict[str, Engine] = {
    "archive": ArchiveEngine(),
    "dynamic": DynamicEngine(),  # runs on traces (analyze keeps it out of the static phase)
    "js": JsEngine(),
    "manifest": ManifestEngine(),
    "metadata": MetadataEngine(),
    "python-ast": PythonAstEngine(),
    "text": TextEngine(),
}
