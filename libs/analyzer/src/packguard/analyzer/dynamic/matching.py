"""Dynamic rules: the ``match`` shape of ``engine: dynamic`` rule files, and matching it.

::

    match:
      any_of:                 # a hit for every observation matching one pattern
        - event: file         # process | file | connect | dns | http | tls | sent | limit
          bait: true
          access: [read, list]
    match:
      all_of:                 # one hit when every requirement matched in the same phase
        - {event: file, bait: true}
        - any_of: [{event: [dns, http, tls]}, {event: connect, remote: true}]

Pattern fields (all optional but ``event``): ``phases`` (install, import), ``programs``
(regexes matched against the whole program name), ``subject`` (regexes searched in the
path, command line, address, host or limit (memory, processes, disk); paths under HOME
read ``~/...``), ``access`` (read, write, delete, list), and the flags ``bait``, ``ok``,
``package_spawned``, ``dropped``, ``outside``, ``remote``. An ``all_of`` hit is placed
on the observation that completed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from packguard.analyzer.dynamic.observations import Kind, Observation

Access = Literal["read", "write", "delete", "list"]


class EventPattern(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event: tuple[Kind, ...] = Field(min_length=1)
    phases: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    access: tuple[Access, ...] = ()
    bait: bool | None = None
    ok: bool | None = None
    package_spawned: bool | None = None
    dropped: bool | None = None
    outside: bool | None = None
    remote: bool | None = None

    @field_validator("event", "phases", "programs", "subject", "access", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("programs", "subject")
    @classmethod
    def _regexes(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(f"(?:{pattern})")  # wrapped as ``matches`` joins them
            except re.error as error:
                raise ValueError(f"invalid regex {pattern!r}: {error}") from None
        return patterns

    @cached_property
    def _programs(self) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in self.programs)) if self.programs else None

    @cached_property
    def _subject(self) -> re.Pattern[str] | None:
        return re.compile("|".join(f"(?:{p})" for p in self.subject)) if self.subject else None

    def matches(self, seen: Observation) -> bool:
        if seen.kind not in self.event or (self.phases and seen.phase not in self.phases):
            return False
        if self.access and seen.access not in self.access:
            return False
        flags = (
            (self.bait, seen.bait),
            (self.ok, seen.ok),
            (self.package_spawned, seen.package_spawned),
            (self.dropped, seen.dropped),
            (self.outside, seen.outside),
            (self.remote, seen.remote),
        )
        if any(wanted is not None and wanted != actual for wanted, actual in flags):
            return False
        if self._programs is not None and not self._programs.fullmatch(seen.program):
            return False
        return self._subject is None or bool(self._subject.search(seen.subject))


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[EventPattern, ...] = Field(min_length=1)

    def matches(self, seen: Observation) -> bool:
        return any(pattern.matches(seen) for pattern in self.any_of)


class DynamicMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    any_of: tuple[EventPattern, ...] = ()
    all_of: tuple[EventPattern | AnyOf, ...] = ()

    @model_validator(mode="after")
    def _exactly_one(self) -> DynamicMatch:
        if bool(self.any_of) == bool(self.all_of):
            raise ValueError("a dynamic rule matches with exactly one of any_of or all_of")
        return self


@dataclass(frozen=True)
class DynamicHit:
    rule_id: str
    phase: str
    syscall: str
    snippet: str
    line: int | None = None


def match_observations(
    rules: Sequence[tuple[str, DynamicMatch]], observations: Sequence[Observation]
) -> list[DynamicHit]:
    """Hits of each ``(rule id, match)`` over one phase's observations, in order."""
    hits: list[DynamicHit] = []
    for rule_id, match in rules:
        if match.any_of:
            hits += [
                _hit(rule_id, seen)
                for seen in observations
                if any(pattern.matches(seen) for pattern in match.any_of)
            ]
            continue
        firsts = [next((s for s in observations if req.matches(s)), None) for req in match.all_of]
        if all(seen is not None for seen in firsts):
            found = [seen for seen in firsts if seen is not None]
            last = max(found, key=lambda seen: seen.line or 0)
            snippet = "; ".join(dict.fromkeys(seen.snippet for seen in found))
            hits.append(DynamicHit(rule_id, last.phase, last.syscall, snippet[:400], last.line))
    return hits


def _hit(rule_id: str, seen: Observation) -> DynamicHit:
    return DynamicHit(rule_id, seen.phase, seen.syscall, seen.snippet, seen.line)
