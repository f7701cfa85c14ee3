"""What the tracing set-up does with the environment and with SQLAlchemy's spans (docs/architecture.md, "Traces"):
the standard OTEL_* variables, both OTLP protocols against real receivers, and no `connect` span in a request."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from cms.calculation.v1 import calculation_service_pb2 as api
from cms.calculation.v1 import calculation_service_pb2_grpc as api_grpc
from cms.calculation.v1 import resources_pb2 as pb
from cms_devkit.testing import local_issuer
from cms_platform import telemetry
from cms_platform.db import make_engine, make_sessionmaker
from cms_platform.identity import IdentityVerifier, TrustedIssuer, client_caller, staff_caller

OTEL_VARIABLES = (
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean OTEL_* environment for the test to set."""
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_service_name_is_the_default_and_the_environment_overrides_it(env):
    attributes = telemetry.tracer_provider("casework").resource.attributes
    assert (attributes["service.name"], attributes["service.namespace"]) == ("casework", "cms")
    env.setenv("OTEL_SERVICE_NAME", "casework-blue")
    env.setenv(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.namespace=cms-staging,deployment.environment.name=staging",
    )
    attributes = telemetry.tracer_provider("casework").resource.attributes
    assert attributes["service.name"] == "casework-blue"
    assert attributes["service.namespace"] == "cms-staging"
    assert attributes["deployment.environment.name"] == "staging"


def _records(provider: TracerProvider, name: str = "work", **kw) -> bool:
    span = provider.get_tracer("test").start_span(name, **kw)
    span.end()
    return span.is_recording() or span.get_span_context().trace_flags.sampled


@pytest.mark.parametrize(
    ("sampler", "arg", "sampled"),
    [
        (None, None, True),  # parentbased_always_on
        ("always_off", None, False),
        ("traceidratio", "0", False),
        ("traceidratio", "1", True),
    ],
)
def test_the_sampler_is_the_one_otel_traces_sampler_names(env, sampler, arg, sampled):
    if sampler:
        env.setenv("OTEL_TRACES_SAMPLER", sampler)
    if arg:
        env.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
    provider = telemetry.tracer_provider("test")
    assert _records(provider) is sampled
    # A connection checkout is never sampled, whatever the sampler, nor a statement outside any work; a gRPC call
    # is sampled as any span is.
    assert not _records(provider, "connect", kind=trace.SpanKind.CLIENT)
    assert not _records(provider, "SELECT cms", kind=trace.SpanKind.CLIENT)
    assert (
        _records(
            provider,
            "/cms.calculation.v1.CalculationService/GetRuleSet",
            kind=trace.SpanKind.CLIENT,
        )
        is sampled
    )
    with provider.get_tracer("test").start_as_current_span("request", kind=trace.SpanKind.SERVER):
        assert _records(provider, "SELECT cms", kind=trace.SpanKind.CLIENT) is sampled


def test_otel_sdk_disabled_makes_no_spans(env):
    env.setenv("OTEL_SDK_DISABLED", "true")
    span = telemetry.tracer_provider("test").get_tracer("test").start_span("work")
    assert not span.get_span_context().is_valid


