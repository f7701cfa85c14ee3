"""The 2012-scheme maintenance calculation (docs/domain/calculation.md §0–§8) as one pure function over plain
data.

Pipeline (§0): scope (equal care) → income (historic/current, variations, cap) → rate for all qualifying children
→ children in other arrangements → apportion between receiving parents → shared care per receiving parent → the £7
floor → collection fees. Money is integer pence throughout; exact fractions (sevenths, percentages) are kept as
integer numerators until a documented rounding point, where they are rounded half-up (money.div_half_up).

`explain=False` skips building the plain-English steps (bulk what-if runs that return the BASIC view); the
arithmetic is identical either way. The common case takes fast.py's integer path to the same result, explained with
the same steps (steps.py builds each step's text for both).
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from cms_platform.errors import ViolationCollector

from .fast import calculate_common
from .model import (
    REG_70_NIL_CONDITIONS,
    AdditionalIncomeKind,
    BenefitRecipient,
    CalculationFacts,
    CalculationResult,
    ChildAmount,
    ComplianceStatus,
    Fees,
    IncomeBasis,
    IncomeDetermination,
    NilRateCondition,
    QualifyingChild,
    Rate,
    ReceivingParentAmount,
    ServiceType,
    SharedCareBand,
    SpecialExpenseKind,
    Step,
    StepKind,
)
from .money import (
    MAX_AMOUNT_PENCE,
    div_half_up,
    pounds,
    round_to_pound_half_up,
    split_balanced,
)
from .rules import RuleSet, WholePoundRounding
from .steps import (
    FLAT_NOT_REDUCED_BY_SHARED_CARE,
    basic_plus_rate_step,
    basic_rate_step,
    child_count_step,
    children_phrase,
    collection_fee_step,
    direct_pay_unavailable_step,
    flat_low_income_step,
    floor_step,
    historic_income_step,
    income_cap_step,
    nil_income_step,
    payment_frequency_step,
    periodic_amounts,
    pound_after_shared_care_step,
    pound_before_shared_care_step,
    reduced_rate_step,
    roc_step,
    shared_care_step,
)

# Fourteenths of the amount a receiving parent keeps per child in each band (1 − fraction, × 14), so averaging
# over children stays in integers: 1/7 → 12/14, 2/7 → 10/14, 3/7 → 8/14, 1/2 → 7/14.
_KEPT_14THS = {
    SharedCareBand.NONE: 14,
    SharedCareBand.ONE_SEVENTH: 12,
    SharedCareBand.TWO_SEVENTHS: 10,
    SharedCareBand.THREE_SEVENTHS: 8,
    SharedCareBand.ONE_HALF: 7,
}
_NO_FRACTION = Fraction(0)
_BANDS = (
    SharedCareBand.ONE_SEVENTH,
    SharedCareBand.TWO_SEVENTHS,
    SharedCareBand.THREE_SEVENTHS,
    SharedCareBand.ONE_HALF,
)
_EXPENSE = {
    SpecialExpenseKind.CONTACT_COSTS: ("contact costs", "2012 Regs reg 63"),
    SpecialExpenseKind.RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY: (
        "the illness or disability of a relevant other child",
        "2012 Regs reg 64",
    ),
    SpecialExpenseKind.PRIOR_DEBTS: ("debts of the former relationship", "2012 Regs reg 65"),
    SpecialExpenseKind.BOARDING_SCHOOL_FEES: ("boarding school fees", "2012 Regs reg 66"),
    SpecialExpenseKind.PAYMENTS_FOR_FORMER_FAMILY_HOME: (
        "payments for the former family home",
        "2012 Regs reg 67",
    ),
}
_NIL_WORDS = {
    NilRateCondition.PAYING_PARENT_IS_CHILD: "you are a child yourself",
    NilRateCondition.PRISONER: "you are in prison",
    NilRateCondition.DETAINED_IN_HOSPITAL: "you are detained in hospital after a sentence",
    NilRateCondition.AGED_16_OR_17_ON_BENEFIT: "you are 16 or 17 and you or your partner get an income-related "
    "benefit",
    NilRateCondition.YOUNG_PEOPLE_TRAINING_ALLOWANCE: "you get a training allowance for young people",
    NilRateCondition.CARE_HOME_ON_FLAT_RATE_BENEFIT: "you live in a care home or independent hospital and get a "
    "flat-rate benefit",
    NilRateCondition.CARE_HOME_FEES_MET_BY_LOCAL_AUTHORITY: "you live in a care home or independent hospital paid "
    "for by a local authority",
}


def _band_index(count: int) -> int:
    return min(count, 3) - 1


def shared_care_year_nights(effective_date: dt.date) -> int:
    """Nights in the 12 months ending the day before the effective date (365 or 366)."""
    start = (
        effective_date.replace(year=effective_date.year - 1)
        if not (effective_date.month == 2 and effective_date.day == 29)
        else dt.date(effective_date.year - 1, 3, 1)
    )
    return (effective_date - start).days


def shared_care_band(child: QualifyingChild, rules: RuleSet) -> SharedCareBand:
    """The band for the child's nights, scaled to a year when counted over a shorter period."""
    if child.equal_day_to_day_care:
        return SharedCareBand.EQUAL_CARE
    period = child.shared_care_period_nights
    band = SharedCareBand.NONE
    for threshold, candidate in zip(rules.shared_care_band_nights, _BANDS, strict=True):
        # nights / period ≥ threshold / 365, in integers; an unset period is the year itself.
        if (
            child.shared_care_nights >= threshold
            if not period
            else child.shared_care_nights * 365 >= threshold * period
        ):
            band = candidate
    return band


