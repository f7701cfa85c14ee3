"""OpenTelemetry: exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, otherwise stays silent.

Spans still exist without an exporter (trace ids reach logs and Kafka headers); they are just not shipped. Every
exporter sits behind `RedactingExporter`: what the instrumentation records (a refusal's message as the status
description, a caller's user agent, an exception's message and stack trace as an event) leaves the process with
personal data masked by the same rules as the logs (cms_platform.redaction).

The standard OTEL_* variables are read by the SDK itself: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (over
the service's own name), OTEL_TRACES_SAMPLER(_ARG), OTEL_SDK_DISABLED, and the exporter's endpoint, headers,
timeout and compression; OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL picks the gRPC or the HTTP/protobuf exporter.
SQLAlchemy's `connect` spans (one per connection checkout) and statements outside any traced work (the idle
pollers') are never recorded.

Work that outlives the event or request that caused it (a row a background job picks up later) keeps the trace
context with the row (`current_context()`) and runs under `continued()`, so the trace stays one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status

from .redaction import redact, redact_text

_configured = False


def _attributes(attributes: Any) -> dict[str, Any]:
    return redact(dict(attributes or {}))


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` whose name, attributes, events and status description carry no personal data."""
    return ReadableSpan(
        name=redact_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_attributes(span.attributes),
        events=[
            Event(redact_text(e.name), _attributes(e.attributes), timestamp=e.timestamp)
            for e in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=Status(
            span.status.status_code,
            None if span.status.description is None else redact_text(span.status.description),
        ),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class RedactingExporter(SpanExporter):
    """Passes redacted copies of the spans to `inner` (an exporter sees only what may leave the process)."""

    def __init__(self, inner: SpanExporter):
        self._inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([redacted_span(s) for s in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def export_spans(exporter: SpanExporter, *, batch: bool = True) -> None:
    """Ship this process's spans to `exporter`, redacted; needs configure_tracing first."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        raise RuntimeError("configure_tracing first")
    processor = BatchSpanProcessor if batch else SimpleSpanProcessor
    provider.add_span_processor(processor(RedactingExporter(exporter)))


class WithoutIdleDatabaseSpans(Sampler):
    """`inner` (the sampler OTEL_TRACES_SAMPLER names), except for the database spans nobody reads: SQLAlchemy's
    `connect` spans (one per connection checkout: the relays' and consumers' polls made almost every span of an
    idle service, each a trace of its own), and a statement run outside any request, event or job (those same
    polls). Statements inside a traced piece of work are kept. A client span named otherwise than a gRPC method
    (`/package.Service/Method`) is the SQLAlchemy instrumentation's: it is the only other client instrumented."""

    def __init__(self, inner: Sampler):
        self._inner = inner

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        if kind == SpanKind.CLIENT and not name.startswith("/"):
            parent = trace.get_current_span(parent_context).get_span_context()
            if name == "connect" or not parent.is_valid:
                return SamplingResult(Decision.DROP)
        return self._inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"WithoutIdleDatabaseSpans{{{self._inner.get_description()}}}"


def otlp_exporter() -> SpanExporter:
    """The OTLP span exporter for OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL (`grpc`, the
    default, or `http/protobuf`); it reads its endpoint, headers and the rest from the environment itself."""
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "grpc"
    ).strip()
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    raise ValueError(
        f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported: use grpc or http/protobuf"
    )


def tracer_provider(service: str) -> TracerProvider:
    """This process's tracer provider as the environment configures it (see the module's doc)."""
    # Ours first, then what the environment says (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) over it.
    resource = Resource.create({"service.name": service, "service.namespace": "cms"}).merge(
        OTELResourceDetector().detect()
    )
    # The SDK reads OTEL_TRACES_SAMPLER(_ARG) and OTEL_SDK_DISABLED as it is made; the sampler is then wrapped
    # before any tracer takes it.
    provider = TracerProvider(resource=resource)
    provider.sampler = WithoutIdleDatabaseSpans(provider.sampler)
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip()
    if exporter != "none" and (
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    ):
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(otlp_exporter())))
    return provider


def configure_tracing(service: str) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    trace.set_tracer_provider(tracer_provider(service))


def tracer(name: str = "cms") -> trace.Tracer:
    return trace.get_tracer(name)


def spans_read(provider: Any = None) -> bool:
    """Whether anything receives this process's finished spans (an exporter, a test's processor). When nothing
    does, a span need only carry its ids (`unread_span`); an SDK whose shape is not the one known here counts as
    read, so spans are then made as usual."""
    provider = provider if provider is not None else trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider) or getattr(provider, "_disabled", True):
        return (
            True  # the API's own proxy or no-op, or a disabled SDK: its spans cost nothing anyway
        )
    processors = getattr(
        getattr(provider, "_active_span_processor", None), "_span_processors", None
    )
    return not isinstance(processors, tuple) or bool(processors)


def instrument_sql(provider: TracerProvider | None = None) -> bool:
    """Instrument SQLAlchemy (a span per statement) when anything reads this process's spans (`spans_read`), before
    any engine is made; returns whether it did. With nothing reading them the spans are pure cost: their making was
    about a tenth of a busy casework's CPU under a steady event load (docs/benchmarks.md)."""
    if not spans_read(provider):
        return False
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(
        **({"tracer_provider": provider} if provider is not None else {})
    )
    return True


def unread_span(
    name: str, parent: otel_context.Context, kind: SpanKind, provider: Any = None
) -> trace.Span:
    """A span nobody will read (`spans_read()` false) as the SDK would make it, but without recording anything:
    in the parent's trace or a new one, a span id of its own, sampled as the provider's sampler decides. Its ids
    still reach logs, outbound calls and events' headers; the recording (attributes checked one by one, locks,
    the span's end) was a third of an empty RPC's interceptor time."""
    provider = provider if provider is not None else trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    above = trace.get_current_span(parent).get_span_context()
    ids = provider.id_generator
    trace_id = above.trace_id if above.is_valid else ids.generate_trace_id()
    sampled = provider.sampler.should_sample(parent, trace_id, name, kind)
    return trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id,
            ids.generate_span_id(),
            is_remote=False,
            trace_flags=trace.TraceFlags(
                trace.TraceFlags.SAMPLED if sampled.decision.is_sampled() else 0
            ),
            trace_state=sampled.trace_state,
        )
    )


def current_context() -> dict[str, str]:
    """The current trace context as W3C headers (`traceparent`, `tracestate`), to store with deferred work."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued(
    name: str, carriers: Sequence[Mapping[str, str]], **attributes: Any
) -> Iterator[trace.Span]:
    """A span for deferred work, in the trace of the first stored context (`current_context()`) and linked to
    every one: a pass that applies what several events raised belongs to the first one's trace and points at
    the others'. With no stored context it starts a trace of its own."""
    contexts = [
        trace.get_current_span(propagate.extract(dict(c))).get_span_context() for c in carriers
    ]
    valid = [c for c in contexts if c.is_valid]
    parent = (
        trace.set_span_in_context(trace.NonRecordingSpan(valid[0]))
        if valid
        else otel_context.Context()  # not the current one: a pass is no part of whatever ran before it
    )
    with tracer("cms.jobs").start_as_current_span(
        name,
        context=parent,
        kind=SpanKind.INTERNAL,
        links=[Link(c) for c in valid],
        attributes=attributes or None,
    ) as span:
        yield span
