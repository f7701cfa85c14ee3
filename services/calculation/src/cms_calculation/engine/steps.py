"""The plain-English steps a calculation is explained with (docs/domain/calculation.md), one builder per step: the
general pipeline (calculate.py) and the explained common case (fast.py) both take their steps from here, so each
text has one definition."""

from __future__ import annotations

from fractions import Fraction

from .model import (
    Fees,
    Frequency,
    PayingParentIncome,
    QualifyingChild,
    SharedCareBand,
    Step,
    StepKind,
)
from .money import div_half_up, exact_pounds, percent, pounds
from .rules import RuleSet

BAND_WORDS = {
    SharedCareBand.NONE: "no reduction",
    SharedCareBand.ONE_SEVENTH: "one seventh",
    SharedCareBand.TWO_SEVENTHS: "two sevenths",
    SharedCareBand.THREE_SEVENTHS: "three sevenths",
    SharedCareBand.ONE_HALF: "one half",
    SharedCareBand.EQUAL_CARE: "equal care",
}


def children_phrase(n: int) -> str:
    return f"{n} {'child' if n == 1 else 'children'}"


# The order periodic_pence() gives the amounts in.
PERIODS = (Frequency.WEEKLY, Frequency.FORTNIGHTLY, Frequency.FOUR_WEEKLY, Frequency.MONTHLY)


def periodic_pence(weekly_pence: int, rules: RuleSet) -> tuple[int, int, int, int]:
    """A weekly amount in each of PERIODS: a month is 52 weeks over 12 months, half up (docs/domain/calculation.md
    §8). A plain tuple, as every Calculation converts three amounts."""
    return (
        weekly_pence,
        weekly_pence * 2,
        weekly_pence * 4,
        div_half_up(weekly_pence * rules.monthly_weeks_per_year, 12),
    )


def periodic_amounts(weekly_pence: int, rules: RuleSet) -> dict[Frequency, int]:
    return dict(zip(PERIODS, periodic_pence(weekly_pence, rules), strict=True))


def historic_income_step(inc: PayingParentIncome, historic: int, rules: RuleSet) -> Step:
    year = f" for the tax year {inc.hmrc_tax_year}" if inc.hmrc_tax_year else ""
    pension = (
        f", less pension contributions of {pounds(inc.pension_contributions_annual_pence)}"
        if inc.pension_contributions_annual_pence
        else ""
    )
    return Step(
        StepKind.INCOME,
        "2012 Regs regs 35 and 36" + ("; reg 35(3)" if pension else ""),
        f"HMRC told us your income{year} was {pounds(inc.hmrc_gross_annual_income_pence)} a year"
        f"{pension}. That is {pounds(historic)} a week (divided by {rules.historic_days_per_year}, "
        "times 7).",
        historic,
        "",
        ("income.historic_days_per_year",),
    )


def income_cap_step(gwi: int, rules: RuleSet) -> Step:
    return Step(
        StepKind.INCOME_CAP,
        "Child Support Act 1991 Sch 1 para 10(3); 2012 Regs reg 2",
        f"Only the first {pounds(rules.weekly_income_cap_pence)} a week of income counts.",
        gwi,
        "",
        ("income.weekly_cap",),
    )


def nil_income_step(gwi: int, rules: RuleSet) -> Step:
    return Step(
        StepKind.RATE,
        "Child Support Act 1991 Sch 1 para 5; 2012 Regs reg 45(2)",
        f"The nil rate applies because your income of {pounds(gwi)} a week is less than "
        f"{pounds(rules.nil_income_below_pence)}: you pay nothing.",
        0,
        "",
        ("rate.nil_income_below",),
    )


def flat_low_income_step(flat: int, gwi: int, rules: RuleSet) -> Step:
    return Step(
        StepKind.RATE,
        "Child Support Act 1991 Sch 1 para 4(1)(a)",
        f"The flat rate of {pounds(flat)} a week applies because your income of {pounds(gwi)} a week is "
        f"{pounds(rules.flat_income_max_pence)} or less.",
        flat,
        "",
        ("rate.flat_rate", "rate.flat_income_max"),
    )


FLAT_NOT_REDUCED_BY_SHARED_CARE = Step(
    StepKind.SHARED_CARE,
    "Child Support Act 1991 Sch 1 paras 4 and 7",
    "Shared care does not reduce the flat rate when it applies because of low income.",
)


def child_count_step(counted: int, other_arrangements: int, roc: int) -> Step:
    words = (
        f"There {'is' if counted == 1 else 'are'} {children_phrase(counted)} in this calculation"
    )
    if other_arrangements:
        words += (
            f", and {children_phrase(other_arrangements)} you support under another "
            f"arrangement {'is' if other_arrangements == 1 else 'are'} counted with them "
            "to choose the percentage"
        )
    if roc:
        words += f"; you have {children_phrase(roc)} living with you who also {'counts' if roc == 1 else 'count'}"
    return Step(
        StepKind.CHILD_COUNT,
        "Child Support Act 1991 Sch 1 paras 2 and 5A; 2012 Regs reg 77",
        words + ". The tables stop at three or more.",
    )


def reduced_rate_step(gwi: int, t_bp: int, exact_num: int, exact_den: int, rules: RuleSet) -> Step:
    return Step(
        StepKind.RATE,
        "2012 Regs reg 43",
        f"Your income of {pounds(gwi)} a week is between {pounds(rules.flat_income_max_pence)} and "
        f"{pounds(rules.basic_income_from_pence)}, so the reduced rate applies: "
        f"{pounds(rules.flat_rate_pence)} plus {percent(t_bp)} of the "
        f"{pounds(gwi - rules.flat_income_max_pence)} over {pounds(rules.flat_income_max_pence)}.",
        div_half_up(exact_num, exact_den),
        "",
        ("rate.reduced_rate_table", "rate.flat_rate"),
    )


