"""Conversions between cms.common.v1 messages and plain values that several services need."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from cms.common.v1 import types_pb2 as common

from .errors import InvalidArgument, ViolationCollector


def full_date(date: date_pb2.Date, field: str) -> dt.date:
    """A google.type.Date that must be a whole calendar date (e.g. a date of birth)."""
    if not (date.year and date.month and date.day):
        raise InvalidArgument.field(field, "must be a full date (year, month and day)")
    return dt.date(date.year, date.month, date.day)


def date_or_violation(
    date: date_pb2.Date, path: str, violations: ViolationCollector, *, required: bool = True
) -> dt.date | None:
    """A google.type.Date as a date, or None with the field named in `violations` (unset is fine when optional)."""
    if not (date.year or date.month or date.day):
        if required:
            violations.add(path, "is required")
        return None
    try:
        return dt.date(date.year, date.month, date.day)
    except ValueError:
        violations.add(path, "must be a full calendar date")
        return None


def match_result(
    *, found: bool, failed_rules: tuple[str, ...] | list[str] = ()
) -> common.MatchResult:
    if not found:
        outcome = common.MATCH_OUTCOME_NOT_FOUND
    elif failed_rules:
        outcome = common.MATCH_OUTCOME_PARTIAL
    else:
        outcome = common.MATCH_OUTCOME_MATCHED
    return common.MatchResult(outcome=outcome, failed_rules=list(failed_rules))


def pb_date(day: dt.date | None) -> date_pb2.Date:
    """A date as a google.type.Date; None gives the unset Date."""
    return date_pb2.Date(year=day.year, month=day.month, day=day.day) if day else date_pb2.Date()


def day_of(date: date_pb2.Date) -> dt.date | None:
    """A whole google.type.Date as a date; None when unset or partial (e.g. a year-month)."""
    return (
        dt.date(date.year, date.month, date.day) if date.year and date.month and date.day else None
    )


def years_after(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (earlier when negative); 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 2, 28)
