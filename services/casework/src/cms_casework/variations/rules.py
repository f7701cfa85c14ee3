"""The rules of a variation application (Part 5 of SI 2012/2677; ss.28A-28F of the Child Support Act 1991), as pure
functions: no gRPC, no SQL, no clock (dates are passed in).

- Preliminary consideration (reg 57; s.28B): an application is rejected when no ground is made out, the ground is
  not one the applicant can rely on, the amount is below the ground's threshold (reg 68: £10 a week of special
  expenses; reg 69: £2,500 a year of unearned income; reg 70: £100 a week of income not taken into account), there is
  no maintenance calculation in force to vary or a default maintenance decision is in force, or the paying parent's
  rate rules the ground out.
- The other parent is told and may make representations within the time allowed (reg 59), a named parameter.
- An agreed variation takes effect from the date the application was made (s.17(4): a supersession on application
  takes effect from the day it is made) or, when the ground arose later (an expected change), from that date.
- Special expenses are deducted from the paying parent's income (reg 72), additional income added to it (reg 73); the
  calculation does that, casework passes the agreed amounts (calculations.rules).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cms.casework.v1 import resources_pb2 as pb

from ..wording import pounds

G = pb.VariationGround
R = pb.VariationRejectionReason


@dataclass(frozen=True)
class VariationParameters:
    # Days the other parent is allowed to make representations after being told of the application (reg 59).
    representation_period_days: int = 14
    # reg 68: a special expense (other than a relevant other child's illness or disability) counts from £10 a week.
    special_expense_threshold_weekly_pence: int = 1000
    # reg 69: unearned income counts from £2,500 a year.
    unearned_income_threshold_annual_pence: int = 250_000
    # reg 70: income not taken into account counts from £100 a week.
    income_not_taken_into_account_threshold_weekly_pence: int = 10_000


DEFAULTS = VariationParameters()

SPECIAL_EXPENSES = frozenset(
    {
        G.VARIATION_GROUND_CONTACT_COSTS,
        G.VARIATION_GROUND_RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY,
        G.VARIATION_GROUND_PRIOR_DEBTS,
        G.VARIATION_GROUND_BOARDING_SCHOOL_FEES,
        G.VARIATION_GROUND_PAYMENTS_FOR_FORMER_FAMILY_HOME,
    }
)
ADDITIONAL_INCOME = frozenset(
    {
        G.VARIATION_GROUND_UNEARNED_INCOME,
        G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT,
        G.VARIATION_GROUND_DIVERTED_INCOME,
    }
)

# The ground's regulation and words, for explanations.
_GROUND: dict[int, tuple[str, str]] = {
    G.VARIATION_GROUND_CONTACT_COSTS: ("reg 63", "the costs of keeping in contact with a child"),
    G.VARIATION_GROUND_RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY: (
        "reg 64",
        "the costs of a relevant other child's illness or disability",
    ),
    G.VARIATION_GROUND_PRIOR_DEBTS: ("reg 65", "repaying debts of the former relationship"),
    G.VARIATION_GROUND_BOARDING_SCHOOL_FEES: (
        "reg 66",
        "the boarding part of boarding-school fees",
    ),
    G.VARIATION_GROUND_PAYMENTS_FOR_FORMER_FAMILY_HOME: (
        "reg 67",
        "payments for the former family home",
    ),
    G.VARIATION_GROUND_UNEARNED_INCOME: ("reg 69", "unearned income"),
    G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT: (
        "reg 70",
        "income not taken into account on the flat or nil rate",
    ),
    G.VARIATION_GROUND_DIVERTED_INCOME: ("reg 71", "diverted income"),
}

# Benefits that put the paying parent on the flat rate when they or their partner get them (reg 44(2)); benefit codes
# as casework holds them (dwp-gateway's names).
REG_44_2_BENEFITS = frozenset(
    {
        "INCOME_SUPPORT",
        "JOBSEEKERS_ALLOWANCE_INCOME_BASED",
        "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED",
        "PENSION_CREDIT",
        "UNIVERSAL_CREDIT",
    }
)
# The paying parent's own flat-rate benefits (reg 44(1)).
REG_44_1_BENEFITS = frozenset(
    {
        "STATE_PENSION",
        "INCAPACITY_BENEFIT",
        "CARERS_ALLOWANCE",
        "MATERNITY_ALLOWANCE",
        "SEVERE_DISABLEMENT_ALLOWANCE",
        "INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT",
        "WIDOWED_PARENTS_ALLOWANCE",
        "WIDOWS_PENSION",
        "BEREAVEMENT_ALLOWANCE",
        "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED",
        "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY",
        "TRAINING_ALLOWANCE",
        "WAR_DISABLEMENT_PENSION",
        "WAR_WIDOWS_PENSION",
        "ARMED_FORCES_COMPENSATION_SCHEME",
    }
)


@dataclass(frozen=True)
class Facts:
    """What preliminary consideration looks at besides the application itself."""

    # A maintenance calculation is in force on the case, and its rate name ("BASIC", "FLAT", "NIL", "DEFAULT" ...).
    has_calculation: bool
    rate: str
    applicant_is_paying_parent: bool
    # Benefit codes in payment to the paying parent (own) and to the paying parent or partner (reg 44(2) ones).
    own_benefits: frozenset[str] = frozenset()
    couple_benefits: frozenset[str] = frozenset()
    # HMRC's total unearned income for the latest year with a return (pence a year); None when none is held.
    hmrc_unearned_annual_pence: int | None = None


def ground_words(ground: int) -> tuple[str, str]:
    """(regulation, plain words) of a ground."""
    return _GROUND.get(ground, ("Part 5", "no ground"))


def is_annual(ground: int) -> bool:
    """Unearned income is a year's amount (HMRC's figure); every other ground a week's."""
    return ground == G.VARIATION_GROUND_UNEARNED_INCOME


