"""Personal data stays out of logs and spans (issue 13): every RPC of the five running services is called with a
NINO, a name and a postcode in every string field, the right ones and the wrong ones, and a NINO as the correlation
id; every line logged (ours through structlog as configured in production, the libraries' through stdlib logging)
and every span exported (attributes, events, status) is captured, and none holds any of them."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import grpc
import pytest
import structlog
from google.protobuf import descriptor as _d
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cms_devkit.testing import START
from cms_platform import logs, telemetry

from .conftest import admitted, call, empty_request, rpcs

NINO = "AB123456C"
NAME = "Ophelia Quartermaine"
POSTCODE = "SW1A 2AA"
# Every written form each may take in a line.
SECRETS = [
    NINO,
    NINO.lower(),
    "AB 12 34 56 C",
    "Ophelia",
    "Quartermaine",
    POSTCODE,
    POSTCODE.replace(" ", ""),
]
_STRING = _d.FieldDescriptor.TYPE_STRING
_MESSAGE = _d.FieldDescriptor.TYPE_MESSAGE
_ENUM = _d.FieldDescriptor.TYPE_ENUM


def _is_repeated(field: _d.FieldDescriptor) -> bool:
    return bool(field.is_repeated)


def _value_for(field: _d.FieldDescriptor, value: str, fitting: bool) -> str:
    """`value` everywhere; or, `fitting`, each kind of personal data where it belongs (and a request id that passes),
    so the call gets past validation to the code that looks people up."""
    if not fitting:
        return value
    name = field.name
    if name.endswith("request_id"):
        return str(uuid.uuid4())
    if "nino" in name or name.endswith(("reference", "crn")):
        return NINO
    if "postcode" in name or "address" in name:
        return POSTCODE
    if "name" in name:
        return NAME
    return value


def fill(message: Message, value: str, *, fitting: bool, depth: int = 0) -> Message:
    """Every string field (nested, repeated, in oneofs: the last of a oneof wins) set to a personal value; in
    `fitting` requests every enum is its first real value too."""
    for field in message.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            continue
        if field.type == _STRING:
            text = _value_for(field, value, fitting)
            if _is_repeated(field):
                getattr(message, field.name).append(text)
            else:
                setattr(message, field.name, text)
        elif field.type == _ENUM and fitting and len(field.enum_type.values) > 1:
            number = field.enum_type.values[1].number
            if _is_repeated(field):
                getattr(message, field.name).append(number)
            else:
                setattr(message, field.name, number)
        elif field.type == _MESSAGE and depth < 4:
            kind = field.message_type.full_name
            if kind == "google.type.Date" and fitting and not _is_repeated(field):
                date = getattr(message, field.name)
                date.year, date.month, date.day = 2026, 4, 6
                continue
            if kind == "google.protobuf.Timestamp" and fitting and not _is_repeated(field):
                getattr(message, field.name).FromDatetime(START)
                continue
            if kind.startswith("google.protobuf."):
                continue
            child = (
                getattr(message, field.name).add()
                if _is_repeated(field)
                else getattr(message, field.name)
            )
            fill(child, value, fitting=fitting, depth=depth + 1)
    return message


class Lines(logging.Handler):
    """Every stdlib record, as the production format would print it (message and formatted exception)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def observed() -> Iterator[tuple[io.StringIO, Lines, InMemorySpanExporter]]:
    """Logs configured as a service configures them (at DEBUG), written to a buffer; a handler on the root logger
    for the libraries; the spans exported, as any exporter gets them."""
    logs.configure_logging(service="contract", level="DEBUG")
    out = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=out))
    root = logging.getLogger()
    handler, level = Lines(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    telemetry.configure_tracing("contract")
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        pytest.skip("another tracer provider is installed")
    spans = InMemorySpanExporter()
    telemetry.export_spans(spans, batch=False)
    yield out, handler, spans
    spans.shutdown()
    root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


def _span_text(spans: InMemorySpanExporter) -> list[str]:
    return [
        repr(
            (
                s.name,
                dict(s.attributes or {}),
                [(e.name, dict(e.attributes or {})) for e in s.events],
                s.status.description,
            )
        )
        for s in spans.get_finished_spans()
    ]


def test_no_nino_name_or_postcode_reaches_a_log_line_or_a_span(observed, running, creds):
    out, stdlib, spans = observed
    calls = 0
    codes: set[grpc.StatusCode] = set()
    for service, channel in running:
        for full_name, method in rpcs(service):
            metadata = (*admitted(creds, method), ("x-correlation-id", NINO))
            for value in (NINO, NAME, POSTCODE):
                for fitting in (False, True):
                    request = fill(empty_request(method), value, fitting=fitting)
                    try:
                        call(channel, full_name, method, request, metadata)
                        codes.add(grpc.StatusCode.OK)
                    except grpc.RpcError as err:
                        codes.add(err.code())
                    calls += 1
    logged = out.getvalue().splitlines() + stdlib.lines
    exported = _span_text(spans)
    # The capture saw the calls: a line and a span for each (else the assertions below prove nothing).
    assert sum('"event": "rpc"' in line for line in logged) >= calls
    assert len(exported) >= calls
    # The calls reached the code behind validation too, not just the refusals in front of it.
    assert {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND} <= codes
    leaks = [
        (secret, text)
        for text in logged + exported
        for secret in SECRETS
        if secret.lower() in text.lower()
    ]
    assert not leaks, "\n".join(f"{secret}: {text[:400]}" for secret, text in leaks[:20])
