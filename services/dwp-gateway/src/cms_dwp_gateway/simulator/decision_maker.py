"""The simulated benefit decision maker of Jobcentre Plus: its checks of one deduction instruction on the decision
date, in order (a live award that can carry a deduction, not suspended, one benefit at a time, arrears only without
an ongoing liability, Universal Credit's earnings rule, third-party limit and cap, the minimum left), over the
statutory amounts and limits (deductions/rules.py). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from ..benefits import FACTS
from ..deductions.rules import (
    DEFAULTS,
    DeductionParameters,
    minimum_left_pence,
    period_deduction_pence,
    universal_credit_cap_pence,
    weekly_deduction_pence,
)
from ..port import BenefitAward, BenefitType, DeductionType, Rejection


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
        cap = universal_credit_cap_pence(award, p)
        if award.uc_other_deductions_monthly_pence + amount > cap:
            return Decision(
                False,
                rejection=Rejection.UNIVERSAL_CREDIT_DEDUCTION_CAP,
                detail=f"cap {cap} pence a month",
            )
    if award.amount_pence - amount < minimum_left_pence(award, p):
        return Decision(False, rejection=Rejection.INSUFFICIENT_BENEFIT)
    return Decision(True, amount_pence=amount)
