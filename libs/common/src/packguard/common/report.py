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


class StepOutput(_Document):
    """One traced command of a dynamic phase."""

    phase: str
    label: str
    """``pip install``, ``postinstall``, ``import``, ``require``..."""
    command: str
    exit_code: int | None = None
    timed_out: bool = False
    duration_ms: int = 0
    stdout_tail: str = ""
    stderr_tail: str = ""
    trace_lines: int = 0


class ProcessRecord(_Document):
    phase: str
    command: str
    ok: bool = True
    """False when the program could not be started (not installed, not executable)."""
    package_spawned: bool = True
    """Started by the package's code, not by the installer or the analyzer."""


class FileRecord(_Document):
    phase: str
    syscall: str
    path: str
    access: Literal["read", "write", "delete", "list"]
    ok: bool = True
    flags: list[Literal["bait", "sensitive", "outside"]] = Field(default_factory=list)


class NetworkRecord(_Document):
    phase: str
    syscall: str
    family: str
    address: str
    port: int | None = None
    ok: bool = True


class DnsRecord(_Document):
    phase: str
    name: str
    qtype: str = "A"


class HttpRecord(_Document):
    phase: str
    method: str
    host: str
    path: str
    request_line: str
    port: int | None = None


class TlsRecord(_Document):
    phase: str
    server_name: str
    port: int | None = None


class DynamicTrace(_Document):
    """What the install and import phases did (added within version 1; optional).

    Network intent comes from the sandbox's loopback resolver and listeners: nothing left
    the container, but the names looked up, the HTTP request lines and TLS server names
    are what the package tried to reach. Lists are capped; ``truncated`` says so.
    """

    steps: list[StepOutput] = Field(default_factory=list)
    processes: list[ProcessRecord] = Field(default_factory=list)
    files: list[FileRecord] = Field(default_factory=list)
    """Flagged accesses only (bait, sensitive paths, writes outside the package)."""
    network: list[NetworkRecord] = Field(default_factory=list)
    dns: list[DnsRecord] = Field(default_factory=list)
    http: list[HttpRecord] = Field(default_factory=list)
    tls: list[TlsRecord] = Field(default_factory=list)
    stand_ins: list[str] = Field(default_factory=list)
    """Missing dependencies replaced by inert stand-ins so the package's code could run."""
    notes: list[str] = Field(default_factory=list)
    truncated: bool = False


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
    dynamic: DynamicTrace | None = None
    """What the dynamic phases observed; absent when they did not run."""
