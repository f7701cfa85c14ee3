"""Client-side load balancing (cms_platform.clients) and connection ageing (cms_platform.server): a channel built by
the platform spreads its calls over every address its target resolves to, and the server ends connections after a
maximum age so callers re-resolve after a scale-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from cms_platform.clients import open_channel, retry_service_config
from cms_platform.identity import IdentityVerifier
from cms_platform.server import GrpcServer
from cms_platform.settings import ServiceSettings

METHOD = "/cms.test.v1.Echo/Ping"


class _Counting(grpc.GenericRpcHandler):
    def __init__(self) -> None:
        self.calls = 0

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        if handler_call_details.method != METHOD:
            return None

        def ping(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.calls += 1
            return request

        return grpc.unary_unary_rpc_method_handler(ping)


@pytest.fixture
def two_replicas() -> Iterator[tuple[str, list[_Counting]]]:
    """Two real servers on port 0 behind one target, as a headless Service's DNS name resolves to every pod."""
    servers, handlers, ports = [], [], []
    for _ in range(2):
        handler = _Counting()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        servers.append(server)
        handlers.append(handler)
    yield "ipv4:///" + ",".join(f"127.0.0.1:{p}" for p in ports), handlers
    for server in servers:
        server.stop(None)


def test_a_platform_channel_spreads_calls_over_every_address(
    two_replicas: tuple[str, list[_Counting]],
) -> None:
    target, replicas = two_replicas
    channel = open_channel(target, tokens=None, services=["cms.test.v1.Echo"])
    try:
        ping = channel.unary_unary(METHOD)
        # pick_first would send all of them to the first address; round_robin reaches the second once it is
        # connected, which takes a few calls at most (bounded: no clock involved).
        for _ in range(200):
            assert ping(b"x", timeout=5) == b"x"
            if all(r.calls for r in replicas):
                break
    finally:
        channel.close()
    assert [r.calls > 0 for r in replicas] == [True, True]


def test_the_service_config_selects_round_robin_alongside_the_retries() -> None:
    config = json.loads(retry_service_config(["cms.test.v1.Echo"]))
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    assert config["methodConfig"][0]["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]


def test_the_server_ages_connections_by_the_settings() -> None:
    s = ServiceSettings()
    assert (s.grpc_max_connection_age_seconds, s.grpc_max_connection_age_grace_seconds) == (
        300.0,
        30.0,
    )
    server = GrpcServer(
        service="test",
        registrations=[],
        identity=IdentityVerifier([], audience="test"),
        host="127.0.0.1",
        port=0,
        max_connection_age_seconds=s.grpc_max_connection_age_seconds,
        max_connection_age_grace_seconds=s.grpc_max_connection_age_grace_seconds,
    )
    options = dict(server.options)
    assert options["grpc.max_connection_age_ms"] == 300_000
    assert options["grpc.max_connection_age_grace_ms"] == 30_000
    server.start()  # grpc takes the options
    server.stop(0)


def test_no_maximum_age_when_turned_off() -> None:
    server = GrpcServer(
        service="test",
        registrations=[],
        identity=IdentityVerifier([], audience="test"),
        host="127.0.0.1",
        port=0,
    )
    assert "grpc.max_connection_age_ms" not in dict(server.options)
