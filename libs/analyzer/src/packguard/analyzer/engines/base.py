"""What every rule engine provides, and the hit it reports.

An engine owns the ``match`` shape of its rules (validated at load) and turns tree files
into ``Hit`` values; ``ruleset`` turns hits into findings. A new engine (tree-sitter JS,
YARA) is one module implementing ``Engine`` plus one line in ``engines.ENGINES``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

SNIPPET_CHARS = 200
# Enough to judge and to find the rest; a noisy rule must not bloat the report.
MAX_EVIDENCE_PER_FINDING = 20
_LISTED_PATHS = 5
_T = TypeVar("_T")


@dataclass(frozen=True)
class Hit:
    rule_id: str
    file: str | None
    line: int | None = None
    snippet: str | None = None


@dataclass(frozen=True)
class ScanContext:
    """What an engine may know about the package besides its files."""

    ecosystem: str
    declared_name: str | None = None
    """The name the package was submitted under (``--name``), when known."""


@dataclass
class EngineResult:
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Short, countable facts worth a line in the phase detail (files skipped...)."""


class Engine(Protocol):
    def validate(self, spec: RuleSpec) -> None:
        """Raise ``ValueError`` when ``spec.match`` is not this engine's shape."""

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        """Hits of ``specs`` (all of this engine) over ``files``."""


def check_regexes(patterns: Sequence[str]) -> None:
    """Raise ``ValueError`` (what pydantic validators report) for a bad regex."""
    for pattern in patterns:
        try:
            # Wrapped as engines join them: inline global flags like ``(?i)`` must be
            # scoped (``(?i:...)``) to survive that.
            re.compile(f"(?:{pattern})")
        except re.error as error:
            raise ValueError(f"invalid regex {pattern!r}: {error}") from None


def line_snippet(lines: Sequence[str], line: int) -> str:
    return cap_snippet(lines[line - 1]) if 0 < line <= len(lines) else ""


def read_capped(tree_file: TreeFile, max_bytes: int) -> bytes | None:
    """The file's bytes, or ``None`` when it is larger than ``max_bytes``."""
    return tree_file.disk_path.read_bytes() if tree_file.size <= max_bytes else None


def group_by_content(items: Iterable[tuple[TreeFile, _T]]) -> list[list[tuple[TreeFile, _T]]]:
    """``items`` grouped by their file's content, first seen first: an engine reads each
    distinct content once and reports it under every path that holds it."""
    groups: dict[str, list[tuple[TreeFile, _T]]] = {}
    for item in items:
        groups.setdefault(item[0].content_key, []).append(item)
    return list(groups.values())


def listed(paths: Sequence[str]) -> str:
    """The first few paths and how many more: a note stays one readable line."""
    shown = ", ".join(paths[:_LISTED_PATHS])
    more = len(paths) - _LISTED_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def cap_snippet(text: str) -> str:
    # Slice before splitting: a minified line can be megabytes long.
    text = " ".join(text[: SNIPPET_CHARS * 4].split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


def _glob_regex(glob: str) -> str:
    pattern = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            pattern.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            pattern.append(".*")
            index += 2
        elif glob[index] == "*":
            pattern.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            pattern.append("[^/]")
            index += 1
        else:
            pattern.append(re.escape(glob[index]))
            index += 1
    return "".join(pattern)


def compile_globs(globs: Sequence[str]) -> re.Pattern[str]:
    """One regex for path globs: ``*`` stays within a segment, ``**`` spans any number."""
    return re.compile("(?:" + "|".join(_glob_regex(glob) for glob in globs) + r")\Z")