def considered_amount(variation: pb.Variation, facts: Facts) -> int:
    """The amount the application rests on: a week's, or a year's for unearned income, where HMRC's figure is the
    starting point and a higher amount the applicant puts forward (a later year, on evidence) is considered too."""
    if is_annual(variation.ground):
        return max(facts.hmrc_unearned_annual_pence or 0, variation.claimed_annual_amount_pence)
    return variation.claimed_weekly_amount_pence


def _rate_excludes(ground: int, facts: Facts) -> str | None:
    on_reg_44_2 = facts.rate == "FLAT" and bool(facts.couple_benefits & REG_44_2_BENEFITS)
    on_benefit_flat = facts.rate == "FLAT" and bool(
        (facts.own_benefits & REG_44_1_BENEFITS) or (facts.couple_benefits & REG_44_2_BENEFITS)
    )
    if ground in SPECIAL_EXPENSES and (facts.rate in ("NIL", "NO_LIABILITY") or on_benefit_flat):
        return (
            "special expenses cannot be taken off the income of a paying parent on the nil rate or on the flat rate "
            "because of a benefit (reg 57 of SI 2012/2677)"
        )
    if ground == G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT:
        if facts.rate not in ("FLAT", "NIL") or on_reg_44_2:
            return (
                "income not taken into account applies only to a paying parent on the flat rate because of a benefit "
                "of their own or on the nil rate (reg 70 of SI 2012/2677)"
            )
        return None
    if ground in ADDITIONAL_INCOME and (facts.rate in ("NIL", "NO_LIABILITY") or on_reg_44_2):
        return (
            "additional income cannot be added for a paying parent on the nil rate, or on the flat rate because they "
            "or their partner get income support, income-based JSA, income-related ESA, pension credit or universal "
            "credit (reg 57 of SI 2012/2677)"
        )
    return None


def _threshold(ground: int, params: VariationParameters) -> int:
    if ground in SPECIAL_EXPENSES - {G.VARIATION_GROUND_RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY}:
        return params.special_expense_threshold_weekly_pence
    if ground == G.VARIATION_GROUND_UNEARNED_INCOME:
        return params.unearned_income_threshold_annual_pence
    if ground == G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT:
        return params.income_not_taken_into_account_threshold_weekly_pence
    return 0


def preliminary_consideration(
    variation: pb.Variation, facts: Facts, *, params: VariationParameters = DEFAULTS
) -> tuple[pb.VariationRejectionReason.ValueType, str] | None:
    """(VariationRejectionReason, plain-English explanation) when the application is to be rejected at preliminary
    consideration (reg 57 of SI 2012/2677; s.28B of the Child Support Act 1991); None when it goes ahead. The first
    reason that applies, in the order: no ground, no calculation to vary, a default decision, the ground not the
    applicant's, nothing claimed, the rate, the threshold."""
    ground = variation.ground
    reg, words = ground_words(ground)
    rejected = (
        "so the application was rejected at preliminary consideration (reg 57 of SI 2012/2677)"
    )
    if ground not in SPECIAL_EXPENSES | ADDITIONAL_INCOME:
        return (
            R.VARIATION_REJECTION_REASON_NO_GROUND,
            f"The application names no ground for a variation, {rejected}.",
        )
    if not facts.has_calculation:
        return (
            R.VARIATION_REJECTION_REASON_NO_CURRENT_DECISION,
            f"There is no maintenance calculation in force on the case to vary, {rejected}.",
        )
    if facts.rate == "DEFAULT":
        return (
            R.VARIATION_REJECTION_REASON_DEFAULT_DECISION_IN_FORCE,
            f"A default maintenance decision is in force, {rejected}.",
        )
    paying = facts.applicant_is_paying_parent
    if (ground in SPECIAL_EXPENSES) != paying:
        whose = "the paying parent's" if ground in SPECIAL_EXPENSES else "the receiving parent's"
        return (
            R.VARIATION_REJECTION_REASON_GROUND_NOT_OPEN_TO_APPLICANT,
            f"A variation for {words} ({reg} of SI 2012/2677) is {whose} to ask for, {rejected}.",
        )
    amount = considered_amount(variation, facts)
    if amount <= 0:
        return (
            R.VARIATION_REJECTION_REASON_NO_GROUND,
            f"No amount of {words} is shown ({reg} of SI 2012/2677), so no ground is made out and the application "
            "was rejected at preliminary consideration (reg 57 of SI 2012/2677).",
        )
    excluded = _rate_excludes(ground, facts)
    if excluded is not None:
        return (
            R.VARIATION_REJECTION_REASON_RATE_EXCLUDES_GROUND,
            f"The paying parent is on the {facts.rate.lower().replace('_', ' ')} rate and {excluded}; the application "
            "was rejected at preliminary consideration.",
        )
    threshold = _threshold(ground, params)
    if amount < threshold:
        per = "a year" if is_annual(ground) else "a week"
        threshold_reg = {
            G.VARIATION_GROUND_UNEARNED_INCOME: "reg 69",
            G.VARIATION_GROUND_INCOME_NOT_TAKEN_INTO_ACCOUNT: "reg 70",
        }.get(ground, "reg 68")
        return (
            R.VARIATION_REJECTION_REASON_BELOW_THRESHOLD,
            f"The amount for {words}, {pounds(amount)} {per}, is below the {pounds(threshold)} {per} threshold "
            f"({threshold_reg} of SI 2012/2677), {rejected}.",
        )
    return None