def _money(v: ViolationCollector, path: str, pence: int) -> None:
    if pence < 0:
        v.add(path, "must not be negative")
    elif pence > MAX_AMOUNT_PENCE:
        v.add(path, f"must be at most {MAX_AMOUNT_PENCE} pence")


def validate(facts: CalculationFacts, rules: RuleSet) -> None:
    """Every semantic check on the facts, all reported at once with the contract's field paths."""
    v = ViolationCollector()
    if facts.effective_date < rules.scheme_start:
        v.add(
            "input.effective_date",
            f"is before the 2012 scheme started ({rules.scheme_start:%d %B %Y})",
        )
    if not facts.qualifying_children:
        v.add("input.qualifying_children", "at least one qualifying child is needed")
    year = shared_care_year_nights(facts.effective_date) if facts.effective_date.year > 1 else 365
    seen: dict[str, int] = {}
    for i, c in enumerate(facts.qualifying_children):
        path = f"input.qualifying_children[{i}]"
        if not c.child_reference.strip():
            v.add(f"{path}.child_reference", "is required")
        elif c.child_reference in seen:
            # The reference may be a CRN: name the earlier item, not the value.
            v.add(
                f"{path}.child_reference",
                f"duplicates qualifying_children[{seen[c.child_reference]}].child_reference",
            )
        seen.setdefault(c.child_reference, i)
        if not c.receiving_parent_reference.strip():
            v.add(f"{path}.receiving_parent_reference", "is required")
        period = c.shared_care_period_nights or year
        if c.shared_care_period_nights and not 1 <= c.shared_care_period_nights <= 366:
            v.add(f"{path}.shared_care_period_nights", "must be between 1 and 366 nights")
        elif not 0 <= c.shared_care_nights <= period:
            v.add(
                f"{path}.shared_care_nights",
                f"must be between 0 and {period} (the nights in the period)",
            )
    if facts.relevant_other_child_count < 0:
        v.add("input.relevant_other_child_count", "must not be negative")
    if facts.other_arrangement_child_count < 0:
        v.add("input.other_arrangement_child_count", "must not be negative")
    if not facts.default_maintenance_decision:
        income = facts.paying_parent_income
        if income is None:
            v.add(
                "input.paying_parent_income",
                "is required unless a default maintenance decision is asked for",
            )
        else:
            p = "input.paying_parent_income"
            _money(v, f"{p}.hmrc_gross_annual_income_pence", income.hmrc_gross_annual_income_pence)
            _money(
                v,
                f"{p}.pension_contributions_annual_pence",
                income.pension_contributions_annual_pence,
            )
            if income.hmrc_income_unavailable and income.current_income is None:
                v.add(f"{p}.current_income", "is required when HMRC income is unavailable")
            if income.current_income is not None:
                current = income.current_income
                _money(
                    v,
                    f"{p}.current_income.gross_weekly_income_pence",
                    current.gross_weekly_income_pence,
                )
                _money(
                    v,
                    f"{p}.current_income.pension_contributions_weekly_pence",
                    current.pension_contributions_weekly_pence,
                )
    for i, e in enumerate(facts.special_expenses):
        _money(v, f"input.special_expenses[{i}].weekly_amount_pence", e.weekly_amount_pence)
    for i, a in enumerate(facts.additional_incomes):
        amount = (
            a.weekly_amount_pence if a.weekly_amount_pence is not None else a.annual_amount_pence
        )
        if amount is None:
            v.add(
                f"input.additional_incomes[{i}].weekly_amount_pence",
                "one of weekly_amount_pence or annual_amount_pence is required",
            )
        else:
            field = (
                "weekly_amount_pence"
                if a.weekly_amount_pence is not None
                else "annual_amount_pence"
            )
            _money(v, f"input.additional_incomes[{i}].{field}", amount)
    v.raise_if_any()


class _Steps:
    """Collects explained steps, or nothing at all when not explaining (bulk BASIC view)."""

    __slots__ = ("on", "items")

    def __init__(self, on: bool):
        self.on = on
        self.items: list[Step] = []

    def add(
        self,
        kind: StepKind,
        citation: str,
        explanation: str,
        amount: int | None = None,
        *,
        rp: str = "",
        child: str = "",
        params: tuple[str, ...] = (),
    ) -> None:
        if self.on:
            self.items.append(Step(kind, citation, explanation, amount, rp, params, child))


