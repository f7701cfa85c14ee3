"""Every RPC of every service, fuzzed through the real servers: requests generated from the contracts' descriptors
(edge-case values, unknown enum numbers, oversized strings and lists, impossible dates), garbage and truncated
bytes. Whatever arrives, a service answers with a status a caller can act on: never INTERNAL or UNKNOWN, never
past the call's deadline, and it still answers Health afterwards.

`make test` runs a bounded number of examples per RPC (CMS_FUZZ_EXAMPLES, default 4); `make fuzz` runs many more.
The counts by status code go to build/fuzz-report.md."""

from __future__ import annotations

import collections
import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor as _d
from google.protobuf import symbol_database
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms_platform.service import CmsService

from .conftest import admitted

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("CMS_FUZZ_EXAMPLES", "4"))
_REQUIRED = field_behavior_pb2.REQUIRED
DEADLINE = 10.0
NEVER = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED}
# Counts of answers by status code, per service: written to build/fuzz-report.md at the end of the module.
ANSWERS: collections.Counter[tuple[str, str]] = collections.Counter()

_INT_EDGES = {
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
}
_TYPES = {
    _d.FieldDescriptor.TYPE_INT32: "int32",
    _d.FieldDescriptor.TYPE_SINT32: "int32",
    _d.FieldDescriptor.TYPE_SFIXED32: "int32",
    _d.FieldDescriptor.TYPE_INT64: "int64",
    _d.FieldDescriptor.TYPE_SINT64: "int64",
    _d.FieldDescriptor.TYPE_SFIXED64: "int64",
    _d.FieldDescriptor.TYPE_UINT32: "uint32",
    _d.FieldDescriptor.TYPE_FIXED32: "uint32",
    _d.FieldDescriptor.TYPE_UINT64: "uint64",
    _d.FieldDescriptor.TYPE_FIXED64: "uint64",
}


# -- generating requests from descriptors ----------------------------------------------------------------------


def _integer(kind: str) -> st.SearchStrategy[int]:
    low, high = _INT_EDGES[kind]
    edges = [low, high, 0, 1, -1, 2, 7, 100, 366, 10_000_00] if low < 0 else [low, high, 0, 1, 7]
    return st.one_of(
        st.sampled_from([e for e in edges if low <= e <= high]), st.integers(low, high)
    )


_STRINGS = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(
        [
            "AA123456A",
            "ZZ999999Z",
            "cases/" + str(uuid.UUID(int=0)),
            "clients/x",
            "cases/-",
            "ruleSets/2014-08-11",
            "%_\\",
            "\x00",
            "' OR 1=1 --",
            "9" * 40,
            "2024-25",
        ]
    ),
    st.text(min_size=300, max_size=400),
    st.just("x" * 60_000),
)


