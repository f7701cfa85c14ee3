"""Personal data stays out of logs and spans: every RPC of the five running services is called with a
NINO, a name and a postcode in every string field, the right ones and the wrong ones, and a NINO as the correlation
id; every line logged (ours through structlog as configured in production, the libraries' through stdlib logging)
and every span exported (attributes, events, status) is captured, and none holds any of them."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterator

import grpc
import pytest
import structlog
from google.protobuf import descriptor as _d
from google.protobuf.message import Message
from google.type import date_pb2
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cms.casework.v1 import casework_service_pb2 as api
from cms.casework.v1 import casework_service_pb2_grpc as api_grpc
from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_calculation.app import CalculationService
from cms_casework.app import CaseworkService
from cms_devkit.testing import START
from cms_dwp_gateway.app import DwpGatewayService
from cms_hmrc_gateway.app import HmrcGatewayService
from cms_platform import logs, telemetry
from cms_platform.grpc_errors import details_of

from .conftest import Metadata, admitted, call, empty_request, rpcs

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


_SHAPE = re.compile(r"must look like (\S+)")


def _shaped_names(err: grpc.RpcError, request: Message, value: str) -> bool:
    """Sets every field refused as "must look like cases/{id}" to that shape with `value` as each id; True if any."""
    bad = details_of(err).get("BadRequest")
    shaped = False
    for violation in bad.field_violations if bad else ():
        found = _SHAPE.search(violation.description)
        path = violation.field.removeprefix("[0].").split(".")
        if found is None or any("[" in part for part in path):
            continue
        holder = request
        for part in path[:-1]:
            holder = getattr(holder, part)
        setattr(holder, path[-1], re.sub(r"\{[^}]*\}", value, found.group(1)))
        shaped = True
    return shaped


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
    factory = logging.getLogRecordFactory()
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
    logging.setLogRecordFactory(factory)
    structlog.reset_defaults()


def _span_text(spans: InMemorySpanExporter) -> list[str]:
    return _span_text_of(spans.get_finished_spans())


def _span_text_of(finished) -> list[str]:
    return [
        repr(
            (
                s.name,
                dict(s.attributes or {}),
                [(e.name, dict(e.attributes or {})) for e in s.events],
                s.status.description,
            )
        )
        for s in finished
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
                    for attempt in range(2):
                        try:
                            call(channel, full_name, method, request, metadata)
                            codes.add(grpc.StatusCode.OK)
                        except grpc.RpcError as err:
                            codes.add(err.code())
                            # A resource name the service would parse: shaped as it asks, the value as the id.
                            named = attempt == 0 and _shaped_names(err, request, value)
                            if named:
                                calls += 1
                                continue
                        calls += 1
                        break
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


def _person(nino: str, forenames: str, surname: str, born: date_pb2.Date) -> common.PersonIdentity:
    name = common.PersonName(forenames=forenames, surname=surname)
    return common.PersonIdentity(nino=nino, name=name, date_of_birth=born)


def create_case_request() -> api.CreateCaseRequest:
    """Alex Turner and Bethan Morgan of the synthetic population's fixtures, and their two children."""
    return api.CreateCaseRequest(
        request_id=str(uuid.uuid4()),
        paying_parent=pb.Client(
            identity=_person(
                "AA123456A", "Alex", "Turner", date_pb2.Date(year=1985, month=3, day=14)
            )
        ),
        receiving_parent=pb.Client(
            identity=_person(
                "AB234567B", "Bethan", "Morgan", date_pb2.Date(year=1979, month=11, day=2)
            )
        ),
        qualifying_children=[
            pb.QualifyingChild(
                name=common.PersonName(forenames=forenames, surname="Morgan"),
                date_of_birth=date_pb2.Date(year=year, month=month, day=day),
            )
            for forenames, year, month, day in (("Amy", 2015, 7, 1), ("Ben", 2018, 2, 9))
        ],
        payment_frequency=common.PAYMENT_FREQUENCY_MONTHLY,
    )


