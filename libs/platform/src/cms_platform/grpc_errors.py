"""The one mapping from domain errors to gRPC status with rich details (AIP-193, google.rpc.Status)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import grpc
import structlog
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from . import errors as e
from .redaction import own_id

_CODES: list[tuple[type[e.DomainError], int]] = [
    (e.InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (e.NotFound, code_pb2.NOT_FOUND),
    (e.AlreadyExists, code_pb2.ALREADY_EXISTS),
    (e.FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (e.Conflict, code_pb2.ABORTED),
    (e.PermissionDenied, code_pb2.PERMISSION_DENIED),
    (e.Unauthenticated, code_pb2.UNAUTHENTICATED),
    (e.Unavailable, code_pb2.UNAVAILABLE),
    (e.ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
]


def error_domain(service: str) -> str:
    """The ErrorInfo domain of every status a service answers with."""
    return f"{service}.cms.gov.uk"


def _pack(msg: Message) -> any_pb2.Any:
    a = any_pb2.Any()
    a.Pack(msg)
    return a


def _retry(seconds: float) -> error_details_pb2.RetryInfo:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return error_details_pb2.RetryInfo(retry_delay=d)


# The ErrorInfo.metadata key of the call's correlation id, which a caller quotes so we find the log line.
CORRELATION_ID = "correlation_id"


def _info(reason: str, domain: str, metadata: dict[str, str], correlation_id: str | None) -> Any:
    if correlation_id:
        metadata = {**metadata, CORRELATION_ID: correlation_id}
    return _pack(error_details_pb2.ErrorInfo(reason=reason, domain=domain, metadata=metadata))


def to_status(
    exc: e.DomainError, *, domain: str, correlation_id: str | None = None
) -> status_pb2.Status:
    """`exc` as a status; the correlation id defaults to the call being served's (a stream item's error too)."""
    if correlation_id is None:
        correlation_id = structlog.contextvars.get_contextvars().get(CORRELATION_ID)
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), code_pb2.FAILED_PRECONDITION)
    details = [_info(exc.reason, domain, exc.metadata, correlation_id)]
    if isinstance(exc, e.InvalidArgument):
        details.append(
            _pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field=v.field, description=v.description
                        )
                        for v in exc.violations
                    ]
                )
            )
        )
    elif isinstance(exc, e.FailedPrecondition):
        details.append(
            _pack(
                error_details_pb2.PreconditionFailure(
                    violations=[
                        error_details_pb2.PreconditionFailure.Violation(
                            type=v.type, subject=v.subject, description=v.description
                        )
                        for v in exc.violations
                    ]
                )
            )
        )
    elif isinstance(exc, (e.NotFound, e.AlreadyExists)):
        details.append(
            _pack(
                error_details_pb2.ResourceInfo(
                    resource_type=exc.resource_type,
                    # Only one of our own ids goes back: the caller's value may be a name sent in the wrong field.
                    resource_name=exc.resource_name if own_id(exc.resource_name) else "",
                    description=exc.message,
                )
            )
        )
    elif isinstance(exc, (e.Unavailable, e.ResourceExhausted, e.Conflict)):
        details.append(_pack(_retry(exc.retry_after_seconds)))
    return status_pb2.Status(code=code, message=exc.message, details=details)


def internal_status(*, domain: str, correlation_id: str) -> status_pb2.Status:
    # Never leak the exception text: it can hold personal data. The correlation id finds the log line.
    return status_pb2.Status(
        code=code_pb2.INTERNAL,
        message=f"internal error (correlation id {correlation_id})",
        details=[_info("UNEXPECTED_ERROR", domain, {}, correlation_id)],
    )


def unimplemented_status(
    *, domain: str, correlation_id: str, reason: str = "METHOD_NOT_IMPLEMENTED"
) -> status_pb2.Status:
    """METHOD_NOT_IMPLEMENTED: the contract has the method, its behaviour comes in a later release;
    METHOD_NOT_FOUND: no service here has it."""
    message = (
        "method not implemented yet" if reason == "METHOD_NOT_IMPLEMENTED" else "unknown method"
    )
    return status_pb2.Status(
        code=code_pb2.UNIMPLEMENTED,
        message=message,
        details=[_info(reason, domain, {}, correlation_id)],
    )


class _Status(NamedTuple):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


def abort(
    context: grpc.ServicerContext,
    status: status_pb2.Status,
    trailing_metadata: Sequence[tuple[str, str]] = (),
) -> None:
    """Ends the call with `status`; abort_with_status replaces the trailers already set, so those that must
    survive a refusal (the correlation id) are passed again."""
    base = rpc_status.to_status(status)
    context.abort_with_status(
        _Status(base.code, base.details, (*base.trailing_metadata, *trailing_metadata))  # type: ignore[arg-type]
    )


# ---- client side: turn a status back into something callers can inspect -------------------------------------


def details_of(err: grpc.RpcError) -> dict[str, Any]:
    """Decoded rich details of a failed call: {"ErrorInfo": ..., "BadRequest": ..., ...}."""
    status = rpc_status.from_call(err)
    out: dict[str, Any] = {}
    if status is None:
        return out
    for any_msg in status.details:
        for cls in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.PreconditionFailure,
            error_details_pb2.ResourceInfo,
            error_details_pb2.RetryInfo,
        ):
            if any_msg.Is(cls.DESCRIPTOR):
                m = cls()
                any_msg.Unpack(m)
                out[cls.DESCRIPTOR.name] = m
    return out


def retry_delay_of(err: grpc.RpcError) -> float | None:
    """The seconds the server asks a client to wait before the same request again (RetryInfo), or None."""
    hint = details_of(err).get("RetryInfo")
    return hint.retry_delay.ToTimedelta().total_seconds() if hint is not None else None


def violated_fields(err: grpc.RpcError) -> list[str]:
    bad = details_of(err).get("BadRequest")
    return [v.field for v in bad.field_violations] if bad else []
