"""The packguard error hierarchy.

    PackguardError
    ├── InvalidInput                 400 invalid_input
    │   ├── InvalidPurl              400 invalid_purl
    │   ├── UnsupportedEcosystem     400 unsupported_ecosystem
    │   ├── MissingVersion           400 missing_version
    │   ├── InvalidJson              400 invalid_json
    │   ├── UnsupportedMediaType     415 unsupported_media_type
    │   └── BodyTooLarge             413 body_too_large
    ├── Unauthorized                 401 unauthorized
    ├── NotFound                     404 not_found
    │   └── PackageNotFound          404 not_found   (registry has no such release)
    ├── Conflict                     409 conflict
    ├── RateLimited                  429 rate_limited
    ├── DependencyUnavailable        503 dependency_unavailable   retryable
    │   └── RegistryUnavailable      503 registry_unavailable     retryable
    └── AnalysisFailed               500 analysis_failed
        ├── ArtifactTooLarge         artifact_too_large
        ├── DigestMismatch           digest_mismatch
        ├── HostileArchive           hostile_archive
        ├── AnalysisTimeout          timeout
        ├── AnalyzerCrashed          analyzer_crashed
        ├── ResourceLimitExceeded    resource_limit   (the sandbox's memory or disk ran out)
        └── SandboxUnavailable       sandbox_unavailable          retryable

``code`` is what clients and task rows see (the failure category); ``retryable`` decides
between a retry with backoff and a final ``failed``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class PackguardError(Exception):
    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class InvalidInput(PackguardError):
    code = "invalid_input"
    http_status = 400


class InvalidPurl(InvalidInput):
    code = "invalid_purl"


class UnsupportedEcosystem(InvalidInput):
    code = "unsupported_ecosystem"


class MissingVersion(InvalidInput):
    code = "missing_version"


class InvalidJson(InvalidInput):
    code = "invalid_json"


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"
    http_status = 415


class BodyTooLarge(InvalidInput):
    code = "body_too_large"
    http_status = 413


class Unauthorized(PackguardError):
    code = "unauthorized"
    http_status = 401


class NotFound(PackguardError):
    code = "not_found"
    http_status = 404


class PackageNotFound(NotFound):
    """The registry has no such package or release (task failure category ``not_found``)."""


class Conflict(PackguardError):
    code = "conflict"
    http_status = 409


class RateLimited(PackguardError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class DependencyUnavailable(PackguardError):
    code = "dependency_unavailable"
    http_status = 503
    retryable = True


class RegistryUnavailable(DependencyUnavailable):
    code = "registry_unavailable"


class AnalysisFailed(PackguardError):
    code = "analysis_failed"


class ArtifactTooLarge(AnalysisFailed):
    code = "artifact_too_large"


class DigestMismatch(AnalysisFailed):
    code = "digest_mismatch"


class HostileArchive(AnalysisFailed):
    code = "hostile_archive"


class AnalysisTimeout(AnalysisFailed):
    code = "timeout"


class AnalyzerCrashed(AnalysisFailed):
    code = "analyzer_crashed"


class ResourceLimitExceeded(AnalysisFailed):
    """The package ran the sandbox out of memory or scratch space and took the analyzer
    down with it (when only the package's own process is killed, the report says so)."""

    code = "resource_limit"


class SandboxUnavailable(AnalysisFailed):
    code = "sandbox_unavailable"
    retryable = True
