"""Deduction orders and deductions from benefit as arithmetic (docs/domain/money.md §9).

Pure domain logic: no gRPC calls, no SQL, no clock. Money is integer pence throughout and is never a float.

- Normal deduction rate (NDR) per pay day: the current weekly maintenance and the paying parent's collection fee,
  each converted to the pay frequency as a payment plan converts them (payment_plans.rules.period_amount), plus the
  arrears component asked for per pay day.
- Protected earnings: a proportion of the pay day's net earnings (60%, reg 11 of SI 1992/1989, in basis points,
  rounded up to the penny in the employee's favour) is never deducted from. What the employer deducts is
  min(NDR + shortfall carried in, net earnings - protected earnings); the shortfall carried to the next pay day is
  NDR + shortfall carried in - deducted, never negative.
- The employer's admin charge (£1 a pay day) is the employer's own and may breach the protected earnings.
- A pay day's remittance is due by the 19th of the month after the pay day; the employer's notice that the employee
  left is due within 10 days of the leaving date.
- A deduction from benefit follows the flat-rate liability: off the flat rate it is cancelled; on it, the standard
  type at the standard weekly amount, the non-standard type at any other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from cms.common.v1 import types_pb2 as common
from cms_platform.convert import months_after

from ..payment_plans import rules as plans

PAY_FREQUENCIES = frozenset(
    {
        common.PAYMENT_FREQUENCY_WEEKLY,
        common.PAYMENT_FREQUENCY_FORTNIGHTLY,
        common.PAYMENT_FREQUENCY_FOUR_WEEKLY,
        common.PAYMENT_FREQUENCY_MONTHLY,
    }
)


def _is_not_int(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool)


@dataclass(frozen=True)
class Parameters:
    # Protected earnings proportion of net earnings (reg 11 of SI 1992/1989): 6000 basis points = 60%.
    protected_earnings_basis_points: int = 6000
    # The employer's administrative charge per pay day on which it deducts (£1 under SI 1992/1989).
    employer_admin_charge_pence: int = 100
    # The employer tells the CMS within this many days that the employee left.
    employer_notice_days: int = 10
    # A month's remittance is due by this day of the following month.
    remittance_due_day: int = 19
    # The standard flat rate's weekly amount (a deduction from benefit at any other is non-standard).
    standard_flat_rate_weekly_pence: int = 700

    def __post_init__(self) -> None:
        for name in (
            "protected_earnings_basis_points",
            "employer_admin_charge_pence",
            "employer_notice_days",
            "remittance_due_day",
            "standard_flat_rate_weekly_pence",
        ):
            value = getattr(self, name)
            if _is_not_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
        if self.protected_earnings_basis_points > 10_000:
            raise ValueError("protected_earnings_basis_points cannot exceed 10000 (100%)")
        if not 1 <= self.remittance_due_day <= 28:
            raise ValueError("remittance_due_day must be a day every month has (1-28)")


DEFAULTS = Parameters()


# ---------------------------------------------------------------------------------------------------------------
# Deduction orders
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeductionRate:
    """A normal deduction rate per pay day and its parts."""

    maintenance_pence: int
    collection_fee_pence: int
    arrears_pence: int

    @property
    def total_pence(self) -> int:
        return self.maintenance_pence + self.collection_fee_pence + self.arrears_pence


def normal_deduction_rate(
    *,
    weekly_maintenance_pence: int,
    weekly_paying_parent_fee_pence: int,
    arrears_per_pay_day_pence: int,
    pay_frequency: int,
) -> DeductionRate:
    """The NDR for one pay day at `pay_frequency` (weekly, fortnightly, four-weekly or monthly)."""
    if pay_frequency not in PAY_FREQUENCIES:
        raise ValueError(
            f"a deduction order needs a weekly to monthly pay frequency, not {pay_frequency!r}"
        )
    _check_pence("arrears_per_pay_day_pence", arrears_per_pay_day_pence)
    return DeductionRate(
        maintenance_pence=plans.period_amount(weekly_maintenance_pence, pay_frequency),
        collection_fee_pence=plans.period_amount(weekly_paying_parent_fee_pence, pay_frequency),
        arrears_pence=arrears_per_pay_day_pence,
    )


def protected_earnings(net_earnings_pence: int, *, params: Parameters = DEFAULTS) -> int:
    """The part of a pay day's net earnings never deducted from, rounded up to the penny."""
    _check_pence("net_earnings_pence", net_earnings_pence)
    return -((-net_earnings_pence * params.protected_earnings_basis_points) // 10_000)


def expected_deduction(
    *,
    normal_deduction_rate_pence: int,
    shortfall_carried_in_pence: int,
    net_earnings_pence: int,
    params: Parameters = DEFAULTS,
) -> int:
    """What the employer should deduct on a pay day: the NDR and the shortfall carried in, as far as the protected
    earnings allow."""
    _check_pence("normal_deduction_rate_pence", normal_deduction_rate_pence)
    _check_pence("shortfall_carried_in_pence", shortfall_carried_in_pence)
    available = net_earnings_pence - protected_earnings(net_earnings_pence, params=params)
    return min(normal_deduction_rate_pence + shortfall_carried_in_pence, available)


def shortfall_carried(
    *, normal_deduction_rate_pence: int, shortfall_carried_in_pence: int, deducted_pence: int
) -> int:
    """The shortfall carried to the next pay day: what was due and not deducted, never negative."""
    _check_pence("normal_deduction_rate_pence", normal_deduction_rate_pence)
    _check_pence("shortfall_carried_in_pence", shortfall_carried_in_pence)
    _check_pence("deducted_pence", deducted_pence)
    return max(0, normal_deduction_rate_pence + shortfall_carried_in_pence - deducted_pence)


def employer_admin_charge(*, params: Parameters = DEFAULTS) -> int:
    """The employer's charge for a pay day on which it deducts (taken beyond the protected earnings if need be)."""
    return params.employer_admin_charge_pence


def remittance_due_date(pay_date: dt.date, *, params: Parameters = DEFAULTS) -> dt.date:
    """A pay day's remittance is due by the 19th of the following month."""
    _check_date("pay_date", pay_date)
    return months_after(pay_date.replace(day=1), 1).replace(day=params.remittance_due_day)


def employer_notice_late(
    *, leaving_date: dt.date, reported_date: dt.date, params: Parameters = DEFAULTS
) -> bool:
    """The employer's notice that the employee left came later than the time allowed."""
    _check_date("leaving_date", leaving_date)
    _check_date("reported_date", reported_date)
    return (reported_date - leaving_date).days > params.employer_notice_days


def late_remittance_months(
    *,
    issue_date: dt.date,
    remitted_months: set[dt.date] | frozenset[dt.date],
    as_of: dt.date,
    params: Parameters = DEFAULTS,
) -> list[dt.date]:
    """The months (as their first day) whose remittance is late on `as_of`: from the month after the order was
    issued (the employer's first pay days under it), each month whose due date has passed with no pay day in it
    remitted (`remitted_months`, as first days)."""
    _check_date("issue_date", issue_date)
    _check_date("as_of", as_of)
    late = []
    month = months_after(issue_date.replace(day=1), 1)
    while remittance_due_date(month, params=params) < as_of:
        if month not in remitted_months:
            late.append(month)
        month = months_after(month, 1)
    return late


# ---------------------------------------------------------------------------------------------------------------
# Deductions from benefit
# ---------------------------------------------------------------------------------------------------------------


class BenefitChange(Enum):
    """What a new liability asks of a deduction from benefit."""

    NONE = "none"
    CANCEL = "cancel"
    CHANGE_AMOUNT = "change_amount"
    TO_STANDARD = "to_standard"
    TO_NON_STANDARD = "to_non_standard"


STANDARD, NON_STANDARD, ARREARS = "STANDARD_FLAT_RATE", "NON_STANDARD_FLAT_RATE", "ARREARS"


def benefit_change(
    *,
    deduction_type: str,
    weekly_liability_pence: int,
    rate: str,
    new_weekly_pence: int,
    params: Parameters = DEFAULTS,
) -> BenefitChange:
    """What a new liability (its rate name, e.g. "FLAT", and weekly amount) asks of an active deduction of
    `deduction_type` (STANDARD_FLAT_RATE, NON_STANDARD_FLAT_RATE or ARREARS) collecting `weekly_liability_pence`."""
    _check_pence("new_weekly_pence", new_weekly_pence)
    if deduction_type == ARREARS:
        return BenefitChange.NONE  # arrears only: not tied to the ongoing liability
    if rate != "FLAT" or new_weekly_pence == 0:
        return BenefitChange.CANCEL
    standard = new_weekly_pence == params.standard_flat_rate_weekly_pence
    if deduction_type == STANDARD:
        return BenefitChange.NONE if standard else BenefitChange.TO_NON_STANDARD
    if standard:
        return BenefitChange.TO_STANDARD
    if new_weekly_pence != weekly_liability_pence:
        return BenefitChange.CHANGE_AMOUNT
    return BenefitChange.NONE


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def _check_pence(name: str, pence: object) -> None:
    if _is_not_int(pence):
        raise TypeError(f"{name} must be integer pence, not {type(pence).__name__}")
    assert isinstance(pence, int)
    if pence < 0:
        raise ValueError(f"{name} cannot be negative ({pence})")


def _check_date(name: str, day: object) -> None:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise TypeError(f"{name} must be a datetime.date, not {type(day).__name__}")
