"""What the contract suites share: all five services running in-process (no broker needed, scenario admin on), started
once per module, and calling any RPC by its descriptor with an empty or given request."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf import descriptor as _d
from google.protobuf import symbol_database
from google.protobuf.message import Message

from cms.common.v1 import access_policy_pb2 as ap
from cms_calculation.app import CalculationService
from cms_casework.app import CaseworkService
from cms_cra_gateway.app import CraGatewayService
from cms_devkit.testing import Credentials
from cms_dwp_gateway.app import DwpGatewayService
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform.service import CmsService

Metadata = tuple[tuple[str, str], ...]


@pytest.fixture(scope="module")
def running(postgres_server, tmp_path_factory) -> Iterator[list[tuple[CmsService, grpc.Channel]]]:
    """All five services in-process, started once for the module: the gateways with their scenario admin services
    and a small population, casework calling the other four (background work off, so only calls drive it)."""
    from cms_devkit import infra
    from cms_devkit.testing import START, service_settings
    from cms_platform.clock import ManualClock
    from cms_platform.db import drop_database

    out, urls = [], []

    def start(cls: type[CmsService], **overrides: object) -> CmsService:
        if postgres_server:
            url = infra.database_url(postgres_server, f"cms_t_{uuid.uuid4().hex[:10]}_rpcs")
            urls.append(url)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp(cls.name)}/db.sqlite"
        if "scenario_admin_enabled" in cls.settings_class.model_fields:
            overrides = {"scenario_admin_enabled": True, **overrides}
        service = cls(
            service_settings(cls.settings_class, database_url=url, **overrides),
            clock=ManualClock(START),
        )
        port = service.start()
        out.append((service, grpc.insecure_channel(f"127.0.0.1:{port}")))
        return service

    def address(service: CmsService) -> str:
        assert service.server is not None
        return f"127.0.0.1:{service.server.port}"

    calc = start(CalculationService)
    hmrc = start(HmrcGatewayService, feed_check_interval_seconds=0)
    dwp = start(DwpGatewayService)
    cra = start(CraGatewayService, surveillance_check_interval_seconds=0)
    start(
        CaseworkService,
        scheduler_interval_seconds=0,
        feed_apply_interval_seconds=0,
        downstream_deadline_seconds=3,
        calculation_address=address(calc),
        hmrc_gateway_address=address(hmrc),
        dwp_gateway_address=address(dwp),
        cra_gateway_address=address(cra),
    )
    yield out
    for service, channel in out:
        channel.close()
        service.stop()
    for url in urls:
        drop_database(url)


def rpcs(service: CmsService) -> Iterator[tuple[str, _d.MethodDescriptor]]:
    """(service full name, method) for every method of every API the running service registered."""
    assert service.server is not None
    for reg in service.server._registrations:
        descriptor = symbol_database.Default().pool.FindServiceByName(reg.full_name)
        for m in descriptor.methods:
            yield reg.full_name, m


def empty_request(method: _d.MethodDescriptor) -> Message:
    return symbol_database.Default().GetSymbol(method.input_type.full_name)()


def call(
    channel: grpc.Channel,
    full_name: str,
    method: _d.MethodDescriptor,
    request: Message,
    metadata: Metadata,
):
    path = f"/{full_name}/{method.name}"
    response_cls = symbol_database.Default().GetSymbol(method.output_type.full_name)
    kwargs = dict(
        request_serializer=type(request).SerializeToString,
        response_deserializer=response_cls.FromString,
    )
    if method.client_streaming and method.server_streaming:
        return list(
            channel.stream_stream(path, **kwargs)(iter([request]), metadata=metadata, timeout=10)
        )
    if method.client_streaming:
        return channel.stream_unary(path, **kwargs)(iter([request]), metadata=metadata, timeout=10)
    if method.server_streaming:
        return list(channel.unary_stream(path, **kwargs)(request, metadata=metadata, timeout=10))
    return channel.unary_unary(path, **kwargs)(request, metadata=metadata, timeout=10)


def admitted(creds: Credentials, method: _d.MethodDescriptor) -> Metadata:
    """A caller the method's access policy admits: staff in its first role, else its first service, else a client."""
    policy = method.GetOptions().Extensions[ap.access]
    if policy.staff:
        role = ap.StaffRole.Name(policy.staff[0]).removeprefix("STAFF_ROLE_").lower()
        return creds.staff("staff-1", role)
    if policy.services:
        name = ap.ServiceName.Name(policy.services[0]).removeprefix("SERVICE_NAME_")
        return creds.service(name.lower().replace("_", "-"))
    assert policy.clients, f"{method.full_name} admits nobody"
    return creds.client(str(uuid.uuid4()))
