"""Rule specifications: one YAML file per rule, parsed into ``RuleSpec``.

Layout: ``rules/<category>/<rule-id>.yaml``. The id is the finding code users see: it is
kebab-case, starts with its category, equals the file stem, and is never reused.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from packguard.common.report import Severity

Ecosystem = Literal["npm", "pypi"]
ECOSYSTEMS: tuple[str, ...] = get_args(Ecosystem)

_KEBAB = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_KEBAB)
    title: str = Field(min_length=1, max_length=120)
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0)
    category: str = Field(pattern=_KEBAB)
    ecosystems: tuple[Ecosystem, ...] = Field(min_length=1)
    engine: str = Field(pattern=_KEBAB)
    description: str = Field(min_length=1)
    evidence: str = Field(min_length=1)
    """What a finding's evidence holds (file, line, snippet), in words."""
    paths: tuple[str, ...] = ("**",)
    """Globs over tree-relative paths (``*`` stays within a segment, ``**`` spans any)."""
    match: dict[str, Any] = Field(default_factory=dict)
    """The engine's pattern; each engine validates its own shape."""

    @model_validator(mode="after")
    def _id_names_category(self) -> RuleSpec:
        if not self.id.startswith(f"{self.category}-"):
            raise ValueError(f"rule id {self.id!r} must start with its category {self.category!r}")
        return self


class RuleFileError(ValueError):
    """A rule file is misplaced, misnamed or not valid YAML for a ``RuleSpec``."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise RuleFileError(f"duplicate keys {sorted(map(str, duplicates))}")
        return super().construct_mapping(node, deep=deep)


def default_rules_root() -> Traversable:
    return files("packguard.analyzer") / "rules"


def read_rule_specs(root: Traversable | None = None) -> tuple[RuleSpec, ...]:
    """Every rule under ``root``, sorted by id. Raises ``RuleFileError``."""
    root = root if root is not None else default_rules_root()
    specs: list[RuleSpec] = []
    for category in sorted(root.iterdir(), key=lambda item: item.name):
        if not category.is_dir() or category.name.startswith(("_", ".")):
            continue
        for item in sorted(category.iterdir(), key=lambda entry: entry.name):
            if item.name.endswith(".yaml"):
                specs.append(_read_one(item, category.name))
    ids = [spec.id for spec in specs]
    if len(set(ids)) != len(ids):
        raise RuleFileError("duplicate rule ids")
    return tuple(sorted(specs, key=lambda spec: spec.id))


def _read_one(item: Traversable, category: str) -> RuleSpec:
    where = f"{category}/{item.name}"
    try:
        data = yaml.load(item.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
        spec = RuleSpec.model_validate(data)
    except (yaml.YAMLError, ValueError) as error:
        raise RuleFileError(f"{where}: {error}") from error
    if spec.id != item.name.removesuffix(".yaml") or spec.category != category:
        raise RuleFileError(f"{where}: file must be rules/{spec.category}/{spec.id}.yaml")
    return spec
