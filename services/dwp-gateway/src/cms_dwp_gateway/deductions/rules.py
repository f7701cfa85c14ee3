"""Deductions from benefit: the amounts the CMS asks for, the limits a deduction must respect and the route it
takes (docs/domain/money.md §9, docs/domain/external-systems.md §2.3), as pure functions. Figures are named parameters
with the documented defaults.

- Ongoing flat rate: the weekly liability plus the 20% collection fee (£7 → £8.40 a week); from UC per monthly
  assessment period, weekly × 52 ÷ 12 rounded half-up to the penny (£8.40 → £36.40).
- Arrears only: £8.40 a week (£36.40 a UC month), no fee added [D], and only without an ongoing flat-rate liability
  (UC etc. Claims and Payments Regs 2013 Sch 7 para 3).
- One benefit at a time; ESA/JSA must be left with 10p, UC with 1p; UC takes at most 3 third-party deductions and
  total deductions up to 15% of the standard allowance (from April 2025; 25% before).

The benefit decision maker who applies the limits to an instruction is Jobcentre Plus's (simulated in
simulator/decision_maker.py); the figures are the regulations', so they live here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..benefits import FACTS, Route
from ..port import BenefitAward, BenefitType, DeductionType, PaymentFrequency


@dataclass(frozen=True)
class DeductionParameters:
    flat_rate_weekly_pence: int = 700
    collection_fee_basis_points: int = 2000
    arrears_weekly_pence: int = 840
    minimum_left_legacy_pence: int = 10  # ESA / JSA (and the other legacy benefits)
    minimum_left_universal_credit_pence: int = 1
    universal_credit_third_party_limit: int = 3
    universal_credit_cap_basis_points: int = 1500  # of the standard allowance, from April 2025
    # docs/domain/money.md §9: "UC with earnings" is configurable, off by default.
    universal_credit_deductions_with_earnings: bool = False


DEFAULTS = DeductionParameters()
# Award payments a week brings (UC pays per monthly assessment period instead).
_WEEKS_A_PAYMENT = {
    PaymentFrequency.WEEKLY: 1,
    PaymentFrequency.FORTNIGHTLY: 2,
    PaymentFrequency.FOUR_WEEKLY: 4,
}


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def weekly_deduction_pence(
    kind: DeductionType, weekly_liability_pence: int = 0, p: DeductionParameters = DEFAULTS
) -> int:
    """What is taken a week: the liability plus the collection fee, or the arrears rate."""
    if kind is DeductionType.ARREARS:
        return p.arrears_weekly_pence
    liability = (
        p.flat_rate_weekly_pence
        if kind is DeductionType.STANDARD_FLAT_RATE
        else weekly_liability_pence
    )
    return liability + _half_up(liability * p.collection_fee_basis_points, 10_000)


def period_deduction_pence(award: BenefitAward, weekly_pence: int) -> int:
    """Per payment of the award: monthly from UC (× 52 ÷ 12, half-up), fortnightly or four-weekly multiples."""
    if award.payment_frequency == PaymentFrequency.MONTHLY:
        return _half_up(weekly_pence * 52, 12)
    return weekly_pence * _WEEKS_A_PAYMENT[award.payment_frequency]


def weekly_pence_of(award: BenefitAward, period_pence: int) -> int:
    """A per-payment amount back as a weekly one (rounded down): the weekly liability behind a maintenance part."""
    weeks = _WEEKS_A_PAYMENT.get(award.payment_frequency)
    return period_pence // weeks if weeks else period_pence * 12 // 52


@dataclass(frozen=True)
class Terms:
    """A deduction per award payment, split into child maintenance and the collection fee."""

    amount_pence: int
    maintenance_pence: int
    collection_fee_pence: int


def terms(
    award: BenefitAward,
    kind: DeductionType,
    weekly_liability_pence: int = 0,
    p: DeductionParameters = DEFAULTS,
) -> Terms:
    """The amount per award payment with its maintenance / fee split (the fee is what is not maintenance)."""
    total = period_deduction_pence(award, weekly_deduction_pence(kind, weekly_liability_pence, p))
    weekly_maintenance = {
        DeductionType.STANDARD_FLAT_RATE: p.flat_rate_weekly_pence,
        DeductionType.NON_STANDARD_FLAT_RATE: weekly_liability_pence,
        DeductionType.ARREARS: p.arrears_weekly_pence,
    }[kind]
    maintenance = min(total, period_deduction_pence(award, weekly_maintenance))
    return Terms(total, maintenance, total - maintenance)


def minimum_left_pence(award: BenefitAward, p: DeductionParameters = DEFAULTS) -> int:
    """What a payment of the award must keep after the deduction: 1p of UC, 10p of ESA/JSA and the others."""
    if award.benefit_type is BenefitType.UNIVERSAL_CREDIT:
        return p.minimum_left_universal_credit_pence
    return p.minimum_left_legacy_pence


def universal_credit_cap_pence(award: BenefitAward, p: DeductionParameters = DEFAULTS) -> int:
    """The most all deductions together may take from a UC assessment period: a share of the standard allowance."""
    return award.uc_standard_allowance_monthly_pence * p.universal_credit_cap_basis_points // 10_000


def route(award: BenefitAward, kind: DeductionType) -> Route | None:
    """The standard flat rate from IS / income-based JSA / income-related ESA goes through the CIS interest
    (automated); a non-standard flat rate or arrears from them goes by interface, as does any DFB from JSA(C),
    ESA(C), Pension Credit or UC; the rest is non-automated. None: the benefit cannot carry a deduction."""
    base = FACTS[award.benefit_type].route
    if base is Route.AUTOMATED and kind is not DeductionType.STANDARD_FLAT_RATE:
        return Route.INTERFACE
    return base