def calculate(
    facts: CalculationFacts, rules: RuleSet, *, explain: bool = True
) -> CalculationResult:
    # Most calculations (bulk runs, previews, annual reviews) are the common shape: plain integers, the same answer
    # and the same steps (fast.py).
    common = calculate_common(facts, rules, explain=explain)
    if common is not None:
        return common
    return calculate_general(facts, rules, explain=explain)


def calculate_general(
    facts: CalculationFacts, rules: RuleSet, *, explain: bool = True
) -> CalculationResult:
    """The whole pipeline for any facts: the definition the common path is checked against."""
    validate(facts, rules)
    steps = _Steps(explain)
    children = facts.qualifying_children
    bands = [shared_care_band(c, rules) for c in children]
    # Receiving parents in order of first appearance; children with equal care are not qualifying children of
    # this paying parent (reg 50) and are left out of every count.
    rps: dict[str, list[int]] = {}
    for i, c in enumerate(children):
        rps.setdefault(c.receiving_parent_reference, [])
        if bands[i] is not SharedCareBand.EQUAL_CARE:
            rps[c.receiving_parent_reference].append(i)
    counted = sum(len(ix) for ix in rps.values())
    if explain:
        for i, c in enumerate(children):
            if bands[i] is SharedCareBand.EQUAL_CARE:
                steps.add(
                    StepKind.SCOPE,
                    "2012 Regs reg 50",
                    f"You and the receiving parent share day-to-day care of {c.forename or 'the child'} equally, "
                    "so you are not the paying parent for this child.",
                    child=c.child_reference,
                )

    if counted == 0:
        return _result(
            facts,
            rules,
            steps,
            Rate.NO_LIABILITY,
            IncomeDetermination(IncomeBasis.NOT_USED),
            rps,
            bands,
            shares={rp: 0 for rp in rps},
            after={rp: 0 for rp in rps},
            extra={},
        )

    if facts.default_maintenance_decision:
        weekly = rules.default_decision_weekly_pence[_band_index(counted)]
        if steps.on:
            steps.add(
                StepKind.RATE,
                "Child Support Act 1991 s12(1); 2012 Regs reg 49",
                f"We do not have enough information to work out your child maintenance, so a default "
                f"maintenance decision of {pounds(weekly)} a week applies for {children_phrase(counted)}.",
                weekly,
                params=("default_decision.weekly_amounts",),
            )
        shares = _apportion(weekly, rps, steps)
        if rules.shared_care_applies_to_default_decision:
            after, extra = _shared_care(shares, rps, bands, children, rules, steps)
            after = _floor(after, rps, rules, steps)
        else:
            after, extra = shares, {}
        return _result(
            facts,
            rules,
            steps,
            Rate.DEFAULT,
            IncomeDetermination(IncomeBasis.NOT_USED),
            rps,
            bands,
            shares,
            after,
            extra,
        )

    income, reg70 = _income(facts, rules, steps)
    gwi = income.gross_weekly_income_pence

    # The rate (§2.1), checked in order: nil, flat, reduced, basic / basic plus.
    nil_conditions = [
        c for c in facts.nil_rate_conditions if not (reg70 and c in REG_70_NIL_CONDITIONS)
    ]
    couple_benefit = any(
        b.benefit in rules.flat_rate_benefits_paying_parent_or_partner for b in facts.benefits
    )
    own_benefit = not reg70 and any(
        b.benefit in rules.flat_rate_benefits_paying_parent
        and b.recipient is BenefitRecipient.PAYING_PARENT
        for b in facts.benefits
    )
    if explain:
        for receipt in facts.benefits:
            if receipt.benefit not in rules.flat_rate_benefits_paying_parent_or_partner and not (
                receipt.benefit in rules.flat_rate_benefits_paying_parent
                and receipt.recipient is BenefitRecipient.PAYING_PARENT
            ):
                steps.add(
                    StepKind.SCOPE,
                    "2012 Regs reg 44",
                    f"{receipt.benefit.name.replace('_', ' ').capitalize()} received by "
                    f"{'you' if receipt.recipient is BenefitRecipient.PAYING_PARENT else 'your partner'} does not "
                    "affect the rate.",
                    params=("rate.flat_rate_benefits",),
                )
    if nil_conditions or (
        gwi < rules.nil_income_below_pence and not (couple_benefit or own_benefit)
    ):
        if nil_conditions:
            if steps.on:
                steps.add(
                    StepKind.RATE,
                    "Child Support Act 1991 Sch 1 para 5; 2012 Regs reg 45(1)",
                    f"The nil rate applies because {_NIL_WORDS[nil_conditions[0]]}: you pay nothing.",
                    0,
                )
        else:
            if steps.on:
                steps.items.append(nil_income_step(gwi, rules))
        return _result(
            facts,
            rules,
            steps,
            Rate.NIL,
            income,
            rps,
            bands,
            shares={rp: 0 for rp in rps},
            after={rp: 0 for rp in rps},
            extra={},
        )

    if couple_benefit or own_benefit or gwi <= rules.flat_income_max_pence:
        return _flat_rate(facts, rules, steps, income, rps, bands, couple_benefit, own_benefit)

    qc_for_rate = counted + facts.other_arrangement_child_count
    roc = facts.relevant_other_child_count
    if explain:
        steps.items.append(child_count_step(counted, facts.other_arrangement_child_count, roc))

    reduced_income = gwi
    if gwi < rules.basic_income_from_pence:
        rate = Rate.REDUCED
        t_bp = rules.reduced_rate_bp[_band_index(qc_for_rate)][min(roc, 3)]
        # £7 + (GWI − £100) × T, in ten-thousandths of a penny.
        exact_num, exact_den = (
            rules.flat_rate_pence * 10_000 + (gwi - rules.flat_income_max_pence) * t_bp,
            10_000,
        )
        if steps.on:
            steps.items.append(reduced_rate_step(gwi, t_bp, exact_num, exact_den, rules))
    else:
        if roc:
            pct = rules.roc_reduction_percent[_band_index(roc)]
            reduced_income = div_half_up(gwi * (100 - pct), 100)
            if steps.on:
                steps.items.append(roc_step(pct, reduced_income, roc))
        b = rules.basic_percent[_band_index(qc_for_rate)]
        threshold = rules.basic_plus_threshold_pence
        # The band is chosen on income before the ROC reduction (basic from £200); the £800 split on the reduced
        # income (Sch 1 para 2(3) treats income as reduced for both sub-paragraphs).
        if reduced_income <= threshold:
            rate = Rate.BASIC
            exact_num, exact_den = reduced_income * b, 100
            if steps.on:
                steps.items.append(basic_rate_step(qc_for_rate, b, reduced_income, exact_num))
        else:
            rate = Rate.BASIC_PLUS
            p = rules.basic_plus_percent[_band_index(qc_for_rate)]
            exact_num, exact_den = threshold * b + (reduced_income - threshold) * p, 100
            if steps.on:
                steps.items.append(
                    basic_plus_rate_step(qc_for_rate, b, p, threshold, reduced_income, exact_num)
                )
    income = _with_reduced(income, reduced_income)

    if rules.whole_pound_rounding is WholePoundRounding.BEFORE_SHARED_CARE:
        # Reg 6: the penny rule gives way to the whole-pound rule here, so the exact amount goes straight to the
        # pound (£52.4952 is £52; via the penny, £52.50, it would be £53).
        amount = div_half_up(exact_num, exact_den * 100) * 100
        if steps.on:
            steps.items.append(pound_before_shared_care_step(exact_num, exact_den, amount))
    else:
        amount = div_half_up(exact_num, exact_den)

    if facts.other_arrangement_child_count and rules.other_arrangements_apportion_by_child_count:
        whole = amount
        amount = div_half_up(whole * counted, qc_for_rate)
        if steps.on:
            steps.add(
                StepKind.APPORTIONMENT,
                "Child Support Act 1991 Sch 1 para 5A",
                f"Only the share for the {children_phrase(counted)} in this calculation is payable: {counted} of "
                f"{qc_for_rate} of {pounds(whole)}, which is {pounds(amount)} a week.",
                amount,
                params=("other_arrangements.apportion_by_child_count",),
            )

    shares = _apportion(amount, rps, steps)
    after, extra = _shared_care(shares, rps, bands, children, rules, steps)
    if rules.whole_pound_rounding is WholePoundRounding.AFTER_SHARED_CARE:
        after = {rp: round_to_pound_half_up(a) for rp, a in after.items()}
        if steps.on:
            steps.items.append(pound_after_shared_care_step(sum(after.values())))
    floored = _floor(after, rps, rules, steps)
    return _result(
        facts,
        rules,
        steps,
        rate,
        income,
        rps,
        bands,
        shares,
        floored,
        extra,
        floor_applied=floored is not after,
    )


