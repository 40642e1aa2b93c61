"""Metric names: those the services export (read from their source) and those a PromQL
expression (alert rule, dashboard panel) refers to."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.unit.k8s.manifests import REPO

SOURCE_ROOTS = (*sorted((REPO / "services").glob("*/src")), REPO / "libs" / "common" / "src")
_CONSTRUCTORS = {"counter": "counter", "gauge": "gauge", "histogram": "histogram"}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}
_LITERAL = re.compile(r"""["'](packguard_[a-z0-9_]+)["']""")
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "inf",
        "nan",
    }
)


def declared_metrics() -> dict[str, str]:
    """``name -> type`` of every Prometheus metric the services and libs/common create."""
    found: dict[str, str] = {}
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Call) and node.args:
                    first = node.args[0]
                    if isinstance(first, ast.Constant) and str(first.value).startswith(
                        "packguard_"
                    ):
                        callee = node.func
                        name = callee.attr if isinstance(callee, ast.Attribute) else ""
                        name = callee.id if isinstance(callee, ast.Name) else name
                        if name.lower() in _CONSTRUCTORS:
                            found[str(first.value)] = _CONSTRUCTORS[name.lower()]
    return found


def literal_metric_names() -> set[str]:
    """Every ``"packguard_..."`` string in the same sources, as a plain grep would see it."""
    names: set[str] = set()
    for root in SOURCE_ROOTS:
        for path in root.rglob("*.py"):
            names |= set(_LITERAL.findall(path.read_text()))
    return names


def exposed_series(declared: dict[str, str]) -> set[str]:
    """The series names a scrape of those metrics shows (prometheus_client's naming)."""
    series: set[str] = set()
    for name, kind in declared.items():
        base = name.removesuffix("_total") if kind == "counter" else name
        series |= {base + suffix for suffix in _SUFFIXES[kind]}
    return series


def referenced_metrics(expr: str) -> set[str]:
    """Metric names in a PromQL expression (Grafana variables count as numbers)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\$\{?\w+\}?", "1", text)
    names: set[str] = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        if text[match.end() :].lstrip().startswith("(") or token.lower() in _KEYWORDS:
            continue
        names.add(token)
    return names


def dashboard_exprs(path: Path) -> list[str]:
    import json

    board = json.loads(path.read_text())
    return [
        target["expr"]
        for panel in board["panels"]
        for target in panel.get("targets", [])
        if target.get("expr")
    ]
