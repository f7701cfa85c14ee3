"""The shared conversions of primitive values (cms_platform.convert)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2
from hypothesis import given
from hypothesis import strategies as st

from cms.common.v1 import types_pb2 as common
from cms_platform import convert
from cms_platform.errors import InvalidArgument, ViolationCollector


@given(st.dates())
def test_a_date_round_trips_through_google_type_date(day):
    assert convert.day_of(convert.pb_date(day)) == day
    assert convert.strict_date(convert.pb_date(day)) == day
    assert convert.month_start(convert.pb_date(day)) == day
    assert convert.optional_date(day) == convert.pb_date(day)


def test_no_date_and_partial_dates():
    unset = date_pb2.Date()
    month = date_pb2.Date(year=2025, month=3)
    assert convert.pb_date(None) == unset and convert.optional_date(None) is None
    assert convert.day_of(unset) is None and convert.strict_date(unset) is None
    assert convert.day_of(month) is None  # a month is not a day
    assert convert.month_start(month) == dt.date(2025, 3, 1)
    with pytest.raises(ValueError, match="full date"):
        convert.strict_date(month)
    with pytest.raises(ValueError, match="calendar"):
        convert.strict_date(date_pb2.Date(year=2025, month=2, day=30))


def test_dates_in_requests_are_named_when_wrong():
    v = ViolationCollector()
    assert convert.date_or_violation(date_pb2.Date(), "a", v) is None
    assert convert.date_or_violation(date_pb2.Date(), "b", v, required=False) is None
    assert convert.date_or_violation(date_pb2.Date(year=2025, month=2, day=30), "c", v) is None
    assert [(x.field, x.description) for x in v.violations] == [
        ("a", "is required"),
        ("c", "must be a full calendar date"),
    ]
    with pytest.raises(InvalidArgument) as refused:
        convert.full_date(date_pb2.Date(year=2025, month=2), "date_of_birth")
    assert refused.value.violations[0].field == "date_of_birth"


def test_years_after_keeps_29_february_in_february():
    assert convert.years_after(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert convert.years_after(dt.date(2024, 2, 29), 4) == dt.date(2028, 2, 29)
    assert convert.years_after(dt.date(2025, 6, 1), -20) == dt.date(2005, 6, 1)


def test_timestamps_of_dates_start_at_midnight_utc():
    assert convert.timestamp_of(dt.date(2026, 4, 6)).ToDatetime(tzinfo=dt.UTC) == dt.datetime(
        2026, 4, 6, tzinfo=dt.UTC
    )
    instant = dt.datetime(2026, 4, 6, 9, 30, tzinfo=dt.UTC)
    assert convert.timestamp_of(instant).ToDatetime(tzinfo=dt.UTC) == instant


def test_pence_names_names_addresses_and_matches():
    v = ViolationCollector()
    assert convert.check_pence("amount_pence", -1, v) is None
    assert convert.check_pence("refund_pence", -1, v, allow_negative=True) == -1
    assert [x.field for x in v.violations] == ["amount_pence"]
    name = convert.person_name("Siân", "Llewellyn-Price", "Ms")
    assert convert.name_text(name) == "Siân Llewellyn-Price" and name.title == "Ms"
    address = common.Address(lines=["1 High St"], post_town="LEEDS", postcode="LS1 1AA")
    assert convert.address_to_proto(address) == address
    assert convert.match_result(found=False).outcome == common.MATCH_OUTCOME_NOT_FOUND
    partial = convert.match_result(found=True, failed_rules=("DATE_OF_BIRTH",))
    assert partial.outcome == common.MATCH_OUTCOME_PARTIAL
    assert partial.failed_rules == ["DATE_OF_BIRTH"]
    assert convert.match_result(found=True).outcome == common.MATCH_OUTCOME_MATCHED


def test_a_day_that_is_not_in_the_calendar_is_no_day():
    assert convert.day_of(date_pb2.Date(year=2025, month=2, day=30)) is None
    assert convert.day_of(date_pb2.Date(month=2, day=3)) is None


def test_months_end_on_the_last_day_of_a_shorter_month():
    assert convert.months_after(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert convert.months_after(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)
    assert convert.months_after(dt.date(2026, 11, 15), 13) == dt.date(2027, 12, 15)


@given(st.dates(max_value=dt.date(9000, 1, 1)), st.integers(min_value=0, max_value=40))
def test_months_after_moves_by_whole_months_and_never_past_the_day(day, months):
    later = convert.months_after(day, months)
    assert (later.year - day.year) * 12 + later.month - day.month == months
    assert later.day <= day.day
