"""The bundled lists of most-used package names (``data/popular-<ecosystem>.txt``)."""

from __future__ import annotations

from importlib.resources import files


def load_popular(ecosystem: str) -> frozenset[str]:
    """Names as published; empty for an ecosystem without a list."""
    resource = files("packguard.analyzer.metadata") / "data" / f"popular-{ecosystem}.txt"
    if not resource.is_file():
        return frozenset()
    lines = resource.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))
