"""Is a package name a near copy of a popular one? A pure decision over two names.

Techniques, each checked against every popular name of the ecosystem:

- separators: ``python_dateutil`` on npm, ``crossenv`` for ``cross-env`` (PyPI treats
  ``-``, ``_`` and ``.`` as one, so only their removal counts there);
- homoglyphs: ASCII look-alikes (``0``/``o``, ``1``/``l``, ``rn``/``m``...) and
  Unicode confusables folded to their ASCII skeleton;
- edit distance: one edit (insert, delete, substitute, swap two neighbours) for names
  of 5+ characters, two for 10+; shorter names are too dense to judge;
- npm scope confusion: ``@babel/core`` republished as ``babel-core``/``babelcore``, or a
  popular unscoped name under a foreign scope (``@evil/lodash``).

A popular name is never a squat of another popular name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA

_SEPARATORS = re.compile(r"[-_.]+")
# Multi-character look-alikes first: they are replaced before single characters.
_ASCII_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l"))
MIN_LENGTH_ONE_EDIT = 5
MIN_LENGTH_TWO_EDITS = 10


@dataclass(frozen=True)
class Squat:
    target: str
    technique: str

    def describe(self, name: str) -> str:
        return f"{name!r} looks like popular {self.target!r} ({self.technique})"


def normalize(name: str, ecosystem: str) -> str:
    lowered = name.lower()
    return _SEPARATORS.sub("-", lowered) if ecosystem == "pypi" else lowered


def skeleton(name: str) -> str:
    """The name with separators dropped and look-alike characters folded together."""
    folded = unicodedata.normalize("NFKD", name.lower())
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    folded = folded.translate(_UNICODE_CONFUSABLES)
    folded = _SEPARATORS.sub("", folded)
    for lookalike, letter in _ASCII_LOOKALIKES:
        folded = folded.replace(lookalike, letter)
    return folded


# Cyrillic and Greek letters that render like Latin ones (a small confusables table).
_UNICODE_CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁɡһӏոԛԝοαυντкмтвн",
    "aeopcyxijsdghlnqwoauvtkmtbh",
)


def find_squat(name: str, ecosystem: str, popular: Iterable[str]) -> Squat | None:
    normalized = normalize(name, ecosystem)
    targets = {normalize(target, ecosystem): target for target in popular}
    if normalized in targets:
        return None
    checks = (_scope_confusion, _separators, _homoglyphs, _edit_distance)
    for check in checks:
        for candidate, target in targets.items():
            technique = check(normalized, candidate)
            if technique is not None:
                return Squat(target, technique)
    return None


def _separators(name: str, target: str) -> str | None:
    if _SEPARATORS.sub("", name) == _SEPARATORS.sub("", target):
        return "separators changed"
    return None


def _homoglyphs(name: str, target: str) -> str | None:
    if skeleton(name) == skeleton(target) and not name.isascii():
        return "Unicode look-alike characters"
    if skeleton(name) == skeleton(target):
        return "look-alike characters"
    return None


def _edit_distance(name: str, target: str) -> str | None:
    length = min(len(name), len(target))
    allowed = 2 if length >= MIN_LENGTH_TWO_EDITS else 1 if length >= MIN_LENGTH_ONE_EDIT else 0
    if not allowed or abs(len(name) - len(target)) > allowed:
        return None
    distance = OSA.distance(name, target, score_cutoff=allowed)
    if distance <= allowed:
        return f"{distance} edit(s) away"
    return None


def _scope_confusion(name: str, target: str) -> str | None:
    if target.startswith("@") and "/" in target and not name.startswith("@"):
        scope, bare = target[1:].split("/", 1)
        flattened = {f"{scope}-{bare}", f"{scope}{bare}", f"{scope}.{bare}", f"{scope}_{bare}"}
        if name in flattened:
            return "npm scope flattened into the name"
    scoped = name.startswith("@") and "/" in name
    if scoped and not target.startswith("@") and name.split("/", 1)[1] == target:
        return "popular unscoped name under a scope"
    return None
