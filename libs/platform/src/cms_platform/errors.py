"""Domain errors. Domain code raises these; only the server maps them to gRPC status codes.

They know nothing of gRPC so that domain packages stay transport-free (MLServer's split between
its DataPlane errors and `grpc/utils.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .redaction import excerpt


@dataclass(frozen=True)
class FieldViolation:
    """One bad field, named by its path in the request (e.g. `paying_parent.identity.nino`)."""

    field: str
    description: str


@dataclass(frozen=True)
class PreconditionViolation:
    """One unmet precondition: `type` is a stable code, `subject` what it concerns."""

    type: str
    subject: str
    description: str


def reason_code(words: str) -> str:
    """`words` as an UPPER_SNAKE reason, e.g. "reform what-if" -> "REFORM_WHAT_IF"."""
    return re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_").upper()


class DomainError(Exception):
    """Base class. `reason` is a stable UPPER_SNAKE code callers can branch on (ErrorInfo.reason): it says what
    went wrong more precisely than the status code, which it never merely repeats."""

    reason = "DOMAIN_ERROR"

    def __init__(
        self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None
    ):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    """The request is malformed; retrying it unchanged cannot succeed."""

    reason = "FIELD_INVALID"

    def __init__(
        self,
        violations: list[FieldViolation] | FieldViolation,
        message: str | None = None,
        **kw: Any,
    ):
        self.violations = (
            [violations] if isinstance(violations, FieldViolation) else list(violations)
        )
        # A violation of the whole request (field "", e.g. bytes that do not decode) is its description alone.
        summary = "; ".join(
            f"{v.field}: {v.description}" if v.field else v.description for v in self.violations
        )
        super().__init__(message or f"invalid request: {summary}", **kw)

    @classmethod
    def field(cls, name: str, description: str) -> InvalidArgument:
        return cls(FieldViolation(name, description))


class NotFound(DomainError):
    """The message names the resource only if `resource_name` is one of our own ids (redaction.excerpt): a
    caller's value in the wrong field may be a NINO or a name, and messages are logged. The reason names the
    resource type, e.g. CASE_NOT_FOUND."""

    def __init__(
        self, resource_type: str, resource_name: str, message: str | None = None, **kw: Any
    ):
        self.resource_type = resource_type
        self.resource_name = resource_name
        kw.setdefault("reason", f"{reason_code(resource_type)}_NOT_FOUND")
        super().__init__(message or f"{resource_type} {excerpt(resource_name)} not found", **kw)


class AlreadyExists(DomainError):
    """The reason names the resource type, e.g. CLIENT_ALREADY_EXISTS."""

    def __init__(
        self, resource_type: str, resource_name: str, message: str | None = None, **kw: Any
    ):
        self.resource_type = resource_type
        self.resource_name = resource_name
        kw.setdefault("reason", f"{reason_code(resource_type)}_ALREADY_EXISTS")
        super().__init__(
            message or f"{resource_type} {excerpt(resource_name)} already exists", **kw
        )


class FailedPrecondition(DomainError):
    """The system is not in a state that allows this (e.g. an illegal case transition). Without a reason of its
    own, the first violation's type is the reason (e.g. CASE_CLOSED)."""

    reason = "PRECONDITION_UNMET"

    def __init__(
        self,
        violations: list[PreconditionViolation] | PreconditionViolation,
        message: str | None = None,
        **kw: Any,
    ):
        self.violations = (
            [violations] if isinstance(violations, PreconditionViolation) else list(violations)
        )
        if self.violations and not kw.get("reason"):
            kw["reason"] = reason_code(self.violations[0].type) or None
        super().__init__(message or "; ".join(v.description for v in self.violations), **kw)


class Conflict(DomainError):
    """A concurrent change won (stale version); the caller may re-read and retry after `retry_after_seconds`."""

    reason = "CONCURRENT_UPDATE"

    def __init__(self, message: str, *, retry_after_seconds: float = 0.1, **kw: Any):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, **kw)


class PermissionDenied(DomainError):
    """The caller may call the RPC but not do this (a decision for another role, another person's record); the
    contract's access policy refusing the call is CALLER_NOT_PERMITTED (cms_platform.access)."""

    reason = "ACTION_NOT_PERMITTED"


class Unauthenticated(DomainError):
    reason = "IDENTITY_TOKEN_INVALID"


class Unavailable(DomainError):
    """A dependency (an external system, the database) is down; safe to retry after `retry_after_seconds`."""

    reason = "DEPENDENCY_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after_seconds: float = 1.0, **kw: Any):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, **kw)


class ResourceExhausted(DomainError):
    """Throttled (e.g. an external system's rate limit); retry after `retry_after_seconds`."""

    reason = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: float = 1.0, **kw: Any):
        self.retry_after_seconds = retry_after_seconds
        super().__init__(message, **kw)


@dataclass
class ViolationCollector:
    """Collects every bad field before raising, so a caller learns all problems in one round trip."""

    violations: list[FieldViolation] = field(default_factory=list)

    def add(self, name: str, description: str) -> None:
        self.violations.append(FieldViolation(name, description))

    def raise_if_any(self) -> None:
        if self.violations:
            raise InvalidArgument(self.violations)
