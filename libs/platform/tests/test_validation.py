"""Generic request validation from the contracts' annotations (cms_platform.validation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from google.protobuf import descriptor as _d
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import casework_service_pb2 as api
from cms.common.v1 import field_limits_pb2 as fl
from cms.common.v1 import types_pb2 as common
from cms_platform import access
from cms_platform.validation import file_defaults, limits_of, request_violations, stream_limits


def test_required_fields_are_named_by_path():
    request = api.CreateCaseRequest(request_id="nope")
    request.paying_parent.identity.name.forenames = "Alex"
    fields = {v.field for v in request_violations(request)}
    assert {
        "request_id",
        "receiving_parent",
        "paying_parent.identity.nino",
        "paying_parent.identity.name.surname",
        "paying_parent.identity.date_of_birth",
    } <= fields
    assert "paying_parent.identity.name.forenames" not in fields


@given(st.integers(0, 9999), st.integers(0, 12), st.integers(0, 31))
def test_dates_follow_google_type_date_rules(y, m, d):
    violations = request_violations(
        common.DateRange(start_date=date_pb2.Date(year=y, month=m, day=d))
    )
    if y and m and d:
        try:
            dt.date(y, m, d)
            valid = True
        except ValueError:
            valid = False
    else:
        valid = not (m == 0 and d != 0)
    valid = valid and (y == 0 or 1900 <= y <= 2200)  # types.proto's default years
    if y == m == d == 0:
        assert [v.field for v in violations] == ["start_date"]  # required and unset
    else:
        assert (not violations) == valid


# -- the contract's field limits (cms.common.v1.limits / default_limits) and enum values -----------------------


def _limits_test_message() -> type[Message]:
    """A message declared only here, so each rule of the option is exercised on its own: the file says max_length 10,
    max_items 3, years 2000-2100; fields override."""
    name = "cms/test/v1/limited.proto"
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(name)
    except KeyError:
        f = descriptor_pb2.FileDescriptorProto(
            name=name,
            package="cms.test.v1",
            dependency=["cms/common/v1/field_limits.proto", "google/type/date.proto"],
            syntax="proto3",
        )
        f.options.Extensions[fl.default_limits].CopyFrom(
            fl.DefaultLimits(max_length=10, max_items=3, min_year=2000, max_year=2100)
        )
        e = f.enum_type.add(name="Colour")
        for n, v in (("COLOUR_UNSPECIFIED", 0), ("COLOUR_RED", 1)):
            e.value.add(name=n, number=v)
        m = f.message_type.add(name="Limited")
        F = descriptor_pb2.FieldDescriptorProto
        specs = [
            ("short", F.TYPE_STRING, F.LABEL_OPTIONAL, None, None),
            ("long", F.TYPE_STRING, F.LABEL_OPTIONAL, None, fl.FieldLimits(max_length=50)),
            ("tags", F.TYPE_STRING, F.LABEL_REPEATED, None, None),
            ("batch", F.TYPE_INT64, F.LABEL_REPEATED, None, fl.FieldLimits(max_items=5)),
            ("pence", F.TYPE_INT64, F.LABEL_OPTIONAL, None, fl.FieldLimits(min=0, max=1000)),
            ("count", F.TYPE_INT64, F.LABEL_OPTIONAL, None, None),
            ("colour", F.TYPE_ENUM, F.LABEL_OPTIONAL, ".cms.test.v1.Colour", None),
            ("colours", F.TYPE_ENUM, F.LABEL_REPEATED, ".cms.test.v1.Colour", None),
            ("day", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".google.type.Date", None),
            (
                "old",
                F.TYPE_MESSAGE,
                F.LABEL_OPTIONAL,
                ".google.type.Date",
                fl.FieldLimits(min_year=1800),
            ),
            (
                "any",
                F.TYPE_MESSAGE,
                F.LABEL_OPTIONAL,
                ".google.type.Date",
                fl.FieldLimits(any_date=True),
            ),
            ("child", F.TYPE_MESSAGE, F.LABEL_OPTIONAL, ".cms.test.v1.Limited", None),
            ("children", F.TYPE_MESSAGE, F.LABEL_REPEATED, ".cms.test.v1.Limited", None),
        ]
        for number, (field, kind, label, type_name, limits) in enumerate(specs, start=1):
            fd = m.field.add(name=field, number=number, type=kind, label=label)
            if type_name:
                fd.type_name = type_name
            if limits is not None:
                fd.options.Extensions[fl.limits].CopyFrom(limits)
        pool.AddSerializedFile(f.SerializeToString())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("cms.test.v1.Limited"))


def _violations(**fields: object) -> dict[str, str]:
    return {v.field: v.description for v in request_violations(_limits_test_message()(**fields))}


def test_strings_are_limited_by_the_file_default_unless_the_field_says_otherwise():
    assert _violations(short="x" * 10, long="y" * 50, tags=["z" * 10]) == {}
    assert _violations(short="x" * 11, long="y" * 51, tags=["ok", "z" * 11]) == {
        "short": "must be at most 10 characters",
        "long": "must be at most 50 characters",
        "tags[1]": "must be at most 10 characters",
    }


@given(st.characters(codec="utf-8", categories=["Cc"]))
def test_strings_hold_no_control_characters_but_tab_and_line_breaks(control):
    if control in "\t\n\r":
        assert _violations(long=f"a{control}b") == {}
    else:
        assert _violations(long=f"a{control}b", tags=[control]) == {
            "long": "must not contain control characters (tab and line breaks aside)",
            "tags[0]": "must not contain control characters (tab and line breaks aside)",
        }


def test_repeated_fields_are_limited_and_an_over_large_list_is_refused_without_reading_its_items():
    assert _violations(tags=["a"] * 3, batch=[1] * 5) == {}
    Limited = _limits_test_message()
    assert _violations(tags=["a"] * 4, batch=[1] * 6, children=[Limited(short="x" * 99)] * 4) == {
        "tags": "must have at most 3 items",
        "batch": "must have at most 5 items",
        "children": "must have at most 3 items",
    }


def test_integers_are_bounded_where_the_field_declares_it():
    assert _violations(pence=0) == _violations(pence=1000) == _violations(count=-(2**63)) == {}
    assert _violations(pence=-1) == {"pence": "must be at least 0"}
    assert _violations(pence=2**63 - 1) == {"pence": "must be at most 1000"}


def test_dates_fall_in_the_declared_years_unless_the_field_takes_any_date():
    d = date_pb2.Date
    assert _violations(day=d(year=2000, month=1, day=1), old=d(year=1800, month=1, day=1)) == {}
    assert _violations(day=d(month=2, day=29)) == {}  # a month-day has no year to check
    assert _violations(any=d(year=1, month=1, day=1)) == {}
    assert _violations(
        day=d(year=1999, month=12, day=31),
        old=d(year=1799, month=1),
        any=d(year=1, month=2, day=30),
    ) == {
        "day": "must be a date in the years 2000 to 2100",
        "old": "must be a date in the years 1800 to 2100",
        "any": "is not a valid calendar date",
    }


def test_enum_values_must_be_ones_the_enum_declares_also_in_lists_and_nested_messages():
    Limited = _limits_test_message()
    assert _violations(colour=1, colours=[0, 1]) == {}
    assert _violations(colour=5, colours=[1, 99], children=[Limited(colour=7)]) == {
        "colour": "is not a value Colour declares",
        "colours[1]": "is not a value Colour declares",
        "children[0].colour": "is not a value Colour declares",
    }
    # The real contracts: the bad inputs outside callers sent.
    assert _fields(api.ListCasesRequest(state=5)) == {"state"}
    assert _fields(api.ListThirdPartiesRequest(kind=99)) == {"kind"}


def test_without_required_checks_the_limits_still_apply():
    request = api.CreateCaseRequest(request_id="nope")
    request.qualifying_children.add().name.forenames = "x" * 201
    assert {v.field for v in request_violations(request, required=False)} == {
        "qualifying_children[0].name.forenames"
    }


@given(st.text(min_size=201, max_size=400), st.integers(2200 + 1, 9999))
def test_a_violation_never_echoes_the_value(text, year):
    request = api.CreateCaseRequest()
    request.paying_parent.identity.name.surname = text
    request.paying_parent.identity.date_of_birth.CopyFrom(date_pb2.Date(year=year, month=1, day=1))
    request.qualifying_children.add().date_of_birth.CopyFrom(
        date_pb2.Date(year=year, month=2, day=30)
    )
    described = " ".join(v.description for v in request_violations(request))
    assert "must be at most 200 characters" in described and "years 1900 to 2200" in described
    assert text not in described and str(year) not in described


def _fields(request: Message) -> set[str]:
    return {v.field for v in request_violations(request)}


# -- every contract declares its limits ---------------------------------------------------------------------


def _request_messages() -> Iterator[_d.Descriptor]:
    """Every cms message a request can carry, from every RPC of every contract."""
    seen: set[str] = set()
    todo = [m.input_type for s in access.contract_services() for m in s.methods]
    while todo:
        desc = todo.pop()
        if desc.full_name in seen or desc.full_name.startswith("google."):
            continue
        seen.add(desc.full_name)
        yield desc
        todo.extend(f.message_type for f in desc.fields if f.message_type is not None)


def test_every_file_a_request_uses_declares_its_default_limits():
    files = {m.file.name for m in _request_messages()}
    missing = sorted(
        f for f in files if file_defaults(descriptor_pool.Default().FindFileByName(f)) is None
    )
    assert len(files) > 10
    assert not missing, (
        "declare option (cms.common.v1.default_limits) (protos/cms/common/v1/field_limits.proto) in: "
        + ", ".join(missing)
    )


def test_every_money_field_in_a_request_is_bounded_to_a_billion_pounds():
    money = [
        f
        for m in _request_messages()
        for f in m.fields
        if f.name.endswith("_pence") and f.type in (f.TYPE_INT64, f.TYPE_INT32)
    ]
    assert len(money) > 20
    unbounded = [
        f.full_name
        for f in money
        if not (limits_of(f).HasField("min") and limits_of(f).HasField("max"))
        or limits_of(f).max > 100_000_000_000
        or limits_of(f).min < -100_000_000_000
    ]
    assert not unbounded


def test_every_client_stream_declares_how_many_messages_a_call_may_carry():
    streams = [m for s in access.contract_services() for m in s.methods if m.client_streaming]
    assert streams
    declared = stream_limits(access.contract_services())
    assert sorted(f"/{m.containing_service.full_name}/{m.name}" for m in streams) == sorted(
        declared
    )
