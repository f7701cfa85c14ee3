"""The gRPC server every service runs (MLServer's GRPCServer shape).

One object owns the servicers, the interceptor chain, health and reflection, `start()` and `stop(grace)`.
The CMS interceptor does, for every RPC except health and reflection:
the server span (OpenTelemetry, in the caller's trace) → correlation id → caller identity (UNAUTHENTICATED) → the
RPC's access policy from the contract (PERMISSION_DENIED, cms_platform.access) → a request that could not be decoded
(INVALID_ARGUMENT) → generic request validation and the contract's field limits (INVALID_ARGUMENT with field
violations, cms_platform.validation) → the servicer → domain errors mapped to rich statuses → one structured log line
and metrics. A server whose services leave an RPC without an access policy does not start.

It is one interceptor, and it wraps each method's handler once (the first call) rather than on every call: grpc runs
interceptors on the server's single polling thread, ahead of every call's handler, so what they do per call is paid
serially. The call's metadata is read from its context.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import unquote

import grpc
import structlog
from google.protobuf import descriptor_pool
from google.protobuf.message import Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode

from . import (
    access,
    calls,
    conflicts,
    db,
    errors,
    grpc_errors,
    paging,
    redaction,
    reflection,
    telemetry,
)
from .identity import IdentityVerifier, bind_caller, current_caller, reset_caller
from .metrics import RPC_DURATION, RPC_HANDLED
from .validation import request_violations, stream_limits

log = structlog.get_logger("cms.grpc")

CORRELATION_ID_KEY = "x-correlation-id"
# The caller's correlation id is logged and echoed: a short token only (a NINO is refused too), else a new one.
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
LIVENESS = "liveness"
READINESS = "readiness"
_UNAUTHENTICATED_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class ServiceRegistration:
    """A servicer and the generated function that adds it to a server."""

    full_name: str  # e.g. "cms.casework.v1.CaseworkService"
    add_to_server: Callable[[Any, grpc.Server], None]
    servicer: Any
    # Runs before the generic validation, e.g. the CRA legal-gateway check that must answer
    # PERMISSION_DENIED (not INVALID_ARGUMENT) when the case or purpose is missing.
    guard: Callable[[str, Any], None] | None = None
    # Streaming methods whose messages carry independent items the servicer checks one by one (a bad item is that
    # item's error result, not the end of the stream), so the generic per-message validation is skipped.
    item_validated: frozenset[str] = frozenset()
    # Called when the access policy refuses a call, with the method's name and the request (None for a client
    # stream), the caller bound: e.g. casework audits a refused action on a case. The refusal stands whatever it does.
    refused: Callable[[str, Message | None], None] | None = None


# What an interceptor sees of a call and undoes after it.
Metadata = Sequence[tuple[str, Any]] | None
Bound = list[tuple[Callable[[Any], None], Any]]
Behaviour = Callable[[Any, grpc.ServicerContext], Any]


class Undecodable:
    """Stands for a request message whose bytes did not decode. The platform decodes requests itself (grpcio would
    answer INTERNAL before anything else ran), so a caller is authenticated and authorised first and then told
    INVALID_ARGUMENT."""

    __slots__ = ("message_type",)

    def __init__(self, message_type: str):
        self.message_type = message_type

    def refusal(self, field: str = "") -> errors.InvalidArgument:
        return errors.InvalidArgument(
            errors.FieldViolation(
                field, f"is not a valid {self.message_type} message (the bytes do not decode)"
            ),
            reason="MESSAGE_UNDECODABLE",
        )


def lenient(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    """`deserializer`, answering an Undecodable instead of raising."""
    if deserializer is None:
        return None
    message_type = getattr(getattr(deserializer, "__self__", None), "DESCRIPTOR", None)
    name = message_type.name if message_type is not None else "request"

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception:  # noqa: BLE001 - DecodeError, or whatever malformed bytes make the decoder raise
            return Undecodable(name)

    return decode


# The server span's attributes, as opentelemetry-instrumentation-grpc names them (its semantic conventions).
_RPC_SYSTEM, _RPC_SERVICE, _RPC_METHOD = "rpc.system", "rpc.service", "rpc.method"
_RPC_STATUS_CODE, _USER_AGENT = "rpc.grpc.status_code", "rpc.user_agent"
_PEER_IP, _PEER_PORT, _PEER_NAME = "net.peer.ip", "net.peer.port", "net.peer.name"
# The codes that are the server's fault: its span's status is ERROR (OpenTelemetry's gRPC conventions); the others
# (a refusal, a missing resource) are the caller's and leave it unset.
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _peer_attributes(peer: str) -> dict[str, Any]:
    """`ipv4:127.0.0.1:57284`, `ipv6:[::1]:57284` (the first of a comma-separated list) as net.peer.*."""
    if peer.startswith("unix:"):
        return {}
    try:
        ip, port = peer.split(",")[0].split(":", 1)[1].rsplit(":", 1)
    except (IndexError, ValueError):
        return {}
    ip = unquote(ip)
    attributes: dict[str, Any] = {_PEER_IP: ip, _PEER_PORT: port}
    if ip in ("[::1]", "127.0.0.1"):
        attributes[_PEER_NAME] = "localhost"
    return attributes


def _metadata_value(metadata: Metadata, key: str) -> str | None:
    for k, v in metadata or ():
        if k == key:
            return v
    return None


def _correlation_id(given: str | None) -> str:
    if (
        given
        and _CORRELATION_ID.fullmatch(given)
        and not redaction.contains_personal_pattern(given)
    ):
        return given
    return str(uuid.uuid4())


class CmsServerInterceptor(grpc.ServerInterceptor):
    def __init__(
        self,
        *,
        service: str,
        identity: IdentityVerifier,
        guards: dict[str, Callable[[str, Any], None]],
        policies: dict[str, access.Policy],
        refused: dict[str, Callable[[str, Message | None], None]] | None = None,
        item_validated: frozenset[str] = frozenset(),
        max_messages: dict[str, int] | None = None,
    ):
        self._service = service
        self._guards = guards
        self._policies = policies
        self._refused = refused or {}
        self._item_validated = item_validated
        self._max_messages = max_messages or {}
        self._domain = grpc_errors.error_domain(service)
        self._identity = identity
        self._tracer = trace.get_tracer("cms.grpc")
        # Each served method's wrapped handler, made on its first call (the registered handlers never change).
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        handler = continuation(handler_call_details)
        if method.startswith(_UNAUTHENTICATED_PREFIXES):
            return handler
        if handler is None:
            return self._unknown(handler_call_details)  # not kept: callers choose these names
        wrapped = self._wrap(handler, method)
        self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        decode = lenient(handler.request_deserializer)
        service, _, name = method.lstrip("/").partition("/")
        span_attributes = {_RPC_SYSTEM: "grpc", _RPC_SERVICE: service, _RPC_METHOD: name}
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, span_attributes),
                decode,
                handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(
                    handler.unary_stream, method, span_attributes, request_streaming=False
                ),
                decode,
                handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(
                    handler.stream_unary, method, span_attributes, request_streaming=True
                ),
                decode,
                handler.response_serializer,
            )
        assert handler.stream_stream is not None  # the last of the four kinds
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(
                handler.stream_stream, method, span_attributes, request_streaming=True
            ),
            decode,
            handler.response_serializer,
        )

    # -- the server span ----------------------------------------------------------------------------------

    def _start_span(
        self,
        method: str,
        span_attributes: dict[str, Any],
        metadata: Metadata,
        context: grpc.ServicerContext,
    ) -> tuple[trace.Span, object]:
        """The call's SERVER span, a child of the caller's (W3C trace context in the metadata), made current; and
        the token _end_span detaches."""
        carrier = {k: v for k, v in metadata or () if isinstance(v, str)}
        parent = propagate.extract(carrier)
        if not telemetry.spans_read():
            span: trace.Span = telemetry.unread_span(method, parent, trace.SpanKind.SERVER)
            return span, otel_context.attach(trace.set_span_in_context(span, parent))
        attributes = {**span_attributes, _RPC_STATUS_CODE: 0}
        agent = carrier.get("user-agent")
        if agent:
            attributes[_USER_AGENT] = agent
        attributes.update(_peer_attributes(context.peer()))
        span = self._tracer.start_span(
            method, parent, kind=trace.SpanKind.SERVER, attributes=attributes
        )
        return span, otel_context.attach(trace.set_span_in_context(span, parent))

    @staticmethod
    def _end_span(span: trace.Span, token: object, context: grpc.ServicerContext) -> None:
        """The call's status code on its span (and ERROR for the server's own failures), then the span ended."""
        try:
            code = context.code() if hasattr(context, "code") else None
            if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
                span.set_attribute(_RPC_STATUS_CODE, code.value[0])
                if code in _SERVER_ERRORS:
                    details = context.details() if hasattr(context, "details") else None
                    span.set_status(Status(StatusCode.ERROR, f"{code}:{details}"))
        finally:
            span.end()
            otel_context.detach(token)  # type: ignore[arg-type]

    def _unknown(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        """A method no service here has: UNIMPLEMENTED like grpc's own answer, with the ErrorInfo and correlation id
        every other error carries. A streaming handler answers a call of any kind without reading it."""
        cid = _correlation_id(_metadata_value(details.invocation_metadata, CORRELATION_ID_KEY))

        def refuse(requests: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            log.info(
                "rpc refused", rpc=details.method, reason="METHOD_NOT_FOUND", correlation_id=cid
            )
            grpc_errors.abort(
                context,
                grpc_errors.unimplemented_status(
                    domain=self._domain, correlation_id=cid, reason="METHOD_NOT_FOUND"
                ),
                ((CORRELATION_ID_KEY, cid),),
            )
            yield from ()

        return grpc.stream_stream_rpc_method_handler(refuse)

    # -- the shared pipeline ------------------------------------------------------------------------------

    def _begin(
        self,
        cid: str,
        method: str,
        metadata: Metadata,
        context: grpc.ServicerContext,
        bound: Bound,
        request: Message | None = None,
    ) -> None:
        """The correlation id, the call (operation and deadline) and the caller, bound for the code below; `bound`
        collects what _end must undo, so a refusal half-way leaves nothing behind."""
        context.set_trailing_metadata(((CORRELATION_ID_KEY, cid),))
        structlog.contextvars.bind_contextvars(correlation_id=cid, rpc=method)
        remaining = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining
        bound.append((calls.reset, calls.bind(calls.Call(method, deadline, request))))
        caller = self._identity.caller_from_metadata(metadata)
        structlog.contextvars.bind_contextvars(caller=caller.describe())
        bound.append((reset_caller, bind_caller(caller)))

    def _authorise(self, method: str, request: Message | None) -> None:
        """The contract's access policy for the method against the caller _begin bound; a method with no policy
        (none reaches here: the server does not start without them) is refused too."""
        caller = current_caller()
        policy = self._policies.get(method)
        if policy is not None and policy.permits(caller):
            return
        service, _, name = method.lstrip("/").rpartition("/")
        hook = self._refused.get(service)
        if hook is not None:
            try:
                hook(name, request)
            except Exception:  # noqa: BLE001 - the refusal must stand
                log.error("refusal hook failed", exc_info=True)
        raise access.refusal(method, caller, policy)

    def _guard(self, method: str, request: Message) -> None:
        guard = self._guards.get(method.rsplit("/", 1)[0].lstrip("/"))
        if guard is not None:
            guard(method.rsplit("/", 1)[1], request)

    def _validated(self, request: Message, method: str) -> Message:
        if isinstance(request, Undecodable):
            raise request.refusal()
        self._guard(method, request)
        violations = request_violations(request) + paging.token_violations(request)
        if violations:
            raise errors.InvalidArgument(violations)
        return request

    def _validated_stream(self, requests: Iterable[Message], method: str) -> Iterator[Message]:
        """Checks each streamed request as it is read; the first one eagerly, so a bad stream is refused
        before the servicer starts (even one whose behaviour is not implemented yet)."""
        skip = method in self._item_validated
        most = self._max_messages.get(method)

        def check(i: int, request: Message) -> Message:
            if most is not None and i >= most:
                raise errors.InvalidArgument(
                    errors.FieldViolation(
                        f"[{i}]",
                        f"is past the {most} messages one call may carry: start another call",
                    ),
                    reason="TOO_MANY_MESSAGES",
                )
            if isinstance(request, Undecodable):  # item-validated streams too: no item to answer
                raise request.refusal(f"[{i}]")
            self._guard(method, request)
            violations = [] if skip else request_violations(request)
            if violations:
                raise errors.InvalidArgument(
                    [errors.FieldViolation(f"[{i}].{v.field}", v.description) for v in violations]
                )
            return request

        it = iter(requests)
        first = next(it, None)
        if first is None:
            return iter(())
        check(0, first)

        def rest() -> Iterator[Message]:
            yield first
            for i, request in enumerate(it, start=1):
                yield check(i, request)

        return rest()

    def _fail(self, exc: BaseException, context: grpc.ServicerContext, cid: str) -> NoReturn:
        """Turn an exception into a status on the context; returns the code name for logs/metrics."""
        # A lost race in the database (stale version, unique key taken) is ABORTED with a retry hint.
        exc = conflicts.conflict(exc) or exc
        # The database down or restarting: UNAVAILABLE with a retry hint, the transaction rolled back.
        exc = db.outage(exc) or exc
        if isinstance(exc, errors.DomainError):
            status = grpc_errors.to_status(exc, domain=self._domain, correlation_id=cid)
            log.info("rpc refused", reason=exc.reason, error=exc.message)
            grpc_errors.abort(context, status, ((CORRELATION_ID_KEY, cid),))
        if isinstance(exc, NotImplementedError):
            # The generated servicer base: the contract exists, the behaviour comes in a later release.
            grpc_errors.abort(
                context,
                grpc_errors.unimplemented_status(domain=self._domain, correlation_id=cid),
                ((CORRELATION_ID_KEY, cid),),
            )
        log.error("rpc failed", exc_info=exc)
        trace.get_current_span().record_exception(
            exc
        )  # the server's fault: the span keeps what it was
        grpc_errors.abort(
            context,
            grpc_errors.internal_status(domain=self._domain, correlation_id=cid),
            ((CORRELATION_ID_KEY, cid),),
        )
        raise AssertionError("unreachable")  # abort raises

    @staticmethod
    def _ended_by_caller(context: grpc.ServicerContext) -> str | None:
        """CANCELLED or DEADLINE_EXCEEDED once the caller has ended the call (cancelled it, or let its deadline
        pass), logged; None while it is live. Nothing reaches the caller any more, and it is no defect of ours (never
        INTERNAL): only a passed deadline counts against the server (too slow)."""
        if context.is_active():
            return None
        left = context.time_remaining()
        code = "DEADLINE_EXCEEDED" if left is not None and left <= 0 else "CANCELLED"
        log.info("rpc ended by its caller", code=code)
        return code

    def _caller_gone(self, exc: Exception, context: grpc.ServicerContext) -> str | None:
        """_ended_by_caller for the RpcError grpc's request iterator raises once the caller has ended the call
        (raised again, grpc ends the call on it quietly). Exactly that class: a downstream call's failure is a
        subclass, and a servicer that let one through has a defect whoever is still listening."""
        return self._ended_by_caller(context) if type(exc) is grpc.RpcError else None

    def _end(self, method: str, started: float, code: str, bound: Bound) -> None:
        elapsed = time.perf_counter() - started
        RPC_HANDLED.labels(self._service, method, code).inc()
        RPC_DURATION.labels(self._service, method, code).observe(elapsed)
        log.info("rpc", code=code, duration_ms=round(elapsed * 1000, 2))
        for reset, token in reversed(bound):
            reset(token)
        structlog.contextvars.unbind_contextvars("correlation_id", "rpc", "caller")

    def _code_after(self, context: grpc.ServicerContext, default: str) -> str:
        code = context.code() if hasattr(context, "code") else None
        return code.name if isinstance(code, grpc.StatusCode) else default

    def _wrap_unary(
        self,
        behavior: Behaviour,
        method: str,
        span_attributes: dict[str, Any],
        request_streaming: bool = False,
    ) -> Behaviour:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            started, code = time.perf_counter(), "OK"
            metadata = context.invocation_metadata()
            span, span_token = self._start_span(method, span_attributes, metadata, context)
            # Every answer carries it back, a refusal too (the caller quotes it to find the log line).
            cid = _correlation_id(_metadata_value(metadata, CORRELATION_ID_KEY))
            bound: Bound = []
            try:
                unary = None if request_streaming else _decoded(request)
                self._begin(cid, method, metadata, context, bound, unary)
                self._authorise(method, unary)
                request = (
                    self._validated_stream(request, method)
                    if request_streaming
                    else self._validated(request, method)
                )
                return behavior(request, context)
            except Exception as exc:  # noqa: BLE001 - every failure must become a status
                code = "FAILED"
                gone = self._caller_gone(exc, context)
                if gone is not None:
                    code = gone
                    raise
                if not isinstance(exc, NotImplementedError) and self._code_after(
                    context, ""
                ) not in ("", "OK"):
                    raise  # the servicer already aborted with its own status
                self._fail(exc, context, cid)
            finally:
                self._end(method, started, self._code_after(context, code), bound)
                self._end_span(span, span_token, context)

        return wrapped

    def _wrap_stream(
        self,
        behavior: Behaviour,
        method: str,
        span_attributes: dict[str, Any],
        request_streaming: bool,
    ) -> Behaviour:
        def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            started, code = time.perf_counter(), "OK"
            metadata = context.invocation_metadata()
            span, span_token = self._start_span(method, span_attributes, metadata, context)
            # Every answer carries it back, a refusal too (the caller quotes it to find the log line).
            cid = _correlation_id(_metadata_value(metadata, CORRELATION_ID_KEY))
            bound: Bound = []
            try:
                unary = None if request_streaming else _decoded(request)
                self._begin(cid, method, metadata, context, bound, unary)
                self._authorise(method, unary)
                request = (
                    self._validated_stream(request, method)
                    if request_streaming
                    else self._validated(request, method)
                )
                yield from behavior(request, context)
            except GeneratorExit:
                # grpc stops taking the answers of a call its caller ended, and closes the stream here.
                code = self._ended_by_caller(context) or code
                raise
            except Exception as exc:  # noqa: BLE001
                code = "FAILED"
                gone = self._caller_gone(exc, context)
                if gone is not None:
                    code = gone
                    raise
                if not isinstance(exc, NotImplementedError) and self._code_after(
                    context, ""
                ) not in ("", "OK"):
                    raise  # the servicer already aborted with its own status
                self._fail(exc, context, cid)
            finally:
                self._end(method, started, self._code_after(context, code), bound)
                self._end_span(span, span_token, context)

        return wrapped


def _decoded(request: Any) -> Message | None:
    return None if isinstance(request, Undecodable) else request


class GrpcServer:
    """Owns one grpc.Server: servicers, interceptors, health, reflection, start/stop."""

    def __init__(
        self,
        *,
        service: str,
        registrations: list[ServiceRegistration],
        identity: IdentityVerifier,
        host: str = "0.0.0.0",
        port: int = 0,
        max_workers: int = 16,
        max_connection_age_seconds: float = 0.0,
        max_connection_age_grace_seconds: float = 0.0,
    ):
        self.service = service
        self._registrations = registrations
        self._address = f"{host}:{port}"
        self.health = health.HealthServicer()
        # Every served method's access policy, read once from the contracts; one missing stops us here.
        descriptors = [
            descriptor_pool.Default().FindServiceByName(r.full_name) for r in registrations
        ]
        policies = access.policies(descriptors)
        self.options: list[tuple[str, int]] = [
            # A full bulk batch of real items is well under 1 MB; a larger message is grpc's RESOURCE_EXHAUSTED.
            ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ]
        if max_connection_age_seconds > 0:
            # Clients keep an HTTP/2 connection for as long as it lives: ending it now and then makes them
            # re-resolve and balance over the replicas there are now (cms_platform.clients uses round_robin).
            self.options += [
                ("grpc.max_connection_age_ms", int(max_connection_age_seconds * 1000)),
                ("grpc.max_connection_age_grace_ms", int(max_connection_age_grace_seconds * 1000)),
            ]
        # What every RPC but health and reflection goes through, in order (tools/bench_rpc.py --profile-chain).
        self.interceptors: list[grpc.ServerInterceptor] = [
            # The one interceptor: its span comes first, so every later step (auth, validation, logs) runs
            # inside it; health and reflection are neither traced nor authenticated.
            CmsServerInterceptor(
                service=service,
                identity=identity,
                guards={r.full_name: r.guard for r in registrations if r.guard},
                policies=policies,
                refused={r.full_name: r.refused for r in registrations if r.refused},
                item_validated=frozenset(
                    f"/{r.full_name}/{m}" for r in registrations for m in r.item_validated
                ),
                max_messages=stream_limits(descriptors),
            ),
        ]
        self._server = grpc.server(
            futures.ThreadPoolExecutor(
                max_workers=max_workers, thread_name_prefix=f"{service}-rpc"
            ),
            interceptors=self.interceptors,
            options=self.options,
        )
        for r in registrations:
            r.add_to_server(r.servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        # Reflection with the contracts' comments (deadlines, allowed callers), on v1 and v1alpha.
        reflection.enable(
            [r.full_name for r in registrations] + [health.SERVICE_NAME], self._server
        )
        self.port: int | None = None

    def start(self) -> int:
        self.port = self._server.add_insecure_port(self._address)
        if not self.port:
            raise RuntimeError(f"{self.service}: cannot bind {self._address}")
        self._server.start()
        self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        return self.port

    def set_ready(self, ready: bool) -> None:
        """Readiness: the overall status, every API service and "readiness" follow it; liveness does not."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if ready
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ["", READINESS, *(r.full_name for r in self._registrations)]:
            self.health.set(name, status)

    def stop(self, grace: float) -> None:
        # NOT_SERVING everywhere first, so load balancers drain us, then finish in-flight calls.
        self.health.enter_graceful_shutdown()
        self._server.stop(grace).wait()

    def wait_for_termination(self, timeout: float | None = None) -> bool:
        return self._server.wait_for_termination(timeout)
