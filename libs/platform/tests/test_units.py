"""Pure units of the platform: validation, identity, clock, error mapping (property-based where it pays)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from google.rpc import code_pb2, error_details_pb2
from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.casework.v1 import casework_service_pb2 as api
from cms.common.v1 import types_pb2 as common
from cms_platform.clock import ManualClock
from cms_platform.errors import FieldViolation, InvalidArgument, Unauthenticated
from cms_platform.grpc_errors import to_status
from cms_platform.identity import CallerKind, IdentityCodec, client_caller, staff_caller
from cms_platform.validation import request_violations

KEY = "a-test-signing-key-of-a-sensible-length-32b"


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
    if y == m == d == 0:
        assert [v.field for v in violations] == ["start_date"]  # required and unset
    else:
        assert (not violations) == valid


def test_tokens_round_trip_and_forgeries_fail():
    codec = IdentityCodec(KEY)
    caller = codec.verify(codec.mint(staff_caller("s-1", "team_leader")))
    assert (caller.kind, caller.subject, caller.role) == (CallerKind.STAFF, "s-1", "team_leader")
    assert codec.verify(codec.mint(client_caller("c-9"))).kind is CallerKind.CLIENT
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY + "x").verify(codec.mint(client_caller("c-9")))
    with pytest.raises(Unauthenticated):
        codec.caller_from_metadata([("authorization", "Basic abc")])
    with pytest.raises(Unauthenticated):
        codec.caller_from_metadata([])


def test_expired_tokens_are_refused():
    past = ManualClock(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    token = IdentityCodec(KEY, clock=past, ttl_seconds=60).mint(staff_caller("s-1"))
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY).verify(token)


def test_verified_tokens_are_cached_until_they_expire(monkeypatch):
    codec = IdentityCodec(KEY, ttl_seconds=60)
    token = codec.mint(staff_caller("s-1"))
    calls = []
    real = codec._verify
    monkeypatch.setattr(codec, "_verify", lambda t: calls.append(t) or real(t))
    codec.verify(token)
    codec.verify(token)
    assert len(calls) == 1  # the signature is checked once
    import cms_platform.identity as identity

    later = time.time() + 3600
    monkeypatch.setattr(identity.time, "time", lambda: later)
    codec.verify(token)  # expired in the cache: checked again (and PyJWT decides on its own clock)
    assert len(calls) == 2
    with pytest.raises(Unauthenticated):
        IdentityCodec(KEY + "x").verify(token)  # another key never sees the cached entry


def test_invalid_argument_maps_to_bad_request_details():
    status = to_status(InvalidArgument([FieldViolation("a.b", "is required")]), domain="test")
    assert status.code == code_pb2.INVALID_ARGUMENT
    bad = error_details_pb2.BadRequest()
    assert status.details[1].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("a.b", "is required")]


def test_manual_clock_moves_only_when_told():
    clock = ManualClock(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert clock.now() == clock.now()
    clock.advance(dt.timedelta(days=42))
    assert clock.today() == dt.date(2026, 2, 12)


def test_paging_names_a_bad_size_or_token():
    from cms_platform.paging import page

    assert page(0, "") == (50, 0) and page(1000, "40", maximum=200) == (200, 40)
    for size, token, field in [
        (-1, "", "page_size"),
        (10, "abc", "page_token"),
        (10, "-5", "page_token"),
    ]:
        with pytest.raises(InvalidArgument) as err:
            page(size, token)
        assert [v.field for v in err.value.violations] == [field]