def test_a_case_created_and_calculated_across_the_services_logs_no_personal_data(
    observed, start_service, creds
):
    """The happy path, where casework asks HMRC and DWP about real (synthetic) people and calculation works out
    their maintenance: their NINOs, names and postcodes reach no log line or span, ours or the clients'."""
    out, stdlib, spans = observed
    before = (len(out.getvalue()), len(stdlib.lines), len(spans.get_finished_spans()))
    calc, _ = start_service(CalculationService)
    hmrc, _ = start_service(HmrcGatewayService)
    dwp, _ = start_service(DwpGatewayService)
    _, channel = start_service(
        CaseworkService,
        calculation_address=f"127.0.0.1:{calc.server.port}",
        hmrc_gateway_address=f"127.0.0.1:{hmrc.server.port}",
        dwp_gateway_address=f"127.0.0.1:{dwp.server.port}",
        scheduler_interval_seconds=0,
    )
    casework = api_grpc.CaseworkServiceStub(channel)
    caseworker = creds.staff("staff-7", "caseworker")
    created = casework.CreateCase(create_case_request(), metadata=caseworker, timeout=30)
    casework.CalculateCase(
        api.CalculateCaseRequest(request_id=str(uuid.uuid4()), name=created.name),
        metadata=caseworker,
        timeout=30,
    )
    casework.GetCase(api.GetCaseRequest(name=created.name), metadata=caseworker, timeout=10)
    logged = out.getvalue()[before[0] :].splitlines() + stdlib.lines[before[1] :]
    exported = _span_text_of(spans.get_finished_spans()[before[2] :])
    # Casework called the gateways and calculation (client spans), so the people were asked about.
    assert any("HmrcGatewayService" in s for s in exported)
    assert any("CalculationService" in s for s in exported)
    people = [
        "AA123456A",
        "AB234567B",
        "Alex",
        "Turner",
        "Bethan",
        "Morgan",
        "LS6 1DL",
        "1985-03-14",
    ]
    leaks = [(p, t) for t in logged + exported for p in people if p.lower() in t.lower()]
    assert not leaks, "\n".join(f"{p}: {t[:400]}" for p, t in leaks[:20])


def _answered(
    channel: grpc.Channel, full_name: str, method: _d.MethodDescriptor, metadata: Metadata
):
    """The trailers of a unary call with an empty request, or None when it is refused (a refusal's status details
    replace the trailers today)."""
    request = empty_request(method)
    try:
        _, rpc_call = channel.unary_unary(
            f"/{full_name}/{method.name}",
            request_serializer=type(request).SerializeToString,
            response_deserializer=lambda b: b,
        ).with_call(request, metadata=metadata, timeout=10)
    except grpc.RpcError:
        return None
    return dict(rpc_call.trailing_metadata())


def test_a_correlation_id_is_kept_only_when_it_is_a_short_token(running, creds):
    """Echoed in the trailers and written on every line: a NINO, a postcode or free text is replaced by a new id."""
    # An RPC that answers an empty request (a list with defaults, say).
    channel, full_name, method = next(
        (ch, full_name, m)
        for service, ch in running
        for full_name, m in rpcs(service)
        if not (m.client_streaming or m.server_streaming)
        and _answered(ch, full_name, m, admitted(creds, m)) is not None
    )
    for given, kept in (
        ("req-2026.12.06_0001", True),
        (NINO, False),
        ("ab 12 34 56 c", False),
        ("SW1A2AA", False),
        (NAME, False),
        ("x" * 65, False),
    ):
        metadata = (*admitted(creds, method), ("x-correlation-id", given))
        trailers = _answered(channel, full_name, method, metadata)
        assert trailers is not None
        returned = trailers["x-correlation-id"]
        assert (returned == given) is kept, given
        assert kept or uuid.UUID(returned)