class _HttpCollector(BaseHTTPRequestHandler):
    got: list[tuple[str, trace_service_pb2.ExportTraceServiceRequest]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((self.path, trace_service_pb2.ExportTraceServiceRequest.FromString(body)))
        answer = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _GrpcCollector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.got: list[tuple[str, trace_service_pb2.ExportTraceServiceRequest]] = []

    def Export(self, request, context):
        self.got.append(("grpc", request))
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
def collector(request) -> Iterator[tuple[str, list]]:
    """A real OTLP receiver for the protocol the test names: (endpoint, what it received)."""
    if request.param == "http/protobuf":
        handler = type("Collector", (_HttpCollector,), {"got": []})
        http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{http.server_address[1]}", handler.got
        http.shutdown()
        http.server_close()
    else:
        servicer = _GrpcCollector()
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        yield f"http://127.0.0.1:{port}", servicer.got
        server.stop(0)


@pytest.mark.parametrize("collector", ["grpc", "http/protobuf"], indirect=True)
def test_spans_go_out_over_the_protocol_otel_exporter_otlp_protocol_names(env, collector, request):
    endpoint, got = collector
    protocol = request.node.callspec.params["collector"]
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
    env.setenv("OTEL_SERVICE_NAME", "probe-service")
    provider = telemetry.tracer_provider("test")
    with provider.get_tracer("test").start_as_current_span("probe"):
        pass
    assert provider.force_flush(10_000)
    provider.shutdown()
    assert got, f"nothing reached the {protocol} receiver"
    path, export = got[0]
    assert path == ("grpc" if protocol == "grpc" else "/v1/traces")
    [resource_spans] = export.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert service["service.name"] == "probe-service"
    assert [s.name for ss in resource_spans.scope_spans for s in ss.spans] == ["probe"]


def test_an_unknown_protocol_is_refused_at_start(env):
    env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
    env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
    with pytest.raises(ValueError, match="http/json"):
        telemetry.tracer_provider("test")


# -- connect spans --------------------------------------------------------------------------------------------------

ISSUER = local_issuer()
IDENTITY = IdentityVerifier([TrustedIssuer.model_validate(ISSUER.trusted())], audience="test")


class _ReadingServicer(api_grpc.CalculationServiceServicer):
    """GetRuleSet reads the database, as every real RPC does."""

    def __init__(self, sessions) -> None:
        self._sessions = sessions

    def GetRuleSet(self, request, context) -> pb.RuleSet:
        with self._sessions() as s:
            s.execute(text("SELECT 1"))
        return pb.RuleSet(name=request.name)


@pytest.fixture
def global_spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (as a service configures it), exporting to memory; SQLAlchemy instrumented."""
    telemetry.configure_tracing("platform-tests")
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        pytest.skip("another tracer provider is installed")
    spans = InMemorySpanExporter()
    telemetry.export_spans(spans, batch=False)
    instrumentor = SQLAlchemyInstrumentor()
    instrumentor.instrument()
    try:
        yield spans
    finally:
        instrumentor.uninstrument()
        spans.shutdown()


def test_a_request_that_reads_the_database_makes_no_connect_span_and_a_poll_no_span(
    global_spans, database_url, serve_calculation
):
    engine = make_engine(database_url("telemetry"))  # after instrumenting, as a service's is
    try:
        stub = serve_calculation(_ReadingServicer(make_sessionmaker(engine)), IDENTITY)
        token = ISSUER.mint(staff_caller("s-1", "caseworker"), audience="test")
        stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/2012"),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )
        # The same read outside any request, as a relay's or consumer's poll makes it.
        with make_sessionmaker(engine)() as s:
            s.execute(text("SELECT 2"))
    finally:
        engine.dispose()
    finished = global_spans.get_finished_spans()
    [served] = [s for s in finished if s.name.endswith("/GetRuleSet")]
    in_request = [s for s in finished if s.context.trace_id == served.context.trace_id]
    assert any("SELECT" in s.name for s in in_request), [s.name for s in in_request]
    assert not [s for s in finished if s.name == "connect"]
    assert not [s for s in finished if s.parent is None and "SELECT" in s.name]


def _spans_of_a_read(database_url, instrument: Callable[[TracerProvider], object]) -> list:
    """What a plain provider, exporting to memory, gets from one read after `instrument(provider)` instrumented
    SQLAlchemy (uninstrumented after)."""
    provider = TracerProvider()
    spans = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    try:
        instrument(provider)
        engine = make_engine(database_url("telemetry"))
        with make_sessionmaker(engine)() as s:
            s.execute(text("SELECT 1"))
        engine.dispose()
    finally:
        SQLAlchemyInstrumentor().uninstrument()
    return list(spans.get_finished_spans())


def test_without_the_sampler_the_instrumentation_does_make_connect_spans(database_url):
    """The test above could fail: the same read, traced by a plain provider, makes a connect span and a root
    statement span."""
    finished = _spans_of_a_read(
        database_url, lambda plain: SQLAlchemyInstrumentor().instrument(tracer_provider=plain)
    )
    assert [s for s in finished if s.name == "connect"]
    assert [s for s in finished if s.parent is None and "SELECT" in s.name]


def test_sql_is_instrumented_only_when_something_reads_the_spans(database_url):
    """A service instruments SQLAlchemy at start only when an exporter (or a test's processor) takes its spans."""
    assert not SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
    assert not telemetry.instrument_sql(TracerProvider())  # no processor: nobody reads
    assert not SQLAlchemyInstrumentor().is_instrumented_by_opentelemetry
    instrumented: list[bool] = []
    finished = _spans_of_a_read(
        database_url, lambda read: instrumented.append(telemetry.instrument_sql(read))
    )
    assert instrumented == [True]
    assert [s for s in finished if "SELECT" in s.name]


# -- the server span ------------------------------------------------------------------------------------------------


class _TracedServicer(api_grpc.CalculationServiceServicer):
    """GetRuleSet answers and notes the span it ran in; for ruleSets/broken it fails as a bug would."""

    def __init__(self) -> None:
        self.seen: list[trace.SpanContext] = []

    def GetRuleSet(self, request, context) -> pb.RuleSet:
        self.seen.append(trace.get_current_span().get_span_context())
        if request.name == "ruleSets/broken":
            raise RuntimeError("a bug")
        return pb.RuleSet(name=request.name)


def _caller_trace() -> tuple[int, dict[str, str]]:
    """A client span's trace id and the W3C headers that carry it."""
    carrier: dict[str, str] = {}
    with TracerProvider().get_tracer("client").start_as_current_span("client") as span:
        propagate.inject(carrier)
    return span.get_span_context().trace_id, carrier


def test_every_rpc_has_a_server_span_in_the_callers_trace_with_its_status(
    global_spans, serve_calculation
):
    servicer = _TracedServicer()
    stub = serve_calculation(servicer, IDENTITY)
    trace_id, carrier = _caller_trace()
    staff = ISSUER.mint(staff_caller("s-1", "caseworker"), audience="test")
    client = ISSUER.mint(client_caller("c-1"), audience="test")
    call = api.GetRuleSetRequest(name="ruleSets/2012")
    stub.GetRuleSet(
        call, metadata=(("authorization", f"Bearer {staff}"), *carrier.items()), timeout=10
    )
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetRuleSet(call, metadata=(("authorization", f"Bearer {client}"),), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as failed:
        stub.GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/broken"),
            metadata=(("authorization", f"Bearer {staff}"),),
            timeout=10,
        )
    assert failed.value.code() == grpc.StatusCode.INTERNAL

    finished = [s for s in global_spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    ok, denied, broken = [s for s in finished if s.name.endswith("/GetRuleSet")]
    # The servicer ran inside the span, which continues the caller's trace.
    assert servicer.seen == [ok.context, broken.context]
    assert ok.context.trace_id == trace_id and ok.parent is not None and ok.parent.is_remote
    assert ok.attributes["rpc.system"] == "grpc"
    assert ok.attributes["rpc.service"] == "cms.calculation.v1.CalculationService"
    assert ok.attributes["rpc.method"] == "GetRuleSet"
    assert ok.attributes["rpc.grpc.status_code"] == grpc.StatusCode.OK.value[0]
    assert ok.attributes["net.peer.ip"] == "127.0.0.1"
    assert ok.status.status_code == trace.StatusCode.UNSET
    # A refusal is the caller's doing: its code and no error status; without a caller's trace, a trace of its own.
    assert denied.attributes["rpc.grpc.status_code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert denied.status.status_code == trace.StatusCode.UNSET and denied.parent is None
    # A failure is the server's: ERROR, with the exception recorded.
    assert broken.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]
    assert broken.status.status_code == trace.StatusCode.ERROR
    assert [e.name for e in broken.events] == ["exception"]


def test_health_makes_no_span(global_spans):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from cms_platform.server import GrpcServer, ServiceRegistration

    server = GrpcServer(
        service="test",
        registrations=[
            ServiceRegistration(
                api.DESCRIPTOR.services_by_name["CalculationService"].full_name,
                api_grpc.add_CalculationServiceServicer_to_server,
                _TracedServicer(),
            )
        ],
        identity=IDENTITY,
        host="127.0.0.1",
        port=0,
    )
    with grpc.insecure_channel(f"127.0.0.1:{server.start()}") as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        api_grpc.CalculationServiceStub(channel).GetRuleSet(
            api.GetRuleSetRequest(name="ruleSets/2012"),
            metadata=(
                ("authorization", f"Bearer {ISSUER.mint(staff_caller('s-1'), audience='test')}"),
            ),
            timeout=10,
        )
    server.stop(0)
    names = [s.name for s in global_spans.get_finished_spans()]
    assert any(n.endswith("/GetRuleSet") for n in names)  # spans are being made
    assert not [n for n in names if "grpc.health" in n]


def test_a_span_nothing_reads_keeps_its_ids_and_follows_the_sampler():
    provider = TracerProvider()
    assert not telemetry.spans_read(provider)
    trace_id, carrier = _caller_trace()
    parent = propagate.extract(carrier)
    span = telemetry.unread_span("/a.B/C", parent, trace.SpanKind.SERVER, provider)
    above = trace.get_current_span(parent).get_span_context()
    ctx = span.get_span_context()
    assert not span.is_recording() and ctx.is_valid and not ctx.is_remote
    assert ctx.trace_id == trace_id and ctx.span_id != above.span_id
    assert ctx.trace_flags.sampled  # parent-based: the caller's trace was sampled
    # Without a caller: a trace of its own; and a sampler that drops says so in the flags.
    root = telemetry.unread_span("/a.B/C", otel_context.Context(), trace.SpanKind.SERVER, provider)
    assert root.get_span_context().trace_id not in (0, trace_id)
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

    dropped = telemetry.unread_span(
        "/a.B/C", otel_context.Context(), trace.SpanKind.SERVER, TracerProvider(sampler=ALWAYS_OFF)
    )
    assert (
        dropped.get_span_context().is_valid and not dropped.get_span_context().trace_flags.sampled
    )
    provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    assert telemetry.spans_read(provider)
