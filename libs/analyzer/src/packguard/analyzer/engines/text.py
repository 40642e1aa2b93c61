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
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pydantic import BaseModel, ConfigDict, Field, model_validator

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    ScanContext,
    cap_snippet,
    check_regexes,
    compile_globs,
    read_capped,
)
from packguard.analyzer.engines.indicators import ip_address_matches
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

MAX_TEXT_BYTES = 4 << 20
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
        skipped = 0
        for tree_file in files:
            wanted = [rule for rule in rules if rule.paths.match(tree_file.member_path)]
            if not wanted or not is_read(tree_file):
                continue
            raw = read_capped(tree_file, MAX_TEXT_BYTES)
            if raw is None:
                skipped += 1
                continue
            result.hits.extend(_hits(wanted, tree_file.path, raw.decode("utf-8", "replace")))
        result.notes.append(f"text files: {skipped} too large")
        return result


def _hits(rules: Sequence[_Rule], path: str, text: str) -> Iterator[Hit]:
    starts: list[int] | None = None
    lowered = text.lower()
    for rule in rules:
        seen: set[int] = set()
        for finder in rule.finders:
            for match in finder(text, lowered):
                if starts is None:
                    starts = [0, *(m.end() for m in re.finditer("\n", text))]
                line = bisect.bisect_right(starts, match.start())
                if line in seen:
                    continue
                seen.add(line)
                begin = max(starts[line - 1], match.start() - _CONTEXT_BEFORE)
                yield Hit(rule.spec.id, path, line, cap_snippet(text[begin : match.end() + 80]))