def _with_reduced(income: IncomeDetermination, reduced: int) -> IncomeDetermination:
    return IncomeDetermination(
        income.basis,
        income.historic_weekly_income_pence,
        income.current_weekly_income_pence,
        income.income_difference_weekly_pence,
        income.current_income_test_met,
        income.special_expenses_weekly_pence,
        income.additional_income_weekly_pence,
        income.uncapped_weekly_income_pence,
        income.capped,
        income.gross_weekly_income_pence,
        reduced,
    )


def _income(
    facts: CalculationFacts, rules: RuleSet, steps: _Steps
) -> tuple[IncomeDetermination, bool]:
    """Gross weekly income (§1) after variations (§6) and the cap; and whether a reg 70 variation applies."""
    inc = facts.paying_parent_income
    assert inc is not None  # validate() guarantees it outside a default maintenance decision
    explain = steps.on
    historic: int | None = None
    if not inc.hmrc_income_unavailable:
        annual = max(0, inc.hmrc_gross_annual_income_pence - inc.pension_contributions_annual_pence)
        historic = div_half_up(annual * 7, rules.historic_days_per_year)
        if explain:
            steps.items.append(historic_income_step(inc, historic, rules))
    current: int | None = None
    if inc.current_income is not None:
        ci = inc.current_income
        current = max(0, ci.gross_weekly_income_pence - ci.pension_contributions_weekly_pence)
        if explain:
            pension = (
                f" after pension contributions of {pounds(ci.pension_contributions_weekly_pence)} a week"
                if ci.pension_contributions_weekly_pence
                else ""
            )
            estimate = " This is an estimate." if ci.estimated else ""
            steps.add(
                StepKind.INCOME,
                "2012 Regs regs 37 to 40" + ("; reg 42" if ci.estimated else ""),
                f"Your current income is {pounds(current)} a week{pension}.{estimate}",
                current,
            )

    diff, met = 0, False
    if historic is None:
        assert current is not None
        basis, base = IncomeBasis.CURRENT_HISTORIC_UNAVAILABLE, current
        if steps.on:
            steps.add(
                StepKind.INCOME,
                "2012 Regs reg 34(1)(b) and (c)",
                f"HMRC had no income figure we could use, so we use your current income of {pounds(current)} a "
                "week.",
                current,
            )
    elif current is None:
        basis, base = IncomeBasis.HISTORIC, historic
    elif inc.current_income is not None and inc.current_income.in_place:
        # Current income was already in place and has changed by 25% or more since: the new figure is used
        # even where it is within 25% of historic income; the historic test is not run again.
        basis, base = IncomeBasis.CURRENT_IN_PLACE, current
        if explain:
            steps.add(
                StepKind.INCOME,
                "2012 Regs reg 23(4)",
                f"Your current income was already used for your calculation and has changed by 25% or more, so "
                f"we use your new current income of {pounds(current)} a week.",
                current,
            )
    else:
        diff = abs(current - historic)
        pct = rules.current_income_difference_percent
        met = diff > 0 and diff * 100 >= historic * pct
        basis, base = (
            (IncomeBasis.CURRENT_DIFFERS_FROM_HISTORIC, current)
            if met
            else (IncomeBasis.HISTORIC, historic)
        )
        if explain:
            if historic == 0 and current > 0:
                cite = (
                    "2012 Regs reg 34(2A)"
                    if rules.nil_historic_counts_as_difference
                    else "2012 Regs reg 34(1)"
                )
                text = (
                    f"HMRC's figure is nil and you have current income, so we use your current income of "
                    f"{pounds(current)} a week."
                )
            else:
                cite = "2012 Regs reg 34(1)(a)"
                tolerance = pounds(div_half_up(historic * pct, 100))
                text = (
                    f"Your current income differs from your historic income by {pounds(diff)} a week, which is "
                    f"{'at least' if met else 'less than'} {pct}% of it ({tolerance}), so we use your "
                    f"{'current' if met else 'historic'} income of {pounds(base)} a week."
                )
            steps.add(
                StepKind.INCOME,
                cite,
                text,
                base,
                params=("income.current_income_difference_percent",),
            )

    # Variations (§6): special expenses deducted (reg 72), additional income added (reg 73).
    own_flat_benefit = any(
        b.benefit in rules.flat_rate_benefits_paying_parent
        and b.recipient is BenefitRecipient.PAYING_PARENT
        for b in facts.benefits
    )
    # Special expenses are not available on an income below the nil-rate threshold or on a flat-rate benefit;
    # judged before any additional-income variation, which must not open the door to them (§6).
    special_barred = base < rules.nil_income_below_pence or (
        own_flat_benefit
        or any(
            b.benefit in rules.flat_rate_benefits_paying_parent_or_partner for b in facts.benefits
        )
    )
    special = 0
    by_kind: dict[SpecialExpenseKind, int] = {}
    for e in facts.special_expenses:
        by_kind[e.kind] = by_kind.get(e.kind, 0) + e.weekly_amount_pence
    for kind, total in by_kind.items():
        if special_barred:
            what, cite = _EXPENSE[kind]
            if steps.on:
                steps.add(
                    StepKind.VARIATION,
                    f"{cite}; 2012 Regs regs 44 and 45(1)",
                    f"Your special expenses for {what} of {pounds(total)} a week are not deducted because your "
                    f"income before variations is below {pounds(rules.nil_income_below_pence)} a week or you get "
                    "a benefit that puts you on the flat rate.",
                    0,
                    params=("rate.nil_income_below", "rate.flat_rate_benefits"),
                )
            continue
        threshold = (
            0
            if kind in rules.special_expense_threshold_exempt
            else rules.special_expense_threshold_pence
        )
        what, cite = _EXPENSE[kind]
        if total < threshold:
            if steps.on:
                steps.add(
                    StepKind.VARIATION,
                    f"{cite}; 2012 Regs reg 68",
                    f"Your special expenses for {what} of {pounds(total)} a week are below the "
                    f"{pounds(threshold)} a week threshold, so they are not deducted.",
                    0,
                    params=("variation.special_expense_threshold",),
                )
            continue
        counted = total - threshold if rules.special_expense_deduct_excess_only else total
        special += counted
        if steps.on:
            steps.add(
                StepKind.VARIATION,
                f"{cite}; 2012 Regs regs 68 and 72",
                f"Your special expenses for {what} of {pounds(counted)} a week are taken off your income.",
                counted,
                params=(
                    "variation.special_expense_threshold",
                    "variation.special_expense_deduct_excess_only",
                ),
            )

    reg70_ground = own_flat_benefit or any(
        c in REG_70_NIL_CONDITIONS for c in facts.nil_rate_conditions
    )
    additional, reg70 = 0, False
    params: tuple[str, ...]
    for a in facts.additional_incomes:
        weekly = (
            a.weekly_amount_pence
            if a.weekly_amount_pence is not None
            # validate() made sure an income without a weekly amount has an annual one.
            else div_half_up((a.annual_amount_pence or 0) * 7, rules.historic_days_per_year)
        )
        if a.kind is AdditionalIncomeKind.UNEARNED_INCOME:
            minimum = rules.unearned_income_minimum_annual_pence
            enough = (
                a.annual_amount_pence >= minimum
                if a.annual_amount_pence is not None
                else weekly * rules.historic_days_per_year >= minimum * 7
            )
            cite, what, params = (
                "2012 Regs regs 69 and 73",
                "unearned income",
                ("variation.unearned_income_minimum_annual", "income.historic_days_per_year"),
            )
            reason = f"is less than {pounds(minimum)} a year"
        elif a.kind is AdditionalIncomeKind.INCOME_NOT_TAKEN_INTO_ACCOUNT:
            minimum = rules.income_not_taken_into_account_minimum_weekly_pence
            enough = reg70_ground and weekly >= minimum
            reg70 = reg70 or enough
            cite, what, params = (
                "2012 Regs regs 70 and 73",
                "income not otherwise taken into account",
                ("variation.income_not_taken_into_account_minimum_weekly",),
            )
            reason = (
                f"is less than {pounds(minimum)} a week"
                if reg70_ground
                else "applies only to a flat rate for your own benefit or a nil rate"
            )
        else:
            enough, cite, what, params, reason = (
                True,
                "2012 Regs regs 71 and 73",
                "diverted income",
                (),
                "",
            )
        if enough:
            additional += weekly
            if steps.on:
                steps.add(
                    StepKind.VARIATION,
                    cite,
                    f"Your {what} of {pounds(weekly)} a week is added to your income.",
                    weekly,
                    params=params,
                )
        else:
            if steps.on:
                steps.add(
                    StepKind.VARIATION,
                    cite,
                    f"Your {what} of {pounds(weekly)} a week is not added because it {reason}.",
                    0,
                    params=params,
                )

    uncapped = max(0, base + additional - special)
    gwi = min(uncapped, rules.weekly_income_cap_pence)
    if (special or additional) and steps.on:
        steps.add(
            StepKind.VARIATION,
            "2012 Regs regs 72 and 73",
            f"After variations your income is {pounds(uncapped)} a week.",
            uncapped,
        )
    if gwi < uncapped and steps.on:
        steps.items.append(income_cap_step(gwi, rules))
    return IncomeDetermination(
        basis=basis,
        historic_weekly_income_pence=historic or 0,
        current_weekly_income_pence=current or 0,
        income_difference_weekly_pence=diff,
        current_income_test_met=met,
        special_expenses_weekly_pence=special,
        additional_income_weekly_pence=additional,
        uncapped_weekly_income_pence=uncapped,
        capped=gwi < uncapped,
        gross_weekly_income_pence=gwi,
        roc_reduced_weekly_income_pence=gwi,
    ), reg70


