"""Deductions from benefit: the amounts and the benefit decision maker's checks (rules.md §9, interfaces.md §2.3), as
pure functions the JCP simulation will call. Figures are named parameters with the documented defaults.

- Ongoing flat rate: the weekly liability plus the 20% collection fee (£7 → £8.40 a week); from UC per monthly
  assessment period, weekly × 52 ÷ 12 rounded half-up to the penny (£8.40 → £36.40).
- Arrears only: £8.40 a week (£36.40 a UC month), no fee added [D], and only without an ongoing flat-rate liability
  (UC etc. Claims and Payments Regs 2013 Sch 7 para 3).
- One benefit at a time; ESA/JSA must be left with 10p, UC with 1p; UC takes at most 3 third-party deductions and
  total deductions up to 15% of the standard allowance (from April 2025; 25% before).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cms_simulation.population.model import BenefitAward, BenefitType

from .benefits import FACTS, Route


class DeductionType(enum.StrEnum):
    STANDARD_FLAT_RATE = "STANDARD_FLAT_RATE"
    NON_STANDARD_FLAT_RATE = "NON_STANDARD_FLAT_RATE"
    ARREARS = "ARREARS"


class Rejection(enum.StrEnum):
    NO_LIVE_AWARD = "NO_LIVE_AWARD"
    AWARD_SUSPENDED = "AWARD_SUSPENDED"
    INSUFFICIENT_BENEFIT = "INSUFFICIENT_BENEFIT"
    THIRD_PARTY_DEDUCTION_LIMIT = "THIRD_PARTY_DEDUCTION_LIMIT"
    UNIVERSAL_CREDIT_DEDUCTION_CAP = "UNIVERSAL_CREDIT_DEDUCTION_CAP"
    DEDUCTION_ON_OTHER_BENEFIT = "DEDUCTION_ON_OTHER_BENEFIT"
    CLAIM_CLOSED_OR_MIGRATED = "CLAIM_CLOSED_OR_MIGRATED"
    UNIVERSAL_CREDIT_EARNED_INCOME = "UNIVERSAL_CREDIT_EARNED_INCOME"
    ONGOING_LIABILITY = "ONGOING_LIABILITY"
    OTHER = "OTHER"


@dataclass(frozen=True)
class DeductionParameters:
    flat_rate_weekly_pence: int = 700
    collection_fee_basis_points: int = 2000
    arrears_weekly_pence: int = 840
    minimum_left_legacy_pence: int = 10  # ESA / JSA (and the other legacy benefits)
    minimum_left_universal_credit_pence: int = 1
    universal_credit_third_party_limit: int = 3
    universal_credit_cap_basis_points: int = 1500  # of the standard allowance, from April 2025
    universal_credit_deductions_with_earnings: bool = (
        False  # rules.md §9: "UC with earnings" is configurable
    )


DEFAULTS = DeductionParameters()


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
    if award.payment_frequency == "MONTHLY":
        return _half_up(weekly_pence * 52, 12)
    return weekly_pence * {"WEEKLY": 1, "FORTNIGHTLY": 2, "FOUR_WEEKLY": 4}[award.payment_frequency]


@dataclass(frozen=True)
class Decision:
    accepted: bool
    amount_pence: int = 0  # per award payment
    rejection: Rejection | None = None
    detail: str = ""


def decide(
    award: BenefitAward | None,
    *,
    kind: DeductionType,
    weekly_liability_pence: int = 0,
    live: bool,
    suspended: bool,
    other_cms_deduction: bool = False,
    ongoing_flat_rate_liability: bool = False,
    p: DeductionParameters = DEFAULTS,
) -> Decision:
    """The benefit decision maker's answer to one instruction, on the decision date."""
    if award is None or not live:
        reason = (
            Rejection.CLAIM_CLOSED_OR_MIGRATED
            if award is not None and award.end_reason
            else Rejection.NO_LIVE_AWARD
        )
        return Decision(False, rejection=reason)
    if FACTS[award.benefit_type].route is None:
        return Decision(
            False, rejection=Rejection.OTHER, detail="the benefit cannot carry a deduction"
        )
    if suspended:
        return Decision(False, rejection=Rejection.AWARD_SUSPENDED)
    if other_cms_deduction:
        return Decision(False, rejection=Rejection.DEDUCTION_ON_OTHER_BENEFIT)
    if kind is DeductionType.ARREARS and ongoing_flat_rate_liability:
        return Decision(False, rejection=Rejection.ONGOING_LIABILITY)
    amount = period_deduction_pence(award, weekly_deduction_pence(kind, weekly_liability_pence, p))
    if award.benefit_type is BenefitType.UNIVERSAL_CREDIT:
        if award.uc_earned_income and not p.universal_credit_deductions_with_earnings:
            return Decision(False, rejection=Rejection.UNIVERSAL_CREDIT_EARNED_INCOME)
        if award.uc_third_party_deduction_count >= p.universal_credit_third_party_limit:
            return Decision(False, rejection=Rejection.THIRD_PARTY_DEDUCTION_LIMIT)
        cap = (
            award.uc_standard_allowance_monthly_pence
            * p.universal_credit_cap_basis_points
            // 10_000
        )
        if award.uc_other_deductions_monthly_pence + amount > cap:
            return Decision(
                False,
                rejection=Rejection.UNIVERSAL_CREDIT_DEDUCTION_CAP,
                detail=f"cap {cap} pence a month",
            )
        minimum = p.minimum_left_universal_credit_pence
    else:
        minimum = p.minimum_left_legacy_pence
    if award.amount_pence - amount < minimum:
        return Decision(False, rejection=Rejection.INSUFFICIENT_BENEFIT)
    return Decision(True, amount_pence=amount)


def route(award: BenefitAward, kind: DeductionType) -> Route | None:
    """The standard flat rate from IS / income-based JSA / income-related ESA goes through the CIS interest
    (automated); a non-standard flat rate or arrears from them goes by interface, as does any DFB from JSA(C),
    ESA(C), Pension Credit or UC; the rest is non-automated. None: the benefit cannot carry a deduction."""
    base = FACTS[award.benefit_type].route
    if base is Route.AUTOMATED and kind is not DeductionType.STANDARD_FLAT_RATE:
        return Route.INTERFACE
    return base
