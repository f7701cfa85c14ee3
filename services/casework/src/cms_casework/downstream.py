"""Clients for the services casework orchestrates, behind small ports so flows stay testable."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from cms.calculation.v1 import calculation_service_pb2, calculation_service_pb2_grpc
from cms.cra.v1 import cra_service_pb2, cra_service_pb2_grpc
from cms.dwp.v1 import dwp_service_pb2, dwp_service_pb2_grpc
from cms.hmrc.v1 import hmrc_service_pb2, hmrc_service_pb2_grpc
from cms_platform.clients import open_channel
from cms_platform.errors import FailedPrecondition, PreconditionViolation, Unavailable
from cms_platform.identity import TokenSource


def _full_name(module, service: str) -> str:
    return module.DESCRIPTOR.services_by_name[service].full_name


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
    tokens: TokenSource,
    deadline: float,
) -> Downstream:
    calc = open_channel(
        calculation_address,
        tokens=tokens,
        default_deadline=deadline,
        services=[_full_name(calculation_service_pb2, "CalculationService")],
    )
    hmrc = open_channel(
        hmrc_address,
        tokens=tokens,
        default_deadline=deadline,
        services=[_full_name(hmrc_service_pb2, "HmrcGatewayService")],
    )
    dwp = open_channel(
        dwp_address,
        tokens=tokens,
        default_deadline=deadline,
        services=[_full_name(dwp_service_pb2, "DwpGatewayService")],
    )
    cra = open_channel(
        cra_address,
        tokens=tokens,
        default_deadline=deadline,
        services=[_full_name(cra_service_pb2, "CraGatewayService")],
    )
    return Downstream(
        calculation=calculation_service_pb2_grpc.CalculationServiceStub(calc),
        hmrc=hmrc_service_pb2_grpc.HmrcGatewayServiceStub(hmrc),
        dwp=dwp_service_pb2_grpc.DwpGatewayServiceStub(dwp),
        cra=cra_service_pb2_grpc.CraGatewayServiceStub(cra),
        channels=[calc, hmrc, dwp, cra],
    )


def call(method, request, *, what: str, context=None, ceiling: float = 5.0, tolerate: tuple = ()):
    """One downstream call within our caller's deadline. A status in `tolerate` answers None (e.g. ALREADY_EXISTS for
    an interest registered by an earlier attempt); any other failure is translated for our own caller."""
    try:
        return method(request, timeout=budget(context, ceiling))
    except grpc.RpcError as err:
        if err.code() in tolerate:
            return None
        raise translate(err, what) from None


def budget(context, ceiling: float, margin: float = 0.1) -> float:
    """The deadline for a downstream call: what our caller left us (less a margin), at most `ceiling`."""
    remaining = context.time_remaining() if context is not None else None
    if remaining is None:
        return ceiling
    return max(0.05, min(ceiling, remaining - margin))


def translate(err: grpc.RpcError, what: str) -> Exception:
    """A downstream failure as a domain error our own callers can act on (never INTERNAL): a transport failure is
    UNAVAILABLE (retry with the same request id); a refusal is a failed precondition naming the service and why."""
    if err.code() in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    ):
        return Unavailable(
            f"{what} is unavailable ({err.code().name}); retry with the same request_id",
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