def _flat_rate(
    facts: CalculationFacts,
    rules: RuleSet,
    steps: _Steps,
    income: IncomeDetermination,
    rps: dict[str, list[int]],
    bands: list[SharedCareBand],
    couple_benefit: bool,
    own_benefit: bool,
) -> CalculationResult:
    gwi = income.gross_weekly_income_pence
    flat = rules.flat_rate_pence
    half = (
        couple_benefit
        and facts.partner_is_paying_parent
        and rules.couple_both_paying_parents_half_flat_rate
    )
    if half:
        flat = div_half_up(flat, 2)
    if couple_benefit or own_benefit:
        whose = "you or your partner get" if couple_benefit else "you get"
        cite = (
            "Child Support Act 1991 Sch 1 para 4(1)("
            + ("c)" if couple_benefit else "b)")
            + "; 2012 Regs reg 44"
        )
        if steps.on:
            steps.add(
                StepKind.RATE,
                cite,
                f"The flat rate of {pounds(flat)} a week applies because {whose} a benefit "
                "that puts you on the flat rate."
                + (
                    " You and your partner are both paying parents, so each pays half."
                    if half
                    else ""
                ),
                flat,
                params=("rate.flat_rate", "rate.flat_rate_benefits")
                + (("flat_rate.couple_both_paying_parents_half",) if half else ()),
            )
    else:
        if steps.on:
            steps.items.append(flat_low_income_step(flat, gwi, rules))
    shares = _apportion(flat, rps, steps)
    after = dict(shares)
    if couple_benefit or own_benefit:
        children = facts.qualifying_children
        for rp, ix in rps.items():
            if any(_nights_at_least(children[i], rules.benefit_flat_rate_nil_nights) for i in ix):
                after[rp] = 0
                if steps.on:
                    steps.add(
                        StepKind.SHARED_CARE,
                        "Child Support Act 1991 Sch 1 para 8",
                        f"You care for a child living with this receiving parent for at least "
                        f"{rules.benefit_flat_rate_nil_nights} nights a year and are on the flat rate because of a "
                        "benefit, so nothing is payable to them.",
                        0,
                        rp=rp,
                        params=("shared_care.benefit_flat_rate_nil_nights",),
                    )
    elif any(bands[i] is not SharedCareBand.NONE for ix in rps.values() for i in ix) and steps.on:
        steps.items.append(FLAT_NOT_REDUCED_BY_SHARED_CARE)
    rate = Rate.NIL if all(a == 0 for a in after.values()) else Rate.FLAT
    return _result(facts, rules, steps, rate, income, rps, bands, shares, after, {})


