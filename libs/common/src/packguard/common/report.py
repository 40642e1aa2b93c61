"""The analysis report document: what the analyzer writes and the reporter stores.

Version 1. Changes within a version are additive; consumers ignore unknown fields.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

REPORT_SCHEMA_VERSION = 1


class VerdictLabel(StrEnum):
    BENIGN = "benign"
    LOW = "low"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class _Document(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ArtifactInfo(_Document):
    filename: str
    size_bytes: int
    sha256: str


class PackageInfo(_Document):
    ecosystem: str
    name: str
    version: str


class InventoryEntry(_Document):
    path: str
    size_bytes: int
    sha256: str | None = None
    kind: Literal["file", "dir", "symlink", "hardlink", "other"] = "file"
    file_type: str | None = None
    is_executable: bool = False
    is_hidden: bool = False


class Evidence(_Document):
    file: str | None = None
    line: int | None = None
    snippet: str | None = None
    phase: str | None = None
    syscall: str | None = None


class Finding(_Document):
    rule_id: str
    title: str
    severity: Severity
    confidence: float = Field(ge=0.0, le=1.0)
    category: str
    evidence: list[Evidence] = Field(default_factory=list)


class Verdict(_Document):
    label: VerdictLabel
    score: float = Field(ge=0.0, le=10.0)
    summary: str = ""


class PhaseResult(_Document):
    name: str
    status: Literal["ok", "skipped", "failed", "timeout"]
    duration_ms: int = 0
    detail: str | None = None


class AnalysisReport(_Document):
    schema_version: int = REPORT_SCHEMA_VERSION
    analyzer_version: str
    package: PackageInfo
    artifacts: list[ArtifactInfo]
    inventory: list[InventoryEntry] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    verdict: Verdict
    phases: list[PhaseResult] = Field(default_factory=list)
    error: str | None = None
    """Set when the input was rejected (exit code EXIT_REJECTED): why."""
