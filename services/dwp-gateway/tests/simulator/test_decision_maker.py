"""The simulated benefit decision maker's checks of a deduction instruction (docs/domain/money.md §9;
docs/domain/external-systems.md §2.3)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from cms_dwp_gateway.deductions.rules import DeductionParameters
from cms_dwp_gateway.port import (
    BenefitAward,
    BenefitType,
    DeductionType,
    PaymentFrequency,
    Rejection,
)
from cms_dwp_gateway.simulator.decision_maker import decide

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


def test_decisions_follow_the_benefit_rules():
    ok = decide(award(), kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=False)
    assert (ok.accepted, ok.amount_pence) == (True, 16_80)
    assert (
        decide(None, kind=DeductionType.STANDARD_FLAT_RATE, live=False, suspended=False).rejection
        is Rejection.NO_LIVE_AWARD
    )
    assert (
        decide(award(), kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=True).rejection
        is Rejection.AWARD_SUSPENDED
    )
    assert (
        decide(
            award(),
            kind=DeductionType.STANDARD_FLAT_RATE,
            live=True,
            suspended=False,
            other_cms_deduction=True,
        ).rejection
        is Rejection.DEDUCTION_ON_OTHER_BENEFIT
    )
    assert (
        decide(
            award(),
            kind=DeductionType.ARREARS,
            live=True,
            suspended=False,
            ongoing_flat_rate_liability=True,
        ).rejection
        is Rejection.ONGOING_LIABILITY
    )
    # ESA/JSA must keep 10p: a benefit of £16.85 a fortnight cannot carry £16.80.
    assert (
        decide(
            award(amount=16_85), kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=False
        ).rejection
        is Rejection.INSUFFICIENT_BENEFIT
    )
    assert decide(
        award(amount=16_90), kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=False
    ).accepted


def test_universal_credit_limits():
    flat = dict(kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=False)
    assert decide(uc(), **flat).accepted
    assert (
        decide(uc(uc_earned_income=True), **flat).rejection
        is Rejection.UNIVERSAL_CREDIT_EARNED_INCOME
    )
    assert decide(
        uc(uc_earned_income=True),
        p=DeductionParameters(universal_credit_deductions_with_earnings=True),
        **flat,
    ).accepted
    assert (
        decide(uc(uc_third_party_deduction_count=3), **flat).rejection
        is Rejection.THIRD_PARTY_DEDUCTION_LIMIT
    )
    # 15% of £400.14 is £60.02: £30 already taken leaves no room for £36.40.
    assert (
        decide(uc(uc_other_deductions_monthly_pence=30_00), **flat).rejection
        is Rejection.UNIVERSAL_CREDIT_DEDUCTION_CAP
    )


@given(st.integers(1, 100_000))
def test_an_accepted_deduction_always_leaves_the_minimum(amount):
    d = decide(
        award(amount=amount), kind=DeductionType.STANDARD_FLAT_RATE, live=True, suspended=False
    )
    assert not d.accepted or amount - d.amount_pence >= 10
