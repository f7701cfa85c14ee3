"""Rule sets: every statutory figure and every unconfirmed [?] choice as a named, effective-dated parameter
(docs/domain/calculation.md §1–§8). The arithmetic in calculate.py reads only from here, so a change in the law, a
reform or a resolved open point is a new rule set, never a code change; old decisions re-run under their own
version.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from .model import Benefit, SpecialExpenseKind


class WholePoundRounding(enum.StrEnum):
    """Where the reduced, basic and basic-plus amount is rounded to a whole pound (docs/domain/calculation.md §5, open point 1)."""

    BEFORE_SHARED_CARE = (
        "BEFORE_SHARED_CARE"  # the documented default (docs/domain/calculation.md §5)
    )
    AFTER_SHARED_CARE = "AFTER_SHARED_CARE"  # reproduces the CMS leaflet examples (£63 from 62.54)
    NONE = "NONE"  # pennies throughout


# reg 44(1): the paying parent's own receipt puts them on the flat rate.
REG_44_1 = frozenset(
    {
        Benefit.STATE_PENSION,
        Benefit.INCAPACITY_BENEFIT,
        Benefit.CARERS_ALLOWANCE,
        Benefit.MATERNITY_ALLOWANCE,
        Benefit.SEVERE_DISABLEMENT_ALLOWANCE,
        Benefit.INDUSTRIAL_INJURIES_BENEFIT,
        Benefit.WIDOWED_PARENTS_ALLOWANCE,
        Benefit.WIDOWS_PENSION,
        Benefit.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED,
        Benefit.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY,
        Benefit.NON_UK_SOCIAL_SECURITY_BENEFIT,
        Benefit.TRAINING_ALLOWANCE,
        Benefit.WAR_DISABLEMENT_PENSION,
        Benefit.WAR_WIDOWS_PENSION,
        Benefit.ARMED_FORCES_COMPENSATION_SCHEME,
    }
)
# reg 44(1) as made also listed bereavement allowance; decisions dated before its omission (6 April 2017, when the
# allowance closed to new claims) re-run with it.
REG_44_1_AS_MADE = REG_44_1 | {Benefit.BEREAVEMENT_ALLOWANCE}
# reg 44(2): the paying parent's or their partner's receipt.
REG_44_2 = frozenset(
    {
        Benefit.INCOME_SUPPORT,
        Benefit.JOBSEEKERS_ALLOWANCE_INCOME_BASED,
        Benefit.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED,
        Benefit.STATE_PENSION_CREDIT,
        Benefit.UNIVERSAL_CREDIT_NO_EARNED_INCOME,
    }
)


@dataclass(frozen=True)
class FeeScheme:
    paying_parent_bp: int  # basis points added on top for a compliant paying parent
    non_compliant_paying_parent_bp: int
    receiving_parent_bp: int  # basis points deducted from each receiving parent's receipts
    direct_pay_available: bool = True


@dataclass(frozen=True)
class RuleSet:
    version: str
    description: str
    # None: never in force by date, usable only by name in what-if runs (the reform before its start date).
    effective_from: dt.date | None
    effective_to: dt.date | None = None  # exclusive; set by the rule book from the next rule set
    scheme_start: dt.date = dt.date(2012, 12, 10)
    # §1 income
    historic_days_per_year: int = 365  # reg 35(1): ÷ 365 × 7
    current_income_difference_percent: int = 25  # reg 34(1)(a), reg 23
    nil_historic_counts_as_difference: bool = True  # reg 34(2A), from 25 Nov 2013 (SI 2013/1517)
    weekly_income_cap_pence: int = 300_000  # Sch 1 para 10(3)
    # §2 rates
    nil_income_below_pence: int = 700  # reg 45(1)
    flat_rate_pence: int = 700  # Sch 1 para 4
    flat_income_max_pence: int = 10_000  # Sch 1 para 4(1)(a): GWI up to £100
    basic_income_from_pence: int = 20_000  # Sch 1 para 3(1): reduced rate below £200
    basic_plus_threshold_pence: int = 80_000  # Sch 1 para 2(2)
    basic_percent: tuple[int, int, int] = (12, 16, 19)  # 1, 2, 3+ qualifying children
    basic_plus_percent: tuple[int, int, int] = (9, 12, 15)
    roc_reduction_percent: tuple[int, int, int] = (11, 14, 16)  # 1, 2, 3+ relevant other children
    # reg 43: T in basis points, rows 1/2/3+ QCs, columns 0/1/2/3+ ROCs
    reduced_rate_bp: tuple[tuple[int, int, int, int], ...] = (
        (1700, 1410, 1320, 1240),
        (2500, 2120, 1990, 1890),
        (3100, 2640, 2490, 2380),
    )
    flat_rate_benefits_paying_parent: frozenset[Benefit] = REG_44_1
    flat_rate_benefits_paying_parent_or_partner: frozenset[Benefit] = REG_44_2
    couple_both_paying_parents_half_flat_rate: bool = True  # Sch 1 para 4(2) [?]
    other_arrangements_apportion_by_child_count: bool = True  # Sch 1 para 5A [?]
    # §3 shared care
    shared_care_band_nights: tuple[int, int, int, int] = (52, 104, 156, 175)
    shared_care_extra_deduction_pence: int = 700  # Sch 1 para 7(6): a further £7 per child at 175+
    minimum_amount_after_shared_care_pence: int = 700  # Sch 1 para 7(7)
    benefit_flat_rate_nil_nights: int = 52  # Sch 1 para 8
    shared_care_applies_to_default_decision: bool = (
        False  # docs/domain/calculation.md §7, open point 13
    )
    # §5 rounding [?]
    whole_pound_rounding: WholePoundRounding = WholePoundRounding.BEFORE_SHARED_CARE
    # §6 variations [?]
    special_expense_threshold_pence: int = 1000  # reg 68, per ground
    special_expense_threshold_exempt: frozenset[SpecialExpenseKind] = frozenset(
        {SpecialExpenseKind.RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY}
    )
    special_expense_deduct_excess_only: bool = False
    unearned_income_minimum_annual_pence: int = 250_000  # reg 69
    income_not_taken_into_account_minimum_weekly_pence: int = 10_000  # reg 70
    # §7 default maintenance decision (reg 49 as made; GOV.UK shows £38) [?]
    default_decision_weekly_pence: tuple[int, int, int] = (3900, 5100, 6400)
    # §8 fees and schedule
    fees: FeeScheme = field(default_factory=lambda: FeeScheme(2000, 2000, 400))
    monthly_weeks_per_year: int = 52  # monthly = weekly × 52 ÷ 12 [?]

    def in_force(self, on: dt.date) -> bool:
        return (
            self.effective_from is not None
            and self.effective_from <= on
            and (self.effective_to is None or on < self.effective_to)
        )


def _chain(rule_sets: list[RuleSet]) -> tuple[RuleSet, ...]:
    dated = sorted(
        (r for r in rule_sets if r.effective_from is not None),
        key=lambda r: r.effective_from or dt.date.min,  # all dated here; `or` only tells mypy so
    )
    out = [
        replace(r, effective_to=nxt.effective_from)
        for r, nxt in zip(dated, dated[1:], strict=False)
    ]
    out.append(dated[-1])
    return tuple(out) + tuple(r for r in rule_sets if r.effective_from is None)


SCHEME_START = RuleSet(
    version="2012-12-10",
    description="The 2012 scheme as made: Collect & Pay without collection fees.",
    effective_from=dt.date(2012, 12, 10),
    nil_historic_counts_as_difference=False,
    fees=FeeScheme(0, 0, 0),
    flat_rate_benefits_paying_parent=REG_44_1_AS_MADE,
)
HISTORIC_NIL_RULE = replace(
    SCHEME_START,
    version="2013-11-25",
    description="SI 2013/1517: nil historic income with any current income counts as a 25% difference.",
    effective_from=dt.date(2013, 11, 25),
    nil_historic_counts_as_difference=True,
)
COLLECTION_FEES = replace(
    HISTORIC_NIL_RULE,
    version="2014-08-11",
    description="Child Support Fees Regulations 2014: Collect & Pay fees of 20% on the paying parent and 4% "
    "off the receiving parent.",
    effective_from=dt.date(2014, 8, 11),
    fees=FeeScheme(2000, 2000, 400),
)
BEREAVEMENT_ALLOWANCE_OMITTED = replace(
    COLLECTION_FEES,
    version="2017-04-06",
    description="Bereavement allowance omitted from the reg 44(1) flat-rate benefits (closed to new claims from "
    "6 April 2017).",
    effective_from=dt.date(2017, 4, 6),
    flat_rate_benefits_paying_parent=REG_44_1,
)
REFORM_VERSION = "reform-2025"


def reform(start: dt.date | None) -> RuleSet:
    """The announced reform (Government response, 23 June 2025): Direct Pay removed; fees 2% on a compliant
    paying parent, 20% on a non-compliant one, 2% off the receiving parent. No start date is law yet."""
    return replace(
        BEREAVEMENT_ALLOWANCE_OMITTED,
        version=REFORM_VERSION,
        effective_from=start,
        description="Announced reform: Direct Pay removed; collection fees 2% (compliant paying parent) or 20% "
        "(non-compliant), 2% off the receiving parent.",
        fees=FeeScheme(200, 2000, 200, direct_pay_available=False),
    )


class RuleBook:
    """The rule sets the service knows, effective-dated; the reform's start date comes from settings."""

    def __init__(self, reform_start: dt.date | None = None):
        self.rule_sets = _chain(
            [
                SCHEME_START,
                HISTORIC_NIL_RULE,
                COLLECTION_FEES,
                BEREAVEMENT_ALLOWANCE_OMITTED,
                reform(reform_start),
            ]
        )
        self._by_version = {r.version: r for r in self.rule_sets}

    def in_force(self, on: dt.date) -> RuleSet | None:
        for r in reversed(self.rule_sets):
            if r.in_force(on):
                return r
        return None

    def get(self, version: str) -> RuleSet | None:
        return self._by_version.get(version)


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str
    unit: str
    citation: str
    unconfirmed: bool
    description: str


