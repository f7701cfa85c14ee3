"""Clients of the services casework orchestrates: the calculation and the gateways to HMRC, DWP and the CRA.

The only domain-facing module that knows gRPC: a call's deadline comes from the platform (the channel's default,
capped by what the call being served has left, cms_platform.calls), a refusal the caller expects is named by its
status code's name (`tolerate=("ALREADY_EXISTS",)`), and any other failure becomes a domain error our own caller can
act on."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.descriptor import FileDescriptor
from google.protobuf.message import Message

from cms.calculation.v1 import calculation_service_pb2, calculation_service_pb2_grpc
from cms.cra.v1 import cra_service_pb2, cra_service_pb2_grpc
from cms.dwp.v1 import dwp_service_pb2, dwp_service_pb2_grpc
from cms.hmrc.v1 import hmrc_service_pb2, hmrc_service_pb2_grpc
from cms_platform.clients import open_channel
from cms_platform.errors import DomainError, FailedPrecondition, PreconditionViolation, Unavailable
from cms_platform.identity import TokenDirectory

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)

# Failures of the transport or of the other side: worth a retry with the same request id.
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


# The services casework calls, by the audience each one's tokens must name (the service's name).
CALCULATION, HMRC, DWP, CRA = "calculation", "hmrc-gateway", "dwp-gateway", "cra-gateway"
TARGETS = (CALCULATION, HMRC, DWP, CRA)


@dataclass
class Downstream:
    """The services casework orchestrates. The gateways are themselves the ports to HMRC, DWP and the CRA."""

    calculation: calculation_service_pb2_grpc.CalculationServiceStub
    hmrc: hmrc_service_pb2_grpc.HmrcGatewayServiceStub
    dwp: dwp_service_pb2_grpc.DwpGatewayServiceStub
    cra: cra_service_pb2_grpc.CraGatewayServiceStub
    channels: list[grpc.Channel]

    def close(self) -> None:
        for c in self.channels:
            c.close()


def connect(
    *,
    calculation_address: str,
    hmrc_address: str,
    dwp_address: str,
    cra_address: str,
    tokens: TokenDirectory,
    deadline: float,
) -> Downstream:
    """Channels with `deadline` as their default (the platform lowers it to what the call being served has left),
    each sending casework's token for that service's audience."""

    def channel(address: str, file: FileDescriptor, service: str, audience: str) -> grpc.Channel:
        full_name = file.services_by_name[service].full_name
        return open_channel(
            address,
            tokens=tokens.source(audience),
            default_deadline=deadline,
            services=[full_name],
        )

    calc = channel(
        calculation_address, calculation_service_pb2.DESCRIPTOR, "CalculationService", CALCULATION
    )
    hmrc = channel(hmrc_address, hmrc_service_pb2.DESCRIPTOR, "HmrcGatewayService", HMRC)
    dwp = channel(dwp_address, dwp_service_pb2.DESCRIPTOR, "DwpGatewayService", DWP)
    cra = channel(cra_address, cra_service_pb2.DESCRIPTOR, "CraGatewayService", CRA)
    return Downstream(
        calculation=calculation_service_pb2_grpc.CalculationServiceStub(calc),
        hmrc=hmrc_service_pb2_grpc.HmrcGatewayServiceStub(hmrc),
        dwp=dwp_service_pb2_grpc.DwpGatewayServiceStub(dwp),
        cra=cra_service_pb2_grpc.CraGatewayServiceStub(cra),
        channels=[calc, hmrc, dwp, cra],
    )


def call(method: grpc.UnaryUnaryMultiCallable[Req, Resp], request: Req, *, what: str) -> Resp:
    """One downstream call within the platform's deadline; a failure is translated for our own caller."""
    try:
        return method(request)
    except grpc.RpcError as err:
        raise translate(err, what) from None


def call_tolerating(
    method: grpc.UnaryUnaryMultiCallable[Req, Resp],
    request: Req,
    *,
    what: str,
    tolerate: tuple[str, ...],
) -> Resp | None:
    """Like `call`, but a refusal whose status code is named in `tolerate` answers None (e.g. "ALREADY_EXISTS" for an
    interest registered by an earlier attempt)."""
    try:
        return method(request)
    except grpc.RpcError as err:
        if err.code().name in tolerate:
            return None
        raise translate(err, what) from None


def translate(err: grpc.RpcError, what: str) -> DomainError:
    """A downstream failure as a domain error our own callers can act on (never INTERNAL): a transport failure is
    UNAVAILABLE (retry with the same request id); a refusal is a failed precondition naming the service and why."""
    if err.code() in _TRANSIENT:
        return Unavailable(
            f"{what} is unavailable ({err.code().name}); retry with the same request_id",
            reason="DOWNSTREAM_UNAVAILABLE",
            retry_after_seconds=1.0,
        )
    return FailedPrecondition(
        PreconditionViolation(
            "DOWNSTREAM_REFUSED",
            what,
            f"{what} refused the request ({err.code().name}): {err.details()}",
        ),
        reason="DOWNSTREAM_REFUSED",
    )


def call_streaming(
    method: grpc.StreamStreamMultiCallable[Req, Resp],
    requests: Iterator[Req],
    *,
    what: str,
    timeout: float,
) -> Generator[Resp, None, None]:
    """A bidirectional stream: `requests` are sent as the other side takes them (gRPC flow control paces the
    producer) and its answers are yielded as they come; a failure is translated for our own caller, as `call`'s.
    Closing the generator before the last answer drops the call, which gRPC then cancels."""
    try:
        yield from method(requests, timeout=timeout)
    except grpc.RpcError as err:
        raise translate(err, what) from None
