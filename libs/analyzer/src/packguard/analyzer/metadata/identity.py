"""What the package says it is, read from its own files: the name in PKG-INFO / METADATA,
in package.json, and the sdist's ``<name>-<version>/`` root folder."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import HeaderParser
from typing import Any

from packguard.analyzer.inventory import TreeFile

MAX_METADATA_BYTES = 1 << 20
_PYPI_METADATA = re.compile(r"^(?:[^/]+/)?PKG-INFO$|^[^/]+\.dist-info/METADATA$")
_NPM_MANIFEST = re.compile(r"^(?:[^/]+/)?package\.json$")


@dataclass(frozen=True)
class NameClaim:
    """One place in the artifact that names the package."""

    name: str
    file: str
    line: int | None


def content_names(files: Sequence[TreeFile], ecosystem: str) -> list[NameClaim]:
    claims = []
    for tree_file in files:
        if tree_file.size > MAX_METADATA_BYTES:
            continue
        if ecosystem == "pypi" and _PYPI_METADATA.match(tree_file.member_path):
            claim = _metadata_name(tree_file)
        elif ecosystem == "npm" and _NPM_MANIFEST.match(tree_file.member_path):
            claim = _manifest_name(tree_file)
        else:
            continue
        if claim is not None:
            claims.append(claim)
    return claims


def _metadata_name(tree_file: TreeFile) -> NameClaim | None:
    text = tree_file.disk_path.read_bytes().decode("utf-8", "replace")
    name = HeaderParser().parsestr(text.split("\n\n", 1)[0]).get("Name")
    if not name:
        return None
    lines = text.splitlines()
    line = next((n for n, t in enumerate(lines, 1) if t.lower().startswith("name:")), None)
    return NameClaim(str(name).strip(), tree_file.path, line)


def _manifest_name(tree_file: TreeFile) -> NameClaim | None:
    raw = tree_file.disk_path.read_bytes()
    try:
        data: Any = json.loads(raw.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        return None
    lines = raw.decode("utf-8", "replace").splitlines()
    line = next((n for n, t in enumerate(lines, 1) if '"name"' in t), None)
    return NameClaim(name, tree_file.path, line)


def sdist_root_name(files: Sequence[TreeFile]) -> str | None:
    """``name`` of an sdist's single ``name-version/`` root folder (PKG-INFO beside it)."""
    for tree_file in files:
        parts = tree_file.member_path.split("/")
        if len(parts) == 2 and parts[1] == "PKG-INFO" and "-" in parts[0]:
            return parts[0].rsplit("-", 1)[0]
    return None
