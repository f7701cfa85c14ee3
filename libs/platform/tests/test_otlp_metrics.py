"""Metrics over OTLP (cms_platform.metrics.export_metrics), as the otel component promises: a service process with
the standard OTEL_* variables pushes its metrics to a plain OTLP receiver, over gRPC or HTTP as
OTEL_EXPORTER_OTLP_PROTOCOL says, with the names the scrape has. The process is a child of the test, since a
MeterProvider is set once per process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as otlp
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as otlp_grpc

# What a service does: record through cms_platform.metrics after export_metrics; the provider flushes at exit.
_SERVICE = """
from cms_platform import metrics
assert metrics.export_metrics("otlp-test") is not None
metrics.RPC_HANDLED.labels("otlp-test", "/cms.Test/Do", "OK").inc()
metrics.RPC_DURATION.labels("otlp-test", "/cms.Test/Do", "OK").observe(0.02)
metrics.OUTBOX_OLDEST_AGE.labels("otlp-test").set(42)
"""


class _Received:
    def __init__(self) -> None:
        self.requests: list[otlp.ExportMetricsServiceRequest] = []
        self.arrived = threading.Event()

    def add(self, request: otlp.ExportMetricsServiceRequest) -> None:
        self.requests.append(request)
        self.arrived.set()

    def metrics(self) -> dict[str, object]:
        return {
            m.name: m
            for r in self.requests
            for rm in r.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        }

    def service_names(self) -> set[str]:
        return {
            a.value.string_value
            for r in self.requests
            for rm in r.resource_metrics
            for a in rm.resource.attributes
            if a.key == "service.name"
        }


@pytest.fixture
def grpc_receiver() -> Iterator[tuple[str, _Received]]:
    received = _Received()

    class Service(otlp_grpc.MetricsServiceServicer):
        def Export(self, request, context):
            received.add(request)
            return otlp.ExportMetricsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    otlp_grpc.add_MetricsServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://127.0.0.1:{port}", received
    server.stop(0)


@pytest.fixture
def http_receiver() -> Iterator[tuple[str, _Received]]:
    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/metrics":
                received.add(otlp.ExportMetricsServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()
            self.wfile.write(otlp.ExportMetricsServiceResponse().SerializeToString())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def _run_service(**env: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", _SERVICE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_metrics_reach_an_otlp_receiver_over_the_protocol_asked_for(
    protocol, grpc_receiver, http_receiver
):
    (grpc_url, over_grpc), (http_url, over_http) = grpc_receiver, http_receiver
    wanted, other = (over_grpc, over_http) if protocol == "grpc" else (over_http, over_grpc)
    _run_service(
        OTEL_EXPORTER_OTLP_ENDPOINT=grpc_url if protocol == "grpc" else http_url,
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
        OTEL_SERVICE_NAME="otlp-test",
    )
    assert wanted.arrived.wait(30) and not other.requests
    metrics = wanted.metrics()
    assert {"cms_rpc_handled", "cms_rpc_server_duration_seconds"} <= metrics.keys()
    assert "cms_outbox_oldest_unpublished_age_seconds" in metrics
    duration = metrics["cms_rpc_server_duration_seconds"]
    point = duration.histogram.data_points[0]
    assert (point.count, duration.unit) == (1, "s")
    assert {a.key: a.value.string_value for a in point.attributes} == {
        "service": "otlp-test",
        "method": "/cms.Test/Do",
        "code": "OK",
    }
    assert list(point.explicit_bounds)[:3] == [0.001, 0.0025, 0.005]  # the scrape's buckets
    assert wanted.service_names() == {"otlp-test"}


def test_nothing_is_exported_without_an_endpoint_or_when_the_exporter_is_none(grpc_receiver):
    from cms_platform.metrics import export_metrics

    url, received = grpc_receiver
    assert export_metrics("x", environ={}) is None
    assert (
        export_metrics(
            "x", environ={"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_METRICS_EXPORTER": "none"}
        )
        is None
    )
    assert not received.requests