def _date(data: st.DataObject) -> dict[str, int]:
    if data.draw(
        st.integers(0, 3)
    ):  # mostly a real day, so the request gets past the generic checks
        day = data.draw(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
        return {"year": day.year, "month": day.month, "day": day.day}
    return {
        "year": data.draw(st.sampled_from([0, 1, 1899, 1985, 2026, 9999, 10000])),
        "month": data.draw(st.integers(0, 13)),
        "day": data.draw(st.integers(0, 32)),
    }


_NINOS = st.sampled_from(
    ["AA123456A", "AB234567B", "AC345678C", "AE456789D", "ZZ999999Z", "aa 12 34 56 a"]
)
_NAMES = st.sampled_from(
    [
        "cases/-",
        "cases/" + str(uuid.UUID(int=1)),
        "clients/" + str(uuid.UUID(int=2)),
        "calculations/x",
    ]
)


def _string(data: st.DataObject, field: _d.FieldDescriptor) -> str:
    """A value shaped for the field when its name says what it holds, else anything."""
    name = field.name
    shaped = data.draw(st.integers(0, 2)) > 0
    if name == "request_id" or name.endswith("_request_id"):
        return str(uuid.uuid4()) if shaped else data.draw(_STRINGS)
    if shaped and "nino" in name:
        return data.draw(_NINOS)
    if shaped and name in ("name", "parent") or name.endswith("_name") and shaped:
        return data.draw(_NAMES)
    return data.draw(_STRINGS)


def _value(data: st.DataObject, field: _d.FieldDescriptor, depth: int) -> Any:
    if field.type == _d.FieldDescriptor.TYPE_MESSAGE:
        sub = symbol_database.Default().GetSymbol(field.message_type.full_name)()
        _fill(data, sub, depth + 1)
        return sub
    if field.type == _d.FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return data.draw(st.one_of(st.sampled_from(known), st.integers(-3, 1_000_000)))
    if field.type == _d.FieldDescriptor.TYPE_STRING:
        return _string(data, field)
    if field.type == _d.FieldDescriptor.TYPE_BYTES:
        return data.draw(st.binary(max_size=64))
    if field.type == _d.FieldDescriptor.TYPE_BOOL:
        return data.draw(st.booleans())
    if field.type in (_d.FieldDescriptor.TYPE_DOUBLE, _d.FieldDescriptor.TYPE_FLOAT):
        return data.draw(st.floats(allow_nan=True, allow_infinity=True, width=32))
    return data.draw(_integer(_TYPES[field.type]))


def _fill(data: st.DataObject, msg: Message, depth: int = 0) -> None:
    """Set a drawn subset of the message's fields (deeper messages less often), with drawn values."""
    if msg.DESCRIPTOR.full_name == "google.type.Date":
        for k, v in _date(data).items():
            setattr(
                msg, k, max(v, 0)
            )  # the wire type is int32; a negative year is refused generically too
        return
    if msg.DESCRIPTOR.full_name == "google.protobuf.Timestamp":
        msg.seconds = data.draw(st.integers(-62135596800, 253402300799))
        return
    for field in msg.DESCRIPTOR.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            continue
        required = _REQUIRED in field.GetOptions().Extensions[field_behavior_pb2.field_behavior]
        if not data.draw(st.integers(0, 9).map(lambda n: n > 0) if required else st.booleans()):
            continue
        if field.is_repeated:
            count = data.draw(st.sampled_from([0, 1, 2, 3, 1_200]))
            if field.type == _d.FieldDescriptor.TYPE_MESSAGE and (depth >= 2 or count > 3):
                count = min(count, 3) if depth < 2 else 0
            values = [_value(data, field, depth) for _ in range(min(count, 3))]
            if count > 3 and values and field.type != _d.FieldDescriptor.TYPE_MESSAGE:
                values = values * (count // len(values))
            getattr(msg, field.name).extend(values)
        elif field.type == _d.FieldDescriptor.TYPE_MESSAGE:
            if depth < 3:
                getattr(msg, field.name).CopyFrom(_value(data, field, depth))
        else:
            try:
                setattr(msg, field.name, _value(data, field, depth))
            except (ValueError, TypeError):
                pass  # a value the Python runtime itself refuses to set cannot be sent as such


# -- the running services (tests/contract/conftest.py: all five, started once for the module) ----------------------


@pytest.fixture(scope="module", autouse=True)
def _afterwards(running: list[tuple[CmsService, grpc.Channel]]) -> Iterator[None]:
    """After the whole module: the counts go to the report, and every service still answers Health."""
    yield
    _report()
    for service, channel in running:
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING, service.name


def _report() -> None:
    by_service: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for (service, code), n in ANSWERS.items():
        by_service[service][code] += n
    codes = sorted({code for _, code in ANSWERS})
    lines = [
        f"# Fuzz run: {EXAMPLES} examples per RPC, plus garbage and truncated bytes",
        "",
        "| service | " + " | ".join(codes) + " | total |",
        "|---|" + "---|" * (len(codes) + 1),
    ]
    for service, counts in sorted(by_service.items()):
        cells = [str(counts.get(c, 0)) for c in codes]
        lines.append(f"| {service} | " + " | ".join(cells) + f" | {sum(counts.values())} |")
    Path("build").mkdir(exist_ok=True)
    Path("build/fuzz-report.md").write_text("\n".join(lines) + "\n")


# Every API of every service, known before the services start (pytest collects the parameters first).
_APIS = {
    "calculation": ("cms.calculation.v1.CalculationService",),
    "casework": ("cms.casework.v1.CaseworkService",),
    "hmrc-gateway": ("cms.hmrc.v1.HmrcGatewayService", "cms.hmrc.v1.HmrcScenarioService"),
    "dwp-gateway": ("cms.dwp.v1.DwpGatewayService", "cms.dwp.v1.DwpScenarioService"),
    "cra-gateway": ("cms.cra.v1.CraGatewayService", "cms.cra.v1.CraScenarioService"),
}
METHODS = [
    (service, name, method)
    for service, names in _APIS.items()
    for name in names
    for method in symbol_database.Default().pool.FindServiceByName(name).methods
]


def _send(
    channel: grpc.Channel,
    full_name: str,
    method: _d.MethodDescriptor,
    payloads: list[bytes],
    metadata: Any,
) -> grpc.StatusCode:
    path = f"/{full_name}/{method.name}"
    raw: dict[str, Any] = dict(request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        if method.client_streaming and method.server_streaming:
            list(
                channel.stream_stream(path, **raw)(
                    iter(payloads), metadata=metadata, timeout=DEADLINE
                )
            )
        elif method.client_streaming:
            channel.stream_unary(path, **raw)(iter(payloads), metadata=metadata, timeout=DEADLINE)
        elif method.server_streaming:
            list(
                channel.unary_stream(path, **raw)(payloads[0], metadata=metadata, timeout=DEADLINE)
            )
        else:
            channel.unary_unary(path, **raw)(payloads[0], metadata=metadata, timeout=DEADLINE)
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def _channel(running: list[tuple[CmsService, grpc.Channel]], name: str) -> grpc.Channel:
    return next(channel for service, channel in running if service.name == name)


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("CMS_FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck),
)
IDS = [f"{name.rsplit('.', 1)[-1]}.{m.name}" for _, name, m in METHODS]


@pytest.mark.parametrize(("service", "full_name", "method"), METHODS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_generated_requests_get_an_answer_a_caller_can_act_on(
    running: Any, creds: Any, service: str, full_name: str, method: _d.MethodDescriptor, data: Any
) -> None:
    request_type = symbol_database.Default().GetSymbol(method.input_type.full_name)
    payloads = []
    for _ in range(data.draw(st.integers(1, 3)) if method.client_streaming else 1):
        request = request_type()
        _fill(data, request)
        payloads.append(request.SerializeToString())
    code = _send(_channel(running, service), full_name, method, payloads, admitted(creds, method))
    ANSWERS[(full_name.rsplit(".", 1)[-1], code.name)] += 1
    assert code not in NEVER, f"{full_name}/{method.name} answered {code.name}"


@pytest.mark.parametrize(("service", "full_name", "method"), METHODS, ids=IDS)
@FUZZ
@given(data=st.data())
def test_garbage_and_truncated_bytes_are_refused_cleanly(
    running: Any, creds: Any, service: str, full_name: str, method: _d.MethodDescriptor, data: Any
) -> None:
    request = symbol_database.Default().GetSymbol(method.input_type.full_name)()
    _fill(data, request)
    whole = request.SerializeToString()
    payload = data.draw(
        st.one_of(
            st.binary(min_size=1, max_size=64),
            st.just(whole[: max(1, len(whole) // 2)] if whole else b"\x0a"),
            st.just(b"\xff" * 16),
        )
    )
    code = _send(_channel(running, service), full_name, method, [payload], admitted(creds, method))
    ANSWERS[(full_name.rsplit(".", 1)[-1], code.name)] += 1
    assert code not in NEVER, f"{full_name}/{method.name} answered {code.name} to bad bytes"
