"""A case's weekly liability turned into a payment plan schedule (docs/domain/money.md §8).

Pure domain logic: no gRPC calls, no SQL, no clock. Money is integer pence throughout and is never a float.

- A full period is charged at the period's amount: weekly x1, fortnightly x2, four-weekly x4, monthly
  weekly x monthly_weeks_per_year / 12 rounded half-up to the penny (the calculation service's conversion).
- Periods run from the plan's start: every 7, 14 or 28 days, or monthly on the start's day of the month, clamped to
  the last day of shorter months (31 Jan -> 28/29 Feb -> 31 Mar; each start is worked out from the plan's start,
  never from the previous clamped date).
- The last period ends on the plan's end date; when it is shorter than a full period it is charged pro rata by days,
  weekly x days / 7 rounded half-up.
- Maintenance and both collection fees are each converted from their own weekly figure in the same way; the paying
  parent pays maintenance + their fee and the receiving parent gets maintenance - their fee.
- Payments are due in advance, on the first day of the period they cover.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cms.casework.v1 import resources_pb2 as pb
from cms.common.v1 import types_pb2 as common
from cms_platform.convert import months_after, pb_date

_DAYS_PER_PERIOD: dict[int, int] = {
    common.PAYMENT_FREQUENCY_WEEKLY: 7,
    common.PAYMENT_FREQUENCY_FORTNIGHTLY: 14,
    common.PAYMENT_FREQUENCY_FOUR_WEEKLY: 28,
}
_FREQUENCIES = frozenset({*_DAYS_PER_PERIOD, common.PAYMENT_FREQUENCY_MONTHLY})


def _is_not_int(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool)


@dataclass(frozen=True)
class ScheduleParameters:
    monthly_weeks_per_year: int = 52  # matches the calculation's schedule.monthly_weeks_per_year
    max_plan_months: int = 12  # a plan runs to the next annual review, at most 12 months

    def __post_init__(self) -> None:
        if _is_not_int(self.monthly_weeks_per_year) or self.monthly_weeks_per_year <= 0:
            raise ValueError(
                f"monthly_weeks_per_year must be a positive integer, not {self.monthly_weeks_per_year!r}"
            )
        if _is_not_int(self.max_plan_months) or self.max_plan_months <= 0:
            raise ValueError(
                f"max_plan_months must be a positive integer, not {self.max_plan_months!r}"
            )


DEFAULTS = ScheduleParameters()


# ---------------------------------------------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------------------------------------------


def period_amount(
    weekly_pence: int, frequency: int, *, params: ScheduleParameters = DEFAULTS
) -> int:
    """A full period's amount in pence for a weekly amount in pence."""
    _check_pence("weekly_pence", weekly_pence)
    _check_frequency(frequency)
    if frequency == common.PAYMENT_FREQUENCY_MONTHLY:
        return _div_half_up(weekly_pence * params.monthly_weeks_per_year, 12)
    return weekly_pence * (_DAYS_PER_PERIOD[frequency] // 7)


def _pro_rata(weekly_pence: int, days: int) -> int:
    """A part period's amount: weekly x days / 7, rounded half-up."""
    return _div_half_up(weekly_pence * days, 7)


def _div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, exactly (numerator >= 0, denominator > 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


# ---------------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------------


def _period_start(start: dt.date, frequency: int, index: int) -> dt.date:
    if frequency == common.PAYMENT_FREQUENCY_MONTHLY:
        return months_after(start, index)
    return start + dt.timedelta(days=_DAYS_PER_PERIOD[frequency] * index)


def plan_period(
    start: dt.date, annual_review_date: dt.date | None, *, params: ScheduleParameters = DEFAULTS
) -> tuple[dt.date, dt.date]:
    """The plan's (start, end inclusive): to the day before the annual review, at most max_plan_months."""
    _check_date("start", start)
    limit = months_after(start, params.max_plan_months)
    if annual_review_date is not None:
        _check_date("annual_review_date", annual_review_date)
        if start < annual_review_date <= limit:
            return start, annual_review_date - dt.timedelta(days=1)
    return start, limit - dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------------------------
# Schedule and plan
# ---------------------------------------------------------------------------------------------------------------


def build_schedule(
    *,
    weekly_maintenance_pence: int,
    weekly_paying_parent_fee_pence: int,
    weekly_receiving_parent_fee_pence: int,
    frequency: int,
    start: dt.date,
    end: dt.date,
    params: ScheduleParameters = DEFAULTS,
) -> list[pb.ScheduledPayment]:
    """One ScheduledPayment per period from `start` to `end` (inclusive), in date order."""
    return build_stepped_schedule(
        steps=[
            Step(
                start,
                weekly_maintenance_pence,
                weekly_paying_parent_fee_pence,
                weekly_receiving_parent_fee_pence,
            )
        ],
        frequency=frequency,
        start=start,
        end=end,
        params=params,
    )


@dataclass(frozen=True)
class Step:
    """Weekly amounts in force from `start` (until the next step's start)."""

    start: dt.date
    weekly_maintenance_pence: int
    weekly_paying_parent_fee_pence: int
    weekly_receiving_parent_fee_pence: int

    def weekly(self) -> dict[str, int]:
        return {
            "maintenance": self.weekly_maintenance_pence,
            "paying_parent_fee": self.weekly_paying_parent_fee_pence,
            "receiving_parent_fee": self.weekly_receiving_parent_fee_pence,
        }


def build_stepped_schedule(
    *,
    steps: Sequence[Step],
    frequency: int,
    start: dt.date,
    end: dt.date,
    params: ScheduleParameters = DEFAULTS,
) -> list[pb.ScheduledPayment]:
    """One ScheduledPayment per period from `start` to `end` (inclusive), in date order, the weekly amounts changing
    at each step's start (a change already decided that takes effect later: an expected change). A full period inside
    one step is charged at that step's period amount; a part period, or a period across steps, pro rata by days for
    each step's part of it (weekly x days / 7, rounded half-up for each part). The step in force at `start` is the last
    one starting on or before it."""
    ordered = sorted(steps, key=lambda s: s.start)
    if not ordered:
        raise ValueError("a schedule needs at least one step")
    for step in ordered:
        for name, pence in step.weekly().items():
            _check_pence(f"weekly_{name}_pence", pence)
        if step.weekly_receiving_parent_fee_pence > step.weekly_maintenance_pence:
            raise ValueError(
                "the receiving parent's fee cannot exceed the maintenance it is deducted from"
            )
    _check_frequency(frequency)
    _check_date("start", start)
    _check_date("end", end)
    if end < start:
        raise ValueError(f"a schedule cannot end ({end}) before it starts ({start})")
    # Steps cut to the schedule: the one in force at its start, and those starting within it.
    in_force = [s for s in ordered if s.start <= start][-1:] or ordered[:1]
    cut = [*in_force, *(s for s in ordered if start < s.start <= end)]
    starts = [start, *(s.start for s in cut[1:])]

    def parts(first: dt.date, last: dt.date) -> list[tuple[Step, int]]:
        """(step, days) of [first, last] inclusive."""
        out = []
        for i, step in enumerate(cut):
            lo = max(first, starts[i])
            hi = min(last, starts[i + 1] - dt.timedelta(days=1)) if i + 1 < len(cut) else last
            if lo <= hi:
                out.append((step, (hi - lo).days + 1))
        return out

    payments: list[pb.ScheduledPayment] = []
    index = 0
    period_start = start
    while period_start <= end:
        next_start = _period_start(start, frequency, index + 1)
        full_period = next_start - dt.timedelta(days=1) <= end
        period_end = next_start - dt.timedelta(days=1) if full_period else end
        pieces = parts(period_start, period_end)
        if full_period and len(pieces) == 1:
            amounts = {
                name: period_amount(pence, frequency, params=params)
                for name, pence in pieces[0][0].weekly().items()
            }
        else:
            amounts = {
                name: sum(_pro_rata(step.weekly()[name], days) for step, days in pieces)
                for name in ("maintenance", "paying_parent_fee", "receiving_parent_fee")
            }
        payments.append(
            pb.ScheduledPayment(
                due_date=pb_date(period_start),
                covers=common.DateRange(
                    start_date=pb_date(period_start), end_date=pb_date(period_end)
                ),
                maintenance_pence=amounts["maintenance"],
                paying_parent_fee_pence=amounts["paying_parent_fee"],
                amount_due_pence=amounts["maintenance"] + amounts["paying_parent_fee"],
                receiving_parent_fee_pence=amounts["receiving_parent_fee"],
                receiving_parent_amount_pence=amounts["maintenance"]
                - amounts["receiving_parent_fee"],
            )
        )
        index += 1
        period_start = next_start
    return payments


def total_due(payments: Iterable[pb.ScheduledPayment]) -> int:
    """What the paying parent pays over the payments, fees included."""
    return sum(payment.amount_due_pence for payment in payments)


def build_plan(
    *,
    weekly_maintenance_pence: int,
    weekly_paying_parent_fee_pence: int,
    weekly_receiving_parent_fee_pence: int,
    frequency: common.PaymentFrequency.ValueType,
    start: dt.date,
    annual_review_date: dt.date | None,
    service_type: pb.ServiceType.ValueType,
    method_of_payment_from: pb.MethodOfPaymentFrom.ValueType,
    calculation: str,
    params: ScheduleParameters = DEFAULTS,
    steps: Sequence[Step] = (),
) -> pb.PaymentPlan:
    """A CURRENT PaymentPlan from `start` to the day before the annual review; name and issue_time are the caller's.
    `steps`: the weekly amounts change during the plan (changes already decided that take effect later), the last
    being the weekly amounts given; none: those throughout."""
    period_start, period_end = plan_period(start, annual_review_date, params=params)
    payments = build_stepped_schedule(
        steps=steps
        or [
            Step(
                period_start,
                weekly_maintenance_pence,
                weekly_paying_parent_fee_pence,
                weekly_receiving_parent_fee_pence,
            )
        ],
        frequency=frequency,
        start=period_start,
        end=period_end,
        params=params,
    )
    return pb.PaymentPlan(
        calculation=calculation,
        state=pb.PAYMENT_PLAN_STATE_CURRENT,
        service_type=service_type,
        payment_frequency=frequency,
        method_of_payment_from=method_of_payment_from,
        weekly_amount_pence=weekly_maintenance_pence,
        period=common.DateRange(start_date=pb_date(period_start), end_date=pb_date(period_end)),
        payments=payments,
        total_due_pence=total_due(payments),
    )


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _check_pence(name: str, pence: object) -> None:
    if not isinstance(pence, int) or isinstance(pence, bool):
        raise TypeError(f"{name} must be integer pence, not {type(pence).__name__}")
    if pence < 0:
        raise ValueError(f"{name} cannot be negative ({pence})")


def _check_frequency(frequency: int) -> None:
    if frequency == common.PAYMENT_FREQUENCY_UNSPECIFIED:
        raise ValueError("a payment frequency is required (PAYMENT_FREQUENCY_UNSPECIFIED)")
    if frequency not in _FREQUENCIES:
        raise ValueError(f"unknown payment frequency {frequency!r}")


def _check_date(name: str, day: object) -> None:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(day).__name__}")
