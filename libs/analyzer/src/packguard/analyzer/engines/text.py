"""The ``text`` engine: line patterns over code and script files, for indicators that look
the same in any language (URLs, mining pools, LOLBins, ``.pth`` lines).

A rule's ``match`` is ``any_of`` a list of patterns, or ``matcher: <rule-id>``::

    line: ['stratum\\+tcp://']   regexes searched per line (``^``/``$`` anchor at lines)
    requires: ['CreateThread']   the file must also match one of these somewhere
    keywords: [stratum]          the patterns are only tried on files containing one of
                                 these words (any case): a fast pre-filter

Only code, scripts and configuration are read (Python, JavaScript, JSON, shell and
Windows scripts, .pth, ini/toml/yaml); documentation, licences, source maps and C or
Fortran sources are not: words about a technique are not the technique. Each hit carries
file:line and the text around the match.

Every such file is read whatever its size: one over ``WINDOW_CHARS`` is read in windows
of whole lines (``text_windows``), where ``requires`` and ``keywords`` apply per window.
The syntax-tree engines skip such files, so these rules are what still sees a payload
hidden in a huge one. Each distinct content is read once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from packguard.analyzer.engines.base import (
    MAX_EVIDENCE_PER_FINDING,
    EngineResult,
    Hit,
    ScanContext,
    cap_snippet,
    check_regexes,
    compile_globs,
    group_by_content,
    listed,
)
from packguard.analyzer.engines.indicators import ip_address_matches
from packguard.analyzer.engines.text_windows import WINDOW_CHARS, text_windows
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

CODE_TYPES = frozenset({"python", "javascript", "json"})
SCRIPT_SUFFIXES = frozenset(
    {".sh", ".bash", ".zsh", ".bat", ".cmd", ".ps1", ".psm1", ".vbs", ".pth", ".cfg", ".ini"}
    | {".toml", ".yml", ".yaml", ".gyp", ".gypi", ".ts", ".mts", ".cts", ".pyx", ".py3"}
)
SKIPPED_SUFFIXES = frozenset({".map", ".min.map"})
_CONTEXT_BEFORE = 60

TextMatcher = Callable[[str, str], Iterator[re.Match[str]]]
"""(text, lowercased text) → matches."""
TEXT_MATCHERS: dict[str, TextMatcher] = {"indicator-ip-address": ip_address_matches}


class TextPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line: tuple[str, ...] = Field(min_length=1)
    requires: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _compiles(self) -> TextPattern:
        check_regexes([*self.line, *self.requires])
        return self


class TextMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[TextPattern, ...] = ()
    matcher: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TextMatch:
        if bool(self.any_of) == (self.matcher is not None):
            raise ValueError("give either `any_of` patterns or a `matcher`")
        if self.matcher is not None and self.matcher not in TEXT_MATCHERS:
            raise ValueError(f"no text matcher named {self.matcher!r}")
        return self


@dataclass(frozen=True)
class _Pattern:
    line: re.Pattern[str]
    requires: re.Pattern[str] | None
    keywords: tuple[str, ...]

    def matches(self, text: str, lowered: str) -> Iterator[re.Match[str]]:
        if self.keywords and not any(keyword in lowered for keyword in self.keywords):
            return
        if self.requires is not None and self.requires.search(text) is None:
            return
        yield from self.line.finditer(text)


@dataclass(frozen=True)
class _Rule:
    spec: RuleSpec
    paths: re.Pattern[str]
    finders: tuple[TextMatcher, ...]


def _compile(spec: RuleSpec) -> _Rule:
    match = TextMatch.model_validate(spec.match)
    finders: list[TextMatcher] = [
        _Pattern(
            re.compile("|".join(f"(?:{p})" for p in pattern.line), re.M),
            re.compile("|".join(f"(?:{p})" for p in pattern.requires), re.M)
            if pattern.requires
            else None,
            tuple(keyword.lower() for keyword in pattern.keywords),
        ).matches
        for pattern in match.any_of
    ]
    if match.matcher is not None:
        finders.append(TEXT_MATCHERS[match.matcher])
    return _Rule(spec, compile_globs(spec.paths), tuple(finders))


def is_read(tree_file: TreeFile) -> bool:
    path = PurePosixPath(tree_file.member_path)
    suffix = path.suffix.lower()
    if tree_file.file_type in CODE_TYPES:
        return suffix not in SKIPPED_SUFFIXES
    return tree_file.file_type == "text" and suffix in SCRIPT_SUFFIXES


class TextEngine:
    def validate(self, spec: RuleSpec) -> None:
        TextMatch.model_validate(spec.match)

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        rules = [_compile(spec) for spec in specs]
        result = EngineResult()
        windowed: list[str] = []
        selected = [
            (tree_file, wanted)
            for tree_file in files
            if is_read(tree_file)
            and (wanted := [rule for rule in rules if rule.paths.match(tree_file.member_path)])
        ]
        for group in group_by_content(selected):
            found: dict[tuple[str, ...], list[_Found]] = {}
            for tree_file, wanted in group:
                key = tuple(rule.spec.id for rule in wanted)
                if key not in found:
                    found[key] = list(_file_hits(wanted, tree_file))
                result.hits.extend(Hit(hit.rule_id, tree_file.path, *hit[1:]) for hit in found[key])
                if tree_file.size > WINDOW_CHARS:
                    windowed.append(tree_file.path)
        if windowed:
            result.notes.append(
                f"text files over {WINDOW_CHARS >> 20} MiB, read in windows: " + listed(windowed)
            )
        return result


class _Found(NamedTuple):
    rule_id: str
    line: int
    snippet: str


def _file_hits(rules: Sequence[_Rule], tree_file: TreeFile) -> Iterator[_Found]:
    """A file's hits, window by window. Each finder stops at ``MAX_EVIDENCE_PER_FINDING``
    lines of a file: matches come in order, and a finding shows no more than its first
    lines, so a data file full of URLs is not read to its end for them."""
    reported: set[tuple[str, int]] = set()  # windows overlap: a line may be seen twice
    finders = [(rule, finder, set[int]()) for rule in rules for finder in rule.finders]
    for window in text_windows(tree_file.disk_path):
        active = [entry for entry in finders if len(entry[2]) < MAX_EVIDENCE_PER_FINDING]
        if not active:
            return  # nothing further in the file could be reported
        text, lines = window.text, _LineCounter(window.text)
        lowered = text.lower()
        for rule, finder, found in active:
            for match in finder(text, lowered):
                start = match.start()
                line = lines.number(start) + window.first_line - 1
                found.add(line)
                if (rule.spec.id, line) not in reported:
                    reported.add((rule.spec.id, line))
                    # The context before the match, from its own line only.
                    floor = max(start - _CONTEXT_BEFORE, 0)
                    begin = max(text.rfind("\n", floor, start) + 1, floor)
                    snippet = cap_snippet(text[begin : match.end() + 80])
                    yield _Found(rule.spec.id, line, snippet)
                if len(found) >= MAX_EVIDENCE_PER_FINDING:
                    break


class _LineCounter:
    """Line numbers of offsets in ``text``, counted on from the last offset asked: matches
    come in order, and a data file can have millions of lines but few matches."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._offset = 0
        self._line = 1

    def number(self, offset: int) -> int:
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self._text.count("\n", self._offset, offset)
        self._offset = offset
        return self._line
