"""Deduction-from-benefit amounts, limits and routes (docs/domain/money.md §9; docs/domain/interfaces.md §2.3)."""

from __future__ import annotations

import datetime as dt

from cms_dwp_gateway.benefits import Route
from cms_dwp_gateway.deductions.rules import period_deduction_pence, route, weekly_deduction_pence
from cms_dwp_gateway.port import BenefitAward, BenefitType, DeductionType, PaymentFrequency

D = dt.date(2026, 1, 5)


def award(
    kind=BenefitType.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
    amount=181_00,
    frequency=PaymentFrequency.FORTNIGHTLY,
    **kw,
):
    return BenefitAward("X-1", kind, "AE456789D", D, D, amount, frequency, **kw)


def uc(**kw):
    base = dict(
        amount=400_14,
        frequency=PaymentFrequency.MONTHLY,
        uc_standard_allowance_monthly_pence=400_14,
    )
    base.update(kw)
    return award(BenefitType.UNIVERSAL_CREDIT, **base)


def test_flat_rate_deduction_is_840_a_week_and_3640_a_uc_month():
    """docs/domain/money.md §9: £7 + 20% = £8.40 a week; £36.40 per UC monthly assessment period."""
    assert weekly_deduction_pence(DeductionType.STANDARD_FLAT_RATE) == 8_40
    assert period_deduction_pence(uc(), 8_40) == 36_40
    assert period_deduction_pence(award(), 8_40) == 16_80  # fortnightly JSA
    assert weekly_deduction_pence(DeductionType.NON_STANDARD_FLAT_RATE, 3_50) == 4_20
    assert weekly_deduction_pence(DeductionType.ARREARS) == 8_40  # no fee added on arrears [D]


def test_routes():
    assert route(award(), DeductionType.STANDARD_FLAT_RATE) is Route.AUTOMATED
    assert route(award(), DeductionType.ARREARS) is Route.INTERFACE
    assert route(uc(), DeductionType.STANDARD_FLAT_RATE) is Route.INTERFACE
    assert (
        route(
            award(BenefitType.STATE_PENSION, frequency="FOUR_WEEKLY"),
            DeductionType.STANDARD_FLAT_RATE,
        )
        is Route.NON_AUTOMATED
    )
    assert (
        route(award(BenefitType.PERSONAL_INDEPENDENCE_PAYMENT), DeductionType.STANDARD_FLAT_RATE)
        is None
    )
