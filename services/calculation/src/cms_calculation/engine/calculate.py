"""The walking-skeleton calculation: historic income, the cap, ROC reduction, basic and basic-plus rates,
apportionment between receiving parents, fees and payment frequencies — each step explained with its rule.

The other rates, shared care and variations arrive with the full engine; until then facts that need them
are refused with a clear precondition rather than calculated wrongly.
"""

from __future__ import annotations

from cms_platform.errors import FailedPrecondition, InvalidArgument, PreconditionViolation

from .model import (
    CalculationFacts,
    CalculationResult,
    ChildAmount,
    Frequency,
    Rate,
    ReceivingParentAmount,
    ServiceType,
    Step,
    StepKind,
)
from .money import div_half_up, pounds, round_to_pound_half_up, split_balanced
from .rules import rule_set_for


def _band(count: int) -> int:
    return min(count, 3) - 1


def periodic_amounts(weekly_pence: int) -> dict[Frequency, int]:
    return {
        Frequency.WEEKLY: weekly_pence,
        Frequency.FORTNIGHTLY: weekly_pence * 2,
        Frequency.FOUR_WEEKLY: weekly_pence * 4,
        # 52 weeks over 12 months, to the penny.
        Frequency.MONTHLY: div_half_up(weekly_pence * 52, 12),
    }


