"""Deduction-from-benefit amounts, limits and routes (docs/domain/money.md §9; docs/domain/external-systems.md §2.3)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms_dwp_gateway.benefits import Route
from cms_dwp_gateway.deductions.rules import (
    DeductionParameters,
    minimum_left_pence,
    period_deduction_pence,
    route,
    terms,
    universal_credit_cap_pence,
    weekly_deduction_pence,
    weekly_pence_of,
)
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


def test_terms_split_the_amount_into_maintenance_and_the_fee():
    flat = terms(uc(), DeductionType.STANDARD_FLAT_RATE)
    assert (flat.amount_pence, flat.maintenance_pence, flat.collection_fee_pence) == (
        36_40,
        30_33,
        6_07,
    )
    arrears = terms(award(), DeductionType.ARREARS)
    assert (arrears.amount_pence, arrears.collection_fee_pence) == (16_80, 0)  # no fee [D]
    own = terms(award(), DeductionType.NON_STANDARD_FLAT_RATE, 3_50)
    assert (own.amount_pence, own.maintenance_pence) == (8_40, 7_00)


def test_limits_a_deduction_must_respect():
    assert minimum_left_pence(award()) == 10 and minimum_left_pence(uc()) == 1
    assert universal_credit_cap_pence(uc()) == 60_02  # 15% of £400.14
    before_april_2025 = DeductionParameters(universal_credit_cap_basis_points=2500)
    assert universal_credit_cap_pence(uc(), before_april_2025) == 100_03


@given(
    st.integers(0, 100_000),
    st.sampled_from(
        [PaymentFrequency.WEEKLY, PaymentFrequency.FORTNIGHTLY, PaymentFrequency.FOUR_WEEKLY]
    ),
)
def test_a_weekly_amount_survives_the_round_trip_through_a_legacy_payment(weekly, frequency):
    a = award(frequency=frequency)
    assert weekly_pence_of(a, period_deduction_pence(a, weekly)) == weekly


@given(st.integers(0, 100_000))
def test_a_weekly_amount_comes_back_from_a_uc_month_to_within_a_penny(weekly):
    back = weekly_pence_of(uc(), period_deduction_pence(uc(), weekly))
    assert weekly - 1 <= back <= weekly
