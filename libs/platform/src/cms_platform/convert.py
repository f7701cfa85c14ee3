"""The one place plain values cross to and from the contracts' primitive messages: dates (whole, partial and
optional), timestamps, money in pence, names, addresses and match results. Services convert their own aggregates;
anything two services would both write lives here.

Dates follow google.type.Date: an all-zero Date is "no date"; a year-month Date (day 0) is a month, not a day.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from cms.common.v1 import types_pb2 as common

from .errors import InvalidArgument, ViolationCollector

# -- dates ---------------------------------------------------------------------------------------------------------


def pb_date(day: dt.date | None) -> date_pb2.Date:
    """A date as a google.type.Date; None gives the unset Date."""
    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day else date_pb2.Date()


def optional_date(day: dt.date | None) -> date_pb2.Date | None:
    """For message constructors: a Date, or None to leave the field unset."""
    return None if day is None else pb_date(day)


def day_of(date: date_pb2.Date) -> dt.date | None:
    """A whole google.type.Date as a date; None when unset, partial (e.g. a year-month) or not in the calendar
    (31 February): for dates a rule treats as missing unless they are real days."""
    if not (date.year and date.month and date.day):
        return None
    try:
        return dt.date(date.year, date.month, date.day)
    except ValueError:
        return None


def strict_date(date: date_pb2.Date) -> dt.date | None:
    """A google.type.Date as a date; None when unset. Raises ValueError for a partial date (only some of year, month
    and day) or one not in the calendar: for input that must be a whole date when given."""
    if not (date.year or date.month or date.day):
        return None
    if not (date.year and date.month and date.day):
        raise ValueError("must be a full date (year, month and day)")
    try:
        return dt.date(date.year, date.month, date.day)
    except ValueError as exc:
        raise ValueError(f"is not a calendar date: {exc}") from None


def month_start(date: date_pb2.Date | None) -> dt.date | None:
    """A google.type.Date as the day it starts on: a year-month Date (day 0) is its 1st; None when unset (year 0)."""
    if date is None or date.year == 0:
        return None
    return dt.date(date.year, date.month or 1, date.day or 1)


def full_date(date: date_pb2.Date, field: str) -> dt.date:
    """A google.type.Date that must be a whole calendar date (e.g. a date of birth), else INVALID_ARGUMENT."""
    if not (date.year and date.month and date.day):
        raise InvalidArgument.field(field, "must be a full date (year, month and day)")
    try:
        return dt.date(date.year, date.month, date.day)
    except ValueError:
        raise InvalidArgument.field(field, "is not a calendar date") from None


def date_or_violation(
    date: date_pb2.Date, path: str, violations: ViolationCollector, *, required: bool = True
) -> dt.date | None:
    """A google.type.Date as a date, or None with the field named in `violations` (unset is fine when optional)."""
    try:
        value = strict_date(date)
    except ValueError:
        violations.add(path, "must be a full calendar date")
        return None
    if value is None and required:
        violations.add(path, "is required")
    return value


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (earlier when negative); 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 2, 28)


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, clamped to the last day of a shorter month (31 January + 1 month is
    28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def timestamp_of(value: dt.date | dt.datetime) -> timestamp_pb2.Timestamp:
    """A Timestamp for an instant (timezone-aware) or a date (its start, UTC)."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


# -- money ---------------------------------------------------------------------------------------------------------


def check_pence(
    path: str, value: int, violations: ViolationCollector, *, allow_negative: bool = False
) -> int | None:
    """An amount in integer pence (the contracts' `*_pence`), named in `violations` when negative and not allowed."""
    if not allow_negative and value < 0:
        violations.add(path, "must not be negative")
        return None
    return value


# -- names and addresses -------------------------------------------------------------------------------------------


def person_name(forenames: str, surname: str, title: str = "") -> common.PersonName:
    return common.PersonName(title=title, forenames=forenames, surname=surname)


def name_text(name: common.PersonName) -> str:
    """A name as a line of text: "Alex Turner"."""
    return " ".join(part for part in (name.forenames.strip(), name.surname.strip()) if part)


class PostalAddress(Protocol):
    """What any service's address value has (lines, post town, postcode, country)."""

    @property
    def lines(self) -> Sequence[str]: ...
    @property
    def post_town(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def country(self) -> str: ...


def address_to_proto(address: PostalAddress) -> common.Address:
    return common.Address(
        lines=list(address.lines),
        post_town=address.post_town,
        postcode=address.postcode,
        country=address.country,
    )


# -- matching ------------------------------------------------------------------------------------------------------


def match_result(*, found: bool, failed_rules: Sequence[str] = ()) -> common.MatchResult:
    """How a person was matched: not found, partial (the rules that failed) or matched."""
    if not found:
        outcome = common.MATCH_OUTCOME_NOT_FOUND
    elif failed_rules:
        outcome = common.MATCH_OUTCOME_PARTIAL
    else:
        outcome = common.MATCH_OUTCOME_MATCHED
    return common.MatchResult(outcome=outcome, failed_rules=list(failed_rules))