def calculate(facts: CalculationFacts) -> CalculationResult:
    rules = rule_set_for(facts.effective_date)
    if facts.effective_date < rules.effective_from:
        raise InvalidArgument.field("input.effective_date", "is before the 2012 scheme started (10 December 2012)")
    if facts.hmrc_gross_annual_income_pence < 0:
        raise InvalidArgument.field("input.paying_parent_income.hmrc_gross_annual_income_pence", "must not be negative")
    if not facts.qualifying_children:
        raise InvalidArgument.field("input.qualifying_children", "at least one qualifying child is needed")
    for i, child in enumerate(facts.qualifying_children):
        if child.shared_care_nights >= 52:
            raise FailedPrecondition(PreconditionViolation(
                "SHARED_CARE_NOT_SUPPORTED", f"input.qualifying_children[{i}].shared_care_nights",
                "shared care of 52 nights or more needs the full calculation engine"))

    steps: list[Step] = []
    historic = div_half_up(facts.hmrc_gross_annual_income_pence * 7, 365)
    steps.append(Step(StepKind.INCOME, "2012 Regs reg 35(1)",
                      f"Your income of {pounds(facts.hmrc_gross_annual_income_pence)} a year from HMRC is "
                      f"{pounds(historic)} a week (divided by 365, times 7).", historic))
    gwi = min(historic, rules.weekly_income_cap_pence)
    if gwi < historic:
        steps.append(Step(StepKind.INCOME_CAP, "Child Support Act 1991 Sch 1 para 10(3)",
                          f"Only the first {pounds(rules.weekly_income_cap_pence)} a week of income counts.", gwi,
                          rule_set_parameters=("weekly_income_cap",)))
    if gwi < rules.basic_rate_floor_pence:
        raise FailedPrecondition(PreconditionViolation(
            "RATE_NOT_SUPPORTED", "input.paying_parent_income",
            f"a gross weekly income of {pounds(gwi)} is below the basic rate; the nil, flat and reduced "
            "rates need the full calculation engine"))

    qc = len(facts.qualifying_children)
    roc = facts.relevant_other_child_count
    reduced = gwi
    if roc > 0:
        pct = rules.roc_reduction_percent[_band(roc)]
        reduced = div_half_up(gwi * (100 - pct), 100)
        steps.append(Step(StepKind.CHILD_COUNT, "Child Support Act 1991 Sch 1 para 2(3)",
                          f"Your income is reduced by {pct}% to {pounds(reduced)} a week because you have {roc} "
                          f"other {'child' if roc == 1 else 'children'} living with you.", reduced,
                          rule_set_parameters=("roc_reduction_percent",)))
    basic_pct = rules.basic_percent_by_children[_band(qc)]
    plus_pct = rules.basic_plus_percent_by_children[_band(qc)]
    threshold = rules.basic_plus_threshold_pence
    if reduced <= threshold:
        rate = Rate.BASIC
        exact = reduced * basic_pct  # hundredths of a penny
        steps.append(Step(StepKind.RATE, "Child Support Act 1991 Sch 1 para 2(1)",
                          f"The basic rate for {qc} {'child' if qc == 1 else 'children'} is {basic_pct}% of "
                          f"{pounds(reduced)}.", div_half_up(exact, 100),
                          rule_set_parameters=("basic_percent",)))
    else:
        rate = Rate.BASIC_PLUS
        exact = threshold * basic_pct + (reduced - threshold) * plus_pct
        steps.append(Step(StepKind.RATE, "Child Support Act 1991 Sch 1 para 2(2)",
                          f"The basic plus rate for {qc} {'child' if qc == 1 else 'children'} is {basic_pct}% of the "
                          f"first {pounds(threshold)} and {plus_pct}% of the rest.", div_half_up(exact, 100),
                          rule_set_parameters=("basic_percent", "basic_plus_percent")))
    weekly = round_to_pound_half_up(div_half_up(exact, 100))
    steps.append(Step(StepKind.ROUNDING, "2012 Regs reg 6 (rounding; rule-set parameter)",
                      f"The amount is rounded to the nearest pound: {pounds(weekly)} a week.", weekly,
                      rule_set_parameters=("round_rate_to_pound",)))

    # Apportion between receiving parents by their number of qualifying children (Sch 1 para 6).
    order: list[str] = []
    for c in facts.qualifying_children:
        if c.receiving_parent_reference not in order:
            order.append(c.receiving_parent_reference)
    counts = [sum(1 for c in facts.qualifying_children if c.receiving_parent_reference == rp) for rp in order]
    shares = split_balanced(weekly, counts)
    charged = facts.service_type is ServiceType.COLLECT_AND_PAY
    pp_bp = rules.paying_parent_fee_basis_points if charged else 0
    rp_bp = rules.receiving_parent_fee_basis_points if charged else 0
    rp_amounts = []
    child_amounts = []
    for rp, count, share in zip(order, counts, shares, strict=True):
        rp_amounts.append(ReceivingParentAmount(rp, count, share, div_half_up(share * pp_bp, 10_000),
                                                div_half_up(share * rp_bp, 10_000)))
        children = [c for c in facts.qualifying_children if c.receiving_parent_reference == rp]
        for child, part in zip(children, split_balanced(share, [1] * len(children)), strict=True):
            child_amounts.append(ChildAmount(child.child_reference, rp, part))
        if len(order) > 1:
            steps.append(Step(StepKind.APPORTIONMENT, "Child Support Act 1991 Sch 1 para 6",
                              f"{pounds(share)} a week is for the {count} qualifying "
                              f"{'child' if count == 1 else 'children'} living with this receiving parent.", share,
                              receiving_parent_reference=rp))
    if charged:
        steps.append(Step(StepKind.COLLECTION_FEE, "Child Support Fees Regulations 2014 regs 7 and 8",
                          f"On Collect and Pay the paying parent pays a further {pp_bp // 100}% and the receiving "
                          f"parent's payments are reduced by {rp_bp // 100}%.",
                          sum(a.paying_parent_fee_weekly_pence for a in rp_amounts),
                          rule_set_parameters=("collection_fee",)))
    return CalculationResult(
        rate=rate, historic_weekly_income_pence=historic, gross_weekly_income_pence=gwi, capped=gwi < historic,
        roc_reduced_weekly_income_pence=reduced, weekly_amount_pence=weekly,
        receiving_parent_amounts=tuple(rp_amounts), child_amounts=tuple(child_amounts),
        periodic_amounts=periodic_amounts(weekly), paying_parent_fee_basis_points=pp_bp,
        receiving_parent_fee_basis_points=rp_bp, steps=tuple(steps), rule_set_version=rules.version,
    )
