"""OpenTelemetry: exports over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, otherwise stays silent.

Spans still exist without an exporter (trace ids reach logs and Kafka headers); they are just not shipped. Every
exporter sits behind `RedactingExporter`: what the instrumentation records (a refusal's message as the status
description, a caller's user agent, an exception's message and stack trace as an event) leaves the process with
personal data masked by the same rules as the logs (cms_platform.redaction).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status

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


def configure_tracing(service: str) -> None:
    global _configured
    if _configured:
        return
    _configured = True
    resource = Resource.create(
        {"service.name": os.environ.get("OTEL_SERVICE_NAME", service), "service.namespace": "cms"}
    )
    trace.set_tracer_provider(TracerProvider(resource=resource))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        export_spans(OTLPSpanExporter())


def tracer(name: str = "cms") -> trace.Tracer:
    return trace.get_tracer(name)