def _nights_at_least(child: QualifyingChild, nights: int) -> bool:
    period = child.shared_care_period_nights
    return (
        child.shared_care_nights >= nights
        if not period
        else child.shared_care_nights * 365 >= nights * period
    )


def _apportion(amount: int, rps: dict[str, list[int]], steps: _Steps) -> dict[str, int]:
    """Sch 1 para 6: split between receiving parents by their number of qualifying children, balanced to the penny
    so the parts add up exactly (largest remainder; docs/domain/calculation.md §4, open point 2)."""
    counting = [rp for rp, ix in rps.items() if ix]
    parts = split_balanced(amount, [len(rps[rp]) for rp in counting])
    shares = dict.fromkeys(rps, 0)
    shares.update(zip(counting, parts, strict=True))
    if len(counting) > 1 and steps.on:
        for rp in counting:
            n = len(rps[rp])
            steps.add(
                StepKind.APPORTIONMENT,
                "Child Support Act 1991 Sch 1 para 6",
                f"{pounds(shares[rp])} a week is for the {children_phrase(n)} living with this receiving parent "
                f"({n} of {sum(len(ix) for ix in rps.values())}).",
                shares[rp],
                rp=rp,
                params=("rounding.apportionment",),
            )
    return shares


def _shared_care(
    shares: dict[str, int],
    rps: dict[str, list[int]],
    bands: list[SharedCareBand],
    children: tuple[QualifyingChild, ...],
    rules: RuleSet,
    steps: _Steps,
) -> tuple[dict[str, int], dict[str, int]]:
    """Sch 1 para 7 per receiving parent: subtract the average of the children's fractions, then £7 for each child
    at 175+ nights; never below nil for one receiving parent (the £7 floor is on the aggregate)."""
    after: dict[str, int] = {}
    extra: dict[str, int] = {}
    for rp, ix in rps.items():
        share = shares[rp]
        if not ix or all(bands[i] is SharedCareBand.NONE for i in ix):
            after[rp] = share
            continue
        kept = sum(_KEPT_14THS[bands[i]] for i in ix)
        reduced = div_half_up(share * kept, 14 * len(ix))
        halves = sum(1 for i in ix if bands[i] is SharedCareBand.ONE_HALF)
        extra[rp] = halves * rules.shared_care_extra_deduction_pence
        after[rp] = max(0, reduced - extra[rp])
        if steps.on:
            steps.items.append(
                shared_care_step(
                    rp,
                    [(children[i], bands[i]) for i in ix],
                    kept,
                    share,
                    reduced,
                    halves,
                    after[rp],
                    rules,
                )
            )
    return after, extra


