"""The ``manifest`` engine: lifecycle scripts declared in npm's package.json.

A rule's ``match`` is ``any_of`` a list of patterns::

    scripts: [preinstall, install, postinstall]   script names to look at
    command: ['\\bnode\\s+(-e|--eval)\\b']          regexes over the command; none means
                                                  the script's presence alone is the hit

The manifest is parsed as JSON, never run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from packguard.analyzer.engines.base import (
    EngineResult,
    Hit,
    ScanContext,
    cap_snippet,
    check_regexes,
    compile_globs,
)
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.rulespec import RuleSpec

MAX_MANIFEST_BYTES = 1 << 20
# Commands are matched on a prefix: rule regexes stay linear on what they see.
MAX_COMMAND_CHARS = 8192


class ManifestPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scripts: tuple[str, ...] = Field(min_length=1)
    command: tuple[str, ...] = ()

    @field_validator("command")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        check_regexes(value)
        return value


class ManifestMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[ManifestPattern, ...] = Field(min_length=1)


def load_scripts(raw: bytes) -> dict[str, str] | None:
    """The string-valued ``scripts`` of a package.json, or ``None`` if it is not one."""
    try:
        data: Any = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    scripts = data.get("scripts")
    if not isinstance(scripts, dict):
        return {}
    return {name: value for name, value in scripts.items() if isinstance(value, str)}


def _key_line(lines: Sequence[str], key: str) -> tuple[int | None, str | None]:
    pattern = re.compile(rf'"{re.escape(key)}"\s*:')
    for number, text in enumerate(lines, start=1):
        if pattern.search(text):
            return number, text
    return None, None


class ManifestEngine:
    def validate(self, spec: RuleSpec) -> None:
        ManifestMatch.model_validate(spec.match)

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        rules = [
            (spec, compile_globs(spec.paths), ManifestMatch.model_validate(spec.match))
            for spec in specs
        ]
        result = EngineResult()
        unparsable = 0
        for tree_file in files:
            wanted = [
                (spec, match) for spec, paths, match in rules if paths.match(tree_file.member_path)
            ]
            if not wanted:
                continue
            raw = b""
            if tree_file.size <= MAX_MANIFEST_BYTES:
                raw = tree_file.disk_path.read_bytes()
            scripts = load_scripts(raw)
            if scripts is None:
                unparsable += 1
                continue
            lines = raw.decode("utf-8", "replace").splitlines()
            for spec, match in wanted:
                result.hits.extend(_hits(spec, match, scripts, lines, tree_file.path))
        result.notes.append(f"manifests: {unparsable} unparsable")
        return result


def _hits(
    spec: RuleSpec, match: ManifestMatch, scripts: dict[str, str], lines: Sequence[str], path: str
) -> Iterator[Hit]:
    seen = set()
    for pattern in match.any_of:
        regexes = [re.compile(regex) for regex in pattern.command]
        for name in pattern.scripts:
            command = scripts.get(name)
            if command is None or name in seen:
                continue
            if regexes and not any(r.search(command[:MAX_COMMAND_CHARS]) for r in regexes):
                continue
            seen.add(name)
            line, text = _key_line(lines, name)
            yield Hit(spec.id, path, line, cap_snippet(text or f'"{name}": {json.dumps(command)}'))
