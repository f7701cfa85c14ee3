"""The call being served, bound by the server and read by outbound clients (cms_platform.calls, server, clients),
through a real gRPC server on port 0."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit.testing import local_issuer
from cms_platform import calls
from cms_platform.clients import CmsClientInterceptor, open_channel
from cms_platform.identity import IdentityVerifier, TokenDirectory, TrustedIssuer
from cms_platform.server import GrpcServer, ServiceRegistration


class _Recorder(api_grpc.CalculationServiceServicer):
    """Answers GetRuleSet with what the code below the servicer sees of the call."""

    def GetRuleSet(
        self, request: api.GetRuleSetRequest, context: grpc.ServicerContext
    ) -> pb.RuleSet:
        call = calls.current_call()
        assert call is not None
        remaining = call.time_remaining()
        return pb.RuleSet(
            name=call.operation,
            version=call.method,
            description="none" if remaining is None else f"{remaining:.3f}",
        )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, TokenDirectory]]:
    issuer = local_issuer()
    identity = IdentityVerifier([TrustedIssuer.model_validate(issuer.trusted())], audience="test")
    # GetRuleSet is open to the casework service among others (its access policy).
    issuer.write_service_tokens("casework", tmp_path, ["test"])
    full_name = api.DESCRIPTOR.services_by_name["CalculationService"].full_name
    srv = GrpcServer(
        service="test",
        registrations=[
            ServiceRegistration(
                full_name, api_grpc.add_CalculationServiceServicer_to_server, _Recorder()
            )
        ],
        identity=identity,
        host="127.0.0.1",
        port=0,
    )
    port = srv.start()
    srv.set_ready(True)
    yield port, TokenDirectory(tmp_path)
    srv.stop(0)


def _channel(port: int, tokens: TokenDirectory, deadline: float) -> grpc.Channel:
    return open_channel(
        f"127.0.0.1:{port}",
        tokens=tokens.source("test"),
        services=[api.DESCRIPTOR.services_by_name["CalculationService"].full_name],
        default_deadline=deadline,
    )


def test_the_server_binds_the_operation_and_the_deadline_the_caller_sent(server):
    port, tokens = server
    with _channel(port, tokens, deadline=30.0) as channel:
        answer = api_grpc.CalculationServiceStub(channel).GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/x")
        )
    assert answer.name == "/cms.calculation.v1.CalculationService/GetRuleSet"
    assert answer.version == "GetRuleSet"
    # What the server saw left of the caller's 30 s (not the server's default, not none); wide both ways: a loaded
    # CI machine may take seconds to connect, and the deadline crosses the wire rounded (30.092 s was seen).
    assert 10.0 < float(answer.description) <= 31.0
    assert calls.current_call() is None  # nothing left bound on this side


def test_an_outbound_call_gets_no_more_time_than_the_call_being_served_has_left(server):
    port, tokens = server
    with _channel(port, tokens, deadline=5.0) as channel:
        stub = api_grpc.CalculationServiceStub(channel)
        with calls.serving("a-job", timeout=1.0):
            answer = stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"))
        assert float(answer.description) < 1.0  # capped by what the job had left, less the margin
        unbound = stub.GetRuleSet(api.GetRuleSetRequest(name="ruleSets/x"))
        assert float(unbound.description) > 4.0  # the channel's own default


def test_the_client_deadline_never_goes_below_its_floor():
    interceptor = CmsClientInterceptor(None, default_deadline=5.0)
    with calls.serving("late", timeout=0.0):
        time.sleep(0.01)
        assert interceptor.deadline() == pytest.approx(0.05)
    assert interceptor.deadline() == 5.0


def test_a_call_is_running_out_when_less_than_the_margin_is_left():
    from cms_platform.errors import ResourceExhausted

    assert not calls.running_out()  # no call: no deadline
    with calls.serving("no-deadline"):
        assert not calls.running_out()
        calls.ensure_time("the work")
    with calls.serving("plenty", timeout=3600.0):
        assert not calls.running_out() and calls.running_out(margin=7200.0)
        calls.ensure_time("the work")
    with calls.serving("spent", timeout=0.0):
        assert calls.running_out()
        with pytest.raises(ResourceExhausted) as refused:
            calls.ensure_time("the work")
    assert refused.value.reason == "DEADLINE_TOO_SHORT" and "the work" in refused.value.message