def _floor(
    after: dict[str, int], rps: dict[str, list[int]], rules: RuleSet, steps: _Steps
) -> dict[str, int]:
    """Sch 1 para 7(7): shared care never takes the total below £7, which is then apportioned (para 6)."""
    minimum = rules.minimum_amount_after_shared_care_pence
    if sum(after.values()) >= minimum:
        return after
    counting = [rp for rp, ix in rps.items() if ix]
    floored = dict.fromkeys(rps, 0)
    floored.update(
        zip(counting, split_balanced(minimum, [len(rps[rp]) for rp in counting]), strict=True)
    )
    if steps.on:
        steps.items.append(floor_step(sum(after.values()), minimum))
    return floored


def _child_split(
    amount: int,
    ix: list[int],
    bands: list[SharedCareBand],
    share: int,
    rules: RuleSet,
    proportional: bool,
) -> list[int]:
    """A receiving parent's amount attributed to their children (informational), each child weighted by its own
    shared care so the parts reflect who is cared for when, and add up exactly."""
    if proportional:
        weights = [
            max(
                0,
                share * _KEPT_14THS[bands[i]]
                - (
                    14 * len(ix) * rules.shared_care_extra_deduction_pence
                    if bands[i] is SharedCareBand.ONE_HALF
                    else 0
                ),
            )
            for i in ix
        ]
        if sum(weights) > 0:
            return split_balanced(amount, weights)
    return split_balanced(amount, [1] * len(ix))