def _ints(values: Iterable[int]) -> str:
    return ",".join(str(v) for v in values)


def parameters(r: RuleSet) -> list[Parameter]:
    """Every figure and choice of a rule set by the dotted name steps cite; [?] points flagged unconfirmed."""
    P = Parameter
    return [
        P(
            "scheme.start_date",
            r.scheme_start.isoformat(),
            "date",
            "2012 Regs; SI 2012/3042",
            False,
            "No calculation has an effective date before the scheme started.",
        ),
        P(
            "income.historic_days_per_year",
            str(r.historic_days_per_year),
            "days",
            "2012 Regs reg 35(1)",
            False,
            "Historic income is the HMRC figure divided by this, times 7; also used to make annual unearned income "
            "weekly (docs/domain/calculation.md §6, open point 10).",
        ),
        P(
            "income.current_income_difference_percent",
            str(r.current_income_difference_percent),
            "percent",
            "2012 Regs reg 34(1)(a)",
            False,
            "Current income replaces historic when it differs by at least this.",
        ),
        P(
            "income.nil_historic_counts_as_difference",
            str(r.nil_historic_counts_as_difference).lower(),
            "boolean",
            "2012 Regs reg 34(2A) (SI 2013/1517)",
            False,
            "Nil historic income with positive current income counts as a 25% difference.",
        ),
        P(
            "income.weekly_cap",
            str(r.weekly_income_cap_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 10(3)",
            False,
            "Income above this a week is ignored.",
        ),
        P(
            "rate.nil_income_below",
            str(r.nil_income_below_pence),
            "pence",
            "2012 Regs reg 45(2)",
            False,
            "Gross weekly income below this is the nil rate.",
        ),
        P(
            "rate.flat_rate",
            str(r.flat_rate_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 4",
            False,
            "The flat rate, and the F of the reduced rate.",
        ),
        P(
            "rate.flat_income_max",
            str(r.flat_income_max_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 4(1)(a)",
            False,
            "Gross weekly income up to this is the flat rate.",
        ),
        P(
            "rate.flat_rate_benefits",
            "see flat_rate_benefits_* fields",
            "benefits",
            "2012 Regs reg 44(1), (2)",
            True,
            "Benefits that put the paying parent on the flat rate; the tail of reg 44(1) is unconfirmed.",
        ),
        P(
            "rate.basic_income_from",
            str(r.basic_income_from_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 3(1)",
            False,
            "The basic rate starts here, tested on income before the relevant-other-child reduction.",
        ),
        P(
            "rate.basic_plus_threshold",
            str(r.basic_plus_threshold_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 2(2)",
            False,
            "Reduced income above this is charged at the basic plus %.",
        ),
        P(
            "rate.basic_percent",
            _ints(r.basic_percent),
            "percent by 1,2,3+ children",
            "Child Support Act 1991 Sch 1 para 2(1)",
            False,
            "The basic rate.",
        ),
        P(
            "rate.basic_plus_percent",
            _ints(r.basic_plus_percent),
            "percent by 1,2,3+ children",
            "Child Support Act 1991 Sch 1 para 2(2)",
            False,
            "The basic plus rate.",
        ),
        P(
            "rate.roc_reduction_percent",
            _ints(r.roc_reduction_percent),
            "percent by 1,2,3+ relevant other children",
            "Child Support Act 1991 Sch 1 para 2(3)",
            False,
            "Income reduction for relevant other children.",
        ),
        P(
            "rate.reduced_rate_table",
            ";".join(_ints(row) for row in r.reduced_rate_bp),
            "basis points; rows 1,2,3+ children; columns 0,1,2,3+ relevant other children",
            "2012 Regs reg 43",
            False,
            "T of the reduced rate.",
        ),
        P(
            "flat_rate.couple_both_paying_parents_half",
            str(r.couple_both_paying_parents_half_flat_rate).lower(),
            "boolean",
            "Child Support Act 1991 Sch 1 para 4(2)",
            True,
            "A couple who are both paying parents and on the flat rate for a reg 44(2) benefit pay half each.",
        ),
        P(
            "other_arrangements.apportion_by_child_count",
            str(r.other_arrangements_apportion_by_child_count).lower(),
            "boolean",
            "Child Support Act 1991 Sch 1 para 5A",
            True,
            "Children supported under other arrangements count for the percentage; only the qualifying children's "
            "share (by number of children) is payable.",
        ),
        P(
            "shared_care.band_nights",
            _ints(r.shared_care_band_nights),
            "nights a year",
            "Child Support Act 1991 Sch 1 para 7(4)",
            False,
            "Lower bounds of the 1/7, 2/7, 3/7 and 1/2 bands.",
        ),
        P(
            "shared_care.extra_deduction",
            str(r.shared_care_extra_deduction_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 7(6)",
            False,
            "Further deduction per child at 175+ nights.",
        ),
        P(
            "shared_care.minimum_amount",
            str(r.minimum_amount_after_shared_care_pence),
            "pence",
            "Child Support Act 1991 Sch 1 para 7(7)",
            True,
            "Shared care never takes the total below this.",
        ),
        P(
            "shared_care.benefit_flat_rate_nil_nights",
            str(r.benefit_flat_rate_nil_nights),
            "nights a year",
            "Child Support Act 1991 Sch 1 para 8",
            False,
            "On the flat rate for a benefit, shared care of this many nights makes that receiving parent's part nil.",
        ),
        P(
            "shared_care.applies_to_default_decision",
            str(r.shared_care_applies_to_default_decision).lower(),
            "boolean",
            "2012 Regs reg 49",
            True,
            "Whether shared care reduces a default maintenance decision.",
        ),
        P(
            "rounding.whole_pound_point",
            r.whole_pound_rounding.value,
            "choice",
            "2012 Regs reg 6",
            True,
            "Where reduced/basic/basic plus amounts are rounded to a whole pound, half up: BEFORE_SHARED_CARE "
            "(the documented default), AFTER_SHARED_CARE (reproduces CMS leaflet examples) or NONE. Pence are always "
            "rounded half up.",
        ),
        P(
            "rounding.apportionment",
            "LARGEST_REMAINDER",
            "choice",
            "Child Support Act 1991 Sch 1 para 6",
            True,
            "Shares are rounded to the penny and balanced so they add up exactly to the total.",
        ),
        P(
            "variation.special_expense_threshold",
            str(r.special_expense_threshold_pence),
            "pence a week per ground",
            "2012 Regs reg 68",
            True,
            "Special expenses below this a week (per ground) are not deducted.",
        ),
        P(
            "variation.special_expense_threshold_exempt",
            ",".join(k.name for k in sorted(r.special_expense_threshold_exempt)),
            "grounds",
            "2012 Regs reg 64",
            True,
            "Grounds with no threshold.",
        ),
        P(
            "variation.special_expense_deduct_excess_only",
            str(r.special_expense_deduct_excess_only).lower(),
            "boolean",
            "2012 Regs reg 68",
            True,
            "Deduct only the part above the threshold.",
        ),
        P(
            "variation.unearned_income_minimum_annual",
            str(r.unearned_income_minimum_annual_pence),
            "pence a year",
            "2012 Regs reg 69",
            False,
            "Unearned income below this is not added.",
        ),
        P(
            "variation.income_not_taken_into_account_minimum_weekly",
            str(r.income_not_taken_into_account_minimum_weekly_pence),
            "pence a week",
            "2012 Regs reg 70",
            False,
            "Income of a paying parent on the flat rate for their own benefit, or the nil rate, is added from this.",
        ),
        P(
            "default_decision.weekly_amounts",
            _ints(r.default_decision_weekly_pence),
            "pence by 1,2,3+ children",
            "2012 Regs reg 49",
            True,
            "Default maintenance decision (GOV.UK shows £38 for one child).",
        ),
        P(
            "fees.paying_parent",
            str(r.fees.paying_parent_bp),
            "basis points",
            "Child Support Fees Regs 2014 reg 7",
            False,
            "Collection fee added for a (compliant) paying parent.",
        ),
        P(
            "fees.non_compliant_paying_parent",
            str(r.fees.non_compliant_paying_parent_bp),
            "basis points",
            "Child Support Fees Regs 2014 reg 7; Government response 23 June 2025",
            False,
            "Collection fee added for a non-compliant paying parent.",
        ),
        P(
            "fees.receiving_parent",
            str(r.fees.receiving_parent_bp),
            "basis points",
            "Child Support Fees Regs 2014 reg 8",
            False,
            "Collection fee deducted from a receiving parent.",
        ),
        P(
            "fees.direct_pay_available",
            str(r.fees.direct_pay_available).lower(),
            "boolean",
            "Government response 23 June 2025",
            False,
            "Without Direct Pay every case is charged as Collect and Pay.",
        ),
        P(
            "schedule.monthly_weeks_per_year",
            str(r.monthly_weeks_per_year),
            "weeks",
            "docs/domain/money.md §8, open point 1",
            True,
            "Monthly amount = weekly × this ÷ 12, to the penny.",
        ),
    ]
