"""The analysis report document: what the analyzer writes and the reporter stores.

Version 1. Changes within a version are additive; consumers ignore unknown fields.
"""

from __future__ import annotations

from datetime import datetime
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
    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)


class ArtifactInfo(_Document):
    filename: str
    """File name as the registry serves it."""
    size_bytes: int
    """Size of the downloaded file."""
    sha256: str
    """SHA-256 of the downloaded file, hex."""


class PackageInfo(_Document):
    ecosystem: str
    """`pypi` or `npm`."""
    name: str
    """Normalized name (PEP 503 for PyPI; npm names include their scope)."""
    version: str
    """The exact version."""


class InventoryEntry(_Document):
    path: str
    """Path inside the archive (prefixed with the artifact name when several were analysed)."""
    size_bytes: int
    """Uncompressed size."""
    sha256: str | None = None
    """SHA-256 of the content, hex; absent for directories and links."""
    kind: Literal["file", "dir", "symlink", "hardlink", "other"] = "file"
    """Archive member type."""
    file_type: str | None = None
    """Coarse type from the name and magic bytes (python, javascript, binary-elf, ...)."""
    is_executable: bool = False
    """The member carries an executable bit."""
    is_hidden: bool = False
    """A path component starts with a dot."""


class Evidence(_Document):
    file: str | None = None
    """Path inside the artifact, for static findings."""
    line: int | None = None
    """1-based line in that file."""
    snippet: str | None = None
    """The matching text, capped to a short excerpt."""
    phase: str | None = None
    """Dynamic phase (install, import) for runtime findings."""
    syscall: str | None = None
    """The traced system call behind a runtime finding."""


class Finding(_Document):
    rule_id: str
    """Stable kebab-case rule id (`<category>-<what>`), documented in docs/RULES.md."""
    title: str
    """One-line description of what was found."""
    severity: Severity
    """How bad it is when true."""
    confidence: float = Field(ge=0.0, le=1.0)
    """How sure the rule is, 0 to 1."""
    category: str
    """Rule category (install-hook, credential-access, obfuscation, dynamic, ...)."""
    evidence: list[Evidence] = Field(default_factory=list)
    """Where it was seen."""


class Verdict(_Document):
    label: VerdictLabel
    """benign, low, suspicious or malicious."""
    score: float = Field(ge=0.0, le=10.0)
    """0 (nothing found) to 10 (certainly malicious)."""
    summary: str = ""
    """Human-readable reason for the label."""


class PhaseResult(_Document):
    name: str
    """static, dynamic, install or import."""
    status: Literal["ok", "skipped", "failed", "timeout"]
    """How the phase ended."""
    duration_ms: int = 0
    """Wall time of the phase."""
    detail: str | None = None
    """Why it was skipped or failed, or a short note."""


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
    """Version of this document format (1); bumped only for breaking changes."""
    analyzer_version: str
    """Version of the analyzer that produced the report; results are cached per version."""
    package: PackageInfo
    """The release that was analysed."""
    artifacts: list[ArtifactInfo]
    """The distribution files analysed, as downloaded and digest-checked."""
    inventory: list[InventoryEntry] = Field(default_factory=list)
    """Every file inside the artifacts."""
    findings: list[Finding] = Field(default_factory=list)
    """What the rules found, most severe first."""
    verdict: Verdict
    """The score and label derived from the findings."""
    phases: list[PhaseResult] = Field(default_factory=list)
    """Each analysis phase (static, install, import) with its outcome and duration."""
    error: str | None = None
    """Set when the input was rejected (exit code EXIT_REJECTED): why."""
    dynamic: DynamicTrace | None = None
    """What the dynamic phases observed; absent when they did not run."""
    started_at: datetime | None = None
    """When the analysis began inside the sandbox (UTC; added within version 1). The time
    from the container's creation to this is the container's start: engine, interpreter,
    rule loading."""
    duration_ms: int | None = None
    """Wall time of the whole analysis inside the sandbox (added within version 1): the
    phases and what runs between them (hashing, scratch venvs, bait, sinkhole, scoring)."""
