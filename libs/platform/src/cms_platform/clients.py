"""gRPC channels to other CMS services: identity, correlation id, a deadline on every call, retries, balancing.

Retries are declared in the service config (gRPC's own retry machinery), only on UNAVAILABLE, and are
safe because every mutating RPC is idempotent under its request_id.

Calls are spread over every address the target resolves to (`round_robin` in the service config): on Kubernetes
the target is `dns:///<service>:<port>` against a headless Service, so each ready pod is an address. The servers
close connections after a maximum age (cms_platform.server), so a channel re-resolves and picks up new pods.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import structlog
from opentelemetry.instrumentation.grpc import client_interceptor, grpcext

from . import calls
from .identity import TokenSource
from .server import CORRELATION_ID_KEY

Continuation = Callable[[grpc.ClientCallDetails, Any], Any]

DEFAULT_DEADLINE_SECONDS = 5.0
# Kept back from the caller's remaining time for our own work after a downstream answer.
DEADLINE_MARGIN_SECONDS = 0.1
MIN_DEADLINE_SECONDS = 0.05


# pick_first (gRPC's default) would send every call of a channel to one pod for the connection's life.
LOAD_BALANCING_POLICY = "round_robin"


def retry_service_config(
    service_full_names: list[str],
    *,
    max_attempts: int = 4,
    load_balancing: str = LOAD_BALANCING_POLICY,
    retryable: tuple[str, ...] = ("UNAVAILABLE",),
) -> str:
    return json.dumps(
        {
            "loadBalancingConfig": [{load_balancing: {}}],
            "methodConfig": [
                {
                    "name": [{"service": name} for name in service_full_names],
                    "retryPolicy": {
                        "maxAttempts": max_attempts,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "2s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": list(retryable),
                    },
                }
            ],
        }
    )


class _CallDetails(grpc.ClientCallDetails):
    def __init__(
        self,
        method: str,
        timeout: float | None,
        metadata: tuple[tuple[str, str | bytes], ...],
        credentials: grpc.CallCredentials | None,
        wait_for_ready: bool | None,
        compression: grpc.Compression | None,
    ) -> None:
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = (
            credentials,
            wait_for_ready,
            compression,
        )


class CmsClientInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Adds identity and correlation id metadata, and a deadline where the caller set none: the channel's default,
    or less when the call being served (cms_platform.calls) has less time left."""

    def __init__(self, tokens: TokenSource | None, default_deadline: float):
        self._tokens = tokens
        self._deadline = default_deadline

    def _details(self, d: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        metadata = list(d.metadata or ())
        keys = {k for k, _ in metadata}
        if self._tokens is not None and "authorization" not in keys:
            metadata.append(self._tokens.metadata())
        if CORRELATION_ID_KEY not in keys:
            cid = structlog.contextvars.get_contextvars().get("correlation_id") or str(uuid.uuid4())
            metadata.append((CORRELATION_ID_KEY, cid))
        timeout = d.timeout if d.timeout is not None else self.deadline()
        return _CallDetails(
            d.method,
            timeout,
            tuple(metadata),
            d.credentials,
            d.wait_for_ready,
            getattr(d, "compression", None),
        )

    def deadline(self) -> float:
        """The default deadline, within what the call being served has left (less a margin for our own reply)."""
        remaining = calls.time_remaining()
        if remaining is None:
            return self._deadline
        return max(MIN_DEADLINE_SECONDS, min(self._deadline, remaining - DEADLINE_MARGIN_SECONDS))

    def intercept_unary_unary(
        self, continuation: Continuation, client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(
        self, continuation: Continuation, client_call_details: grpc.ClientCallDetails, request: Any
    ) -> Any:
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(
        self,
        continuation: Continuation,
        client_call_details: grpc.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(
        self,
        continuation: Continuation,
        client_call_details: grpc.ClientCallDetails,
        request_iterator: Any,
    ) -> Any:
        return continuation(self._details(client_call_details), request_iterator)


def open_channel(
    address: str,
    *,
    tokens: TokenSource | None,
    services: list[str],
    default_deadline: float = DEFAULT_DEADLINE_SECONDS,
) -> grpc.Channel:
    """An insecure channel (mTLS is the mesh's job on Kubernetes) with the CMS client interceptors, balancing
    calls round-robin over the addresses `address` resolves to (e.g. `dns:///calculation:50051`)."""
    channel = grpc.insecure_channel(
        address,
        options=[
            ("grpc.service_config", retry_service_config(services)),
            ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", 16 * 1024 * 1024),
        ],
    )
    # OTel's interceptor (inner) injects the trace context; ours (outer) adds identity, correlation id, deadline.
    traced = grpcext.intercept_channel(channel, client_interceptor())
    return grpc.intercept_channel(traced, CmsClientInterceptor(tokens, default_deadline))