def roc_step(pct: int, reduced_income: int, roc: int) -> Step:
    return Step(
        StepKind.CHILD_COUNT,
        "Child Support Act 1991 Sch 1 para 2(3)",
        f"Your income is reduced by {pct}% to {pounds(reduced_income)} a week because you have "
        f"{children_phrase(roc)} living with you.",
        reduced_income,
        "",
        ("rate.roc_reduction_percent",),
    )


def basic_rate_step(children: int, b: int, reduced_income: int, exact_num: int) -> Step:
    """`exact_num`: the amount in hundredths of a penny."""
    return Step(
        StepKind.RATE,
        "Child Support Act 1991 Sch 1 para 2(1)",
        f"The basic rate for {children_phrase(children)} is {b}% of {pounds(reduced_income)}.",
        div_half_up(exact_num, 100),
        "",
        ("rate.basic_percent",),
    )


def basic_plus_rate_step(
    children: int, b: int, p: int, threshold: int, reduced_income: int, exact_num: int
) -> Step:
    """`exact_num`: the amount in hundredths of a penny."""
    return Step(
        StepKind.RATE,
        "Child Support Act 1991 Sch 1 para 2(2)",
        f"The basic plus rate for {children_phrase(children)} is {b}% of the first {pounds(threshold)} and "
        f"{p}% of the remaining {pounds(reduced_income - threshold)}.",
        div_half_up(exact_num, 100),
        "",
        ("rate.basic_percent", "rate.basic_plus_percent", "rate.basic_plus_threshold"),
    )


def pound_before_shared_care_step(exact_num: int, exact_den: int, amount: int) -> Step:
    return Step(
        StepKind.ROUNDING,
        "2012 Regs reg 6",
        f"The exact amount, {exact_pounds(exact_num, exact_den)}, is rounded to the nearest pound (half "
        f"up, without first rounding to the penny): {pounds(amount)} a week.",
        amount,
        "",
        ("rounding.whole_pound_point",),
    )


def pound_after_shared_care_step(total: int) -> Step:
    return Step(
        StepKind.ROUNDING,
        "2012 Regs reg 6",
        "Each receiving parent's amount is rounded to the nearest pound.",
        total,
        "",
        ("rounding.whole_pound_point",),
    )


def shared_care_step(
    rp: str,
    children: list[tuple[QualifyingChild, SharedCareBand]],
    kept: int,
    share: int,
    reduced: int,
    halves: int,
    after: int,
    rules: RuleSet,
) -> Step:
    """A receiving parent's shared-care reduction: `children` theirs with their bands, `kept` the fourteenths
    kept over them all."""
    whole = 14 * len(children)
    fraction = Fraction(whole - kept, whole)
    nights = ", ".join(
        f"{c.forename or c.child_reference} {c.shared_care_nights} nights ({BAND_WORDS[band]})"
        for c, band in children
    )
    text = (
        f"You care for the children of this receiving parent overnight ({nights}), so "
        f"{fraction.numerator}/{fraction.denominator} is taken off {pounds(share)}, leaving "
        f"{pounds(reduced)} a week"
    )
    if halves:
        text += (
            f"; a further {pounds(rules.shared_care_extra_deduction_pence)} is taken off for each of the "
            f"{children_phrase(halves)} you care for 175 nights or more, leaving {pounds(after)}"
        )
    return Step(
        StepKind.SHARED_CARE,
        "Child Support Act 1991 Sch 1 para 7",
        text + ".",
        after,
        rp,
        ("shared_care.band_nights",) + (("shared_care.extra_deduction",) if halves else ()),
    )


def floor_step(total: int, minimum: int) -> Step:
    return Step(
        StepKind.FLOOR,
        "Child Support Act 1991 Sch 1 para 7(7)",
        f"The amount would be {pounds(total)} a week, but you pay at least {pounds(minimum)} a week.",
        minimum,
        "",
        ("shared_care.minimum_amount",),
    )


def direct_pay_unavailable_step(rules: RuleSet) -> Step:
    return Step(
        StepKind.COLLECTION_FEE,
        "Government response, 23 June 2025 (rule set " + rules.version + ")",
        "Direct Pay is no longer available, so the case is charged as Collect and Pay.",
        None,
        "",
        ("fees.direct_pay_available",),
    )


def collection_fee_step(fees: Fees, weekly: int, pp: int, rpf: int, receiving_parents: int) -> Step:
    return Step(
        StepKind.COLLECTION_FEE,
        "Child Support Fees Regulations 2014 regs 7 and 8",
        f"On Collect and Pay you pay a collection fee of {percent(fees.paying_parent_fee_basis_points)} "
        f"({pounds(pp)} a week), so you pay {pounds(weekly + pp)} a week; "
        f"{percent(fees.receiving_parent_fee_basis_points)} ({pounds(rpf)} a week) is taken from what the "
        f"receiving {'parent gets' if receiving_parents == 1 else 'parents get'}.",
        pp,
        "",
        ("fees.paying_parent", "fees.non_compliant_paying_parent", "fees.receiving_parent"),
    )


def payment_frequency_step(weekly: int, rules: RuleSet) -> Step:
    monthly = periodic_pence(weekly, rules)[3]
    return Step(
        StepKind.PAYMENT_FREQUENCY,
        "Child Support (Collection and Enforcement) Regulations 1992 reg 4",
        f"{pounds(weekly)} a week is {pounds(weekly * 2)} a fortnight, {pounds(weekly * 4)} every four "
        f"weeks or {pounds(monthly)} a month (52 weeks over 12 months).",
        weekly,
        "",
        ("schedule.monthly_weeks_per_year",),
    )
