"""The ``metadata`` engine: checks on the package's identity rather than its code.

A rule's ``match`` is ``check: typosquat | name-mismatch``:

- ``typosquat``: the package name (as declared with ``--name``, else as its metadata
  says) is a near copy of a popular name of its ecosystem (``metadata.typosquat``);
- ``name-mismatch``: the declared name differs from what the artifact's own metadata or
  sdist folder says (a renamed or swapped artifact).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from packguard.analyzer.engines.base import EngineResult, Hit, ScanContext, cap_snippet
from packguard.analyzer.inventory import TreeFile
from packguard.analyzer.metadata.identity import NameClaim, content_names, sdist_root_name
from packguard.analyzer.metadata.popular import load_popular
from packguard.analyzer.metadata.typosquat import find_squat, normalize
from packguard.analyzer.rulespec import RuleSpec


class MetadataMatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    check: Literal["typosquat", "name-mismatch"]


class MetadataEngine:
    def validate(self, spec: RuleSpec) -> None:
        MetadataMatch.model_validate(spec.match)

    def scan(
        self, files: Sequence[TreeFile], specs: Sequence[RuleSpec], context: ScanContext
    ) -> EngineResult:
        result = EngineResult()
        claims = content_names(files, context.ecosystem)
        for spec in specs:
            check = MetadataMatch.model_validate(spec.match).check
            if check == "typosquat":
                result.hits.extend(_typosquat(spec, context, claims))
            else:
                result.hits.extend(_mismatch(spec, context, claims, files))
        return result


def _typosquat(spec: RuleSpec, context: ScanContext, claims: list[NameClaim]) -> Iterator[Hit]:
    name = context.declared_name or (claims[0].name if claims else None)
    if not name:
        return
    popular = load_popular(context.ecosystem)
    squat = find_squat(name, context.ecosystem, popular)
    if squat is not None:
        claim = next((c for c in claims if c.name == name), None)
        file, line = (claim.file, claim.line) if claim else (None, None)
        yield Hit(spec.id, file, line, cap_snippet(squat.describe(name)))


def _mismatch(
    spec: RuleSpec, context: ScanContext, claims: list[NameClaim], files: Sequence[TreeFile]
) -> Iterator[Hit]:
    declared = context.declared_name
    if not declared:
        return
    wanted = normalize(declared, context.ecosystem)
    for claim in claims:
        if normalize(claim.name, context.ecosystem) != wanted:
            text = f"declared {declared!r}, {claim.file} says {claim.name!r}"
            yield Hit(spec.id, claim.file, claim.line, cap_snippet(text))
    root = sdist_root_name(files) if context.ecosystem == "pypi" else None
    if root is not None and normalize(root, "pypi") != wanted:
        yield Hit(spec.id, None, None, cap_snippet(f"declared {declared!r}, sdist folder {root!r}"))
