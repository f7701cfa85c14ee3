"""The scenario admin service's requests as the simulator's values: dates, award components, payment frequencies
and the outcome a scenario forces on Jobcentre Plus."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from google.type import date_pb2

from cms.dwp.v1 import resources_pb2 as pb
from cms_platform.convert import date_or_violation
from cms_platform.errors import InvalidArgument, ViolationCollector

from .. import convert as records
from ..deductions import convert as deductions
from ..port import AwardComponent, PaymentFrequency, Rejection


def optional_day(date: date_pb2.Date, path: str) -> dt.date | None:
    """A whole date when given, else None; INVALID_ARGUMENT naming `path` for a partial or impossible one."""
    v = ViolationCollector()
    day = date_or_violation(date, path, v, required=False)
    v.raise_if_any()
    return day


def day(date: date_pb2.Date, path: str) -> dt.date:
    """A date that must be given; INVALID_ARGUMENT naming `path` otherwise."""
    v = ViolationCollector()
    found = date_or_violation(date, path, v)
    v.raise_if_any()
    assert found is not None  # required: a violation otherwise
    return found


def frequency_of(value: int) -> PaymentFrequency | None:
    return records.FREQUENCY_OF.get(value)


def components(given: Iterable[pb.AwardComponent]) -> tuple[AwardComponent, ...]:
    return tuple(AwardComponent(c.type, c.sub_type, c.amount_pence, c.payable) for c in given)


def forced_outcome(value: int) -> bool | None:
    """Whether a scenario forces JCP to accept (True) or reject (False); None lets JCP decide by its checks."""
    if not value:
        return None
    return value == pb.DEDUCTION_OUTCOME_ACCEPTED


def forced_rejection(value: int) -> Rejection | None:
    """The rejection reason a scenario forces (None: JCP's own, or OTHER)."""
    if not value:
        return None
    found = deductions.rejection_of(value)
    if found is None:
        raise InvalidArgument.field("forced_rejection_reason", f"{value} is not a rejection reason")
    return found
