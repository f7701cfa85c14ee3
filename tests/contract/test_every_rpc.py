"""Every RPC of every service, through the real servers: bad input is INVALID_ARGUMENT naming the fields (or
PERMISSION_DENIED for a CRA search without a legal basis), a call without identity is UNAUTHENTICATED, and
nothing answers INTERNAL or UNKNOWN."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import symbol_database

from cms_calculation.app import CalculationService
from cms_casework.app import CaseworkService
from cms_cra_gateway.app import CraGatewayService
from cms_dwp_gateway.app import DwpGatewayService
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform.grpc_errors import details_of, violated_fields
from cms_platform.validation import request_violations

SERVICES = [
    CalculationService,
    CaseworkService,
    HmrcGatewayService,
    DwpGatewayService,
    CraGatewayService,
]
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}


@pytest.fixture(scope="module")
def running(postgres_server, tmp_path_factory):
    """All five services in-process (no broker needed), started once for the module."""
    import uuid

    from cms_devkit import infra
    from cms_devkit.testing import START, service_settings
    from cms_platform.clock import ManualClock
    from cms_platform.db import drop_database

    out, urls = [], []
    for cls in SERVICES:
        if postgres_server:
            url = infra.database_url(postgres_server, f"cms_t_{uuid.uuid4().hex[:10]}_rpcs")
            urls.append(url)
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp(cls.name)}/db.sqlite"
        service = cls(
            service_settings(cls.settings_class, database_url=url), clock=ManualClock(START)
        )
        port = service.start()
        out.append((service, grpc.insecure_channel(f"127.0.0.1:{port}")))
    yield out
    for service, channel in out:
        channel.close()
        service.stop()
    for url in urls:
        drop_database(url)


def _rpcs(service):
    for reg in service.server._registrations:
        descriptor = symbol_database.Default().pool.FindServiceByName(reg.full_name)
        for m in descriptor.methods:
            yield reg.full_name, m


def _call(channel, full_name, method, request, metadata):
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


def test_every_rpc_refuses_empty_requests_naming_the_fields(running, creds):
    checked = 0
    for service, channel in running:
        for full_name, method in _rpcs(service):
            request = symbol_database.Default().GetSymbol(method.input_type.full_name)()
            expected = {v.field for v in request_violations(request)}
            where = f"{full_name}/{method.name}"
            if (
                not expected
            ):  # nothing is required (e.g. a list with defaults): answering is right too
                try:
                    _call(channel, full_name, method, request, creds.staff())
                except grpc.RpcError as err:
                    assert err.code() not in NEVER, f"{where} answered {err.code()}"
                checked += 1
                continue
            try:
                answers = _call(channel, full_name, method, request, creds.staff())
            except grpc.RpcError as exc:
                err = exc
            else:
                # A stream that checks item by item answers the bad item with its own INVALID_ARGUMENT status.
                assert method.client_streaming and method.server_streaming, (
                    f"{where} accepted an empty request"
                )
                statuses = [a.error for a in answers if a.HasField("error")]
                assert statuses and all(
                    s.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] for s in statuses
                ), where
                checked += 1
                continue
            code = err.code()
            assert code not in NEVER, f"{where} answered {code}"
            if "legal_basis" in expected:
                assert code == grpc.StatusCode.PERMISSION_DENIED, where
                assert details_of(err)["ErrorInfo"].reason == "LEGAL_BASIS_MISSING"
            elif expected:
                assert code == grpc.StatusCode.INVALID_ARGUMENT, f"{where} answered {code}"
                fields = {f.removeprefix("[0].") for f in violated_fields(err)}
                assert expected <= fields, where
            checked += 1
    assert checked > 60  # every RPC of all five APIs


def test_every_rpc_needs_an_identity(running):
    for service, channel in running:
        for full_name, method in _rpcs(service):
            request = symbol_database.Default().GetSymbol(method.input_type.full_name)()
            with pytest.raises(grpc.RpcError) as err:
                _call(channel, full_name, method, request, ())
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, f"{full_name}/{method.name}"