def _result(
    facts: CalculationFacts,
    rules: RuleSet,
    steps: _Steps,
    rate: Rate,
    income: IncomeDetermination,
    rps: dict[str, list[int]],
    bands: list[SharedCareBand],
    shares: dict[str, int],
    after: dict[str, int],
    extra: dict[str, int],
    floor_applied: bool = False,
) -> CalculationResult:
    fees = _fees(facts, rules, steps)
    children = facts.qualifying_children
    rp_amounts = []
    child_amount: dict[int, int] = {}
    for rp, ix in rps.items():
        amount = after[rp]
        if ix:
            proportional = rate in (Rate.REDUCED, Rate.BASIC, Rate.BASIC_PLUS) and not floor_applied
            child_amount.update(
                zip(
                    ix,
                    _child_split(amount, ix, bands, shares[rp], rules, proportional),
                    strict=True,
                )
            )
            fraction = _NO_FRACTION
            if rp in extra:  # shared care was applied to this receiving parent
                kept = sum(_KEPT_14THS[bands[i]] for i in ix)
                fraction = Fraction(14 * len(ix) - kept, 14 * len(ix))
        else:
            fraction = _NO_FRACTION
        rp_amounts.append(
            ReceivingParentAmount(
                receiving_parent_reference=rp,
                qualifying_child_count=len(ix),
                apportioned_weekly_amount_pence=shares[rp],
                shared_care_fraction=fraction,
                shared_care_extra_deduction_pence=extra.get(rp, 0),
                weekly_amount_pence=amount,
                paying_parent_fee_weekly_pence=div_half_up(
                    amount * fees.paying_parent_fee_basis_points, 10_000
                ),
                receiving_parent_fee_weekly_pence=div_half_up(
                    amount * fees.receiving_parent_fee_basis_points, 10_000
                ),
            )
        )
    child_amounts = tuple(
        ChildAmount(
            c.child_reference,
            c.receiving_parent_reference,
            c.shared_care_nights,
            bands[i],
            child_amount.get(i, 0),
        )
        for i, c in enumerate(children)
    )
    weekly = sum(a.weekly_amount_pence for a in rp_amounts)
    if fees.charged and steps.on and weekly:
        steps.items.append(
            collection_fee_step(
                fees,
                weekly,
                sum(a.paying_parent_fee_weekly_pence for a in rp_amounts),
                sum(a.receiving_parent_fee_weekly_pence for a in rp_amounts),
                len(rp_amounts),
            )
        )
    if steps.on:
        steps.items.append(payment_frequency_step(weekly, rules))
    return CalculationResult(
        rate=rate,
        income=income,
        weekly_amount_pence=weekly,
        receiving_parent_amounts=tuple(rp_amounts),
        child_amounts=child_amounts,
        fees=fees,
        rule_set_version=rules.version,
        steps=tuple(steps.items),
    )


def _fees(facts: CalculationFacts, rules: RuleSet, steps: _Steps) -> Fees:
    scheme = rules.fees
    charged = facts.service_type is ServiceType.COLLECT_AND_PAY or not scheme.direct_pay_available
    if not charged:
        return Fees(False, 0, 0)
    if facts.service_type is ServiceType.DIRECT_PAY and steps.on:
        steps.items.append(direct_pay_unavailable_step(rules))
    non_compliant = facts.compliance_status is ComplianceStatus.NON_COMPLIANT
    return Fees(
        True,
        scheme.non_compliant_paying_parent_bp if non_compliant else scheme.paying_parent_bp,
        scheme.receiving_parent_bp,
    )


__all__ = [
    "calculate",
    "calculate_general",
    "periodic_amounts",
    "shared_care_band",
    "shared_care_year_nights",
    "validate",
]