def effective_date(application: dt.date, ground_arose: dt.date | None) -> dt.date:
    """From the date of the application (s.17(4) of the Child Support Act 1991), or the later date the ground arose."""
    return max(application, ground_arose) if ground_arose is not None else application


def representations_due(application: dt.date, *, params: VariationParameters = DEFAULTS) -> dt.date:
    """The last day for the other parent's representations (reg 59)."""
    return application + dt.timedelta(days=params.representation_period_days)


def decidable(state: int, due: dt.date | None, today: dt.date) -> bool:
    """A variation can be decided once representations are in, or the time allowed for them has passed."""
    if state == pb.VARIATION_STATE_READY_FOR_DECISION:
        return True
    return state == pb.VARIATION_STATE_AWAITING_REPRESENTATIONS and due is not None and today > due


def default_agreed_amount(variation: pb.Variation) -> int:
    """The amount agreed when the decision maker gives none: what was applied for; for unearned income, HMRC's figure
    when it holds one, else what was applied for."""
    if is_annual(variation.ground):
        hmrc = variation.hmrc_unearned_income
        if hmrc.self_assessment_return_filed and hmrc.total_annual_pence > 0:
            return hmrc.total_annual_pence
        return variation.claimed_annual_amount_pence
    return variation.claimed_weekly_amount_pence


def agreed_amount_problem(variation: pb.Variation, amount: int) -> str | None:
    """Why an agreed amount cannot stand (more than nil, and no more than the application rests on); None if it can."""
    if amount <= 0:
        return "must be more than nil"
    ceiling = variation.claimed_weekly_amount_pence
    if is_annual(variation.ground):
        hmrc = variation.hmrc_unearned_income
        ceiling = max(variation.claimed_annual_amount_pence, hmrc.total_annual_pence)
    if amount > ceiling:
        return f"cannot be more than the {pounds(ceiling)} the application rests on"
    return None


def evidence_problem(variation: pb.Variation) -> str | None:
    """A variation is agreed only on evidence: recorded evidence, or for unearned income HMRC's own figure."""
    hmrc = variation.hmrc_unearned_income
    if any(e.kind != pb.EVIDENCE_KIND_UNSPECIFIED for e in variation.evidence):
        return None
    if (
        is_annual(variation.ground)
        and hmrc.self_assessment_return_filed
        and hmrc.total_annual_pence > 0
    ):
        return None
    return "no evidence has been recorded; a variation can be agreed only on evidence"


def agreed_explanation(
    variation: pb.Variation, amount: int, on: dt.date, application: dt.date
) -> str:
    reg, words = ground_words(variation.ground)
    per = "a year" if is_annual(variation.ground) else "a week"
    how = (
        "taken off the paying parent's gross weekly income (reg 72 of SI 2012/2677)"
        if variation.ground in SPECIAL_EXPENSES
        else "added to the paying parent's gross weekly income (reg 73 of SI 2012/2677)"
    )
    when = (
        "the date of the application (s.17(4) of the Child Support Act 1991)"
        if on == application
        else "the date the ground arose, after the application"
    )
    return (
        f"A variation for {words} of {pounds(amount)} {per} was agreed ({reg} of SI 2012/2677). It is {how} "
        f"in every calculation from {on.isoformat()}, {when}."
    )


def refused_explanation(variation: pb.Variation, reason: str) -> str:
    reg, words = ground_words(variation.ground)
    because = f" {reason.strip()}" if reason.strip() else ""
    return (
        f"The variation for {words} ({reg} of SI 2012/2677) was refused: it would not be just and equitable to agree "
        f"it (s.28F of the Child Support Act 1991).{because}"
    )
