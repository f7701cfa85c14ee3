"""Inputs and outputs of one calculation, as plain data (mirrors cms.calculation.v1 without depending on it).

Field paths in errors use the contract's names (``input.qualifying_children[0].shared_care_nights``) because the
facts mirror CalculationInput one to one.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from fractions import Fraction


class Rate(enum.StrEnum):
    NIL = "NIL"
    FLAT = "FLAT"
    REDUCED = "REDUCED"
    BASIC = "BASIC"
    BASIC_PLUS = "BASIC_PLUS"
    DEFAULT = "DEFAULT"
    NO_LIABILITY = "NO_LIABILITY"


class ServiceType(enum.StrEnum):
    DIRECT_PAY = "DIRECT_PAY"
    COLLECT_AND_PAY = "COLLECT_AND_PAY"


class Frequency(enum.StrEnum):
    WEEKLY = "WEEKLY"
    FORTNIGHTLY = "FORTNIGHTLY"
    FOUR_WEEKLY = "FOUR_WEEKLY"
    MONTHLY = "MONTHLY"


class IncomeBasis(enum.StrEnum):
    HISTORIC = "HISTORIC"
    CURRENT_DIFFERS_FROM_HISTORIC = "CURRENT_DIFFERS_FROM_HISTORIC"
    CURRENT_HISTORIC_UNAVAILABLE = "CURRENT_HISTORIC_UNAVAILABLE"
    NOT_USED = "NOT_USED"
    # Current income already in place replaced after a change of 25% or more (reg 23(4)).
    CURRENT_IN_PLACE = "CURRENT_IN_PLACE"


class SharedCareBand(enum.StrEnum):
    NONE = "NONE"
    ONE_SEVENTH = "ONE_SEVENTH"
    TWO_SEVENTHS = "TWO_SEVENTHS"
    THREE_SEVENTHS = "THREE_SEVENTHS"
    ONE_HALF = "ONE_HALF"
    EQUAL_CARE = "EQUAL_CARE"


# The fraction each band subtracts, exactly (docs/domain/calculation.md §3: use exact sevenths, not 0.143).
BAND_FRACTION = {
    SharedCareBand.NONE: Fraction(0),
    SharedCareBand.ONE_SEVENTH: Fraction(1, 7),
    SharedCareBand.TWO_SEVENTHS: Fraction(2, 7),
    SharedCareBand.THREE_SEVENTHS: Fraction(3, 7),
    SharedCareBand.ONE_HALF: Fraction(1, 2),
    SharedCareBand.EQUAL_CARE: Fraction(0),
}


class Benefit(enum.IntEnum):
    """Values equal the contract's cms.calculation.v1.Benefit numbers."""

    STATE_PENSION = 1
    INCAPACITY_BENEFIT = 2
    CARERS_ALLOWANCE = 3
    MATERNITY_ALLOWANCE = 4
    SEVERE_DISABLEMENT_ALLOWANCE = 5
    INDUSTRIAL_INJURIES_BENEFIT = 6
    WIDOWED_PARENTS_ALLOWANCE = 7
    WIDOWS_PENSION = 8
    BEREAVEMENT_ALLOWANCE = 9
    JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED = 10
    EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY = 11
    NON_UK_SOCIAL_SECURITY_BENEFIT = 12
    TRAINING_ALLOWANCE = 13
    WAR_DISABLEMENT_PENSION = 14
    WAR_WIDOWS_PENSION = 15
    ARMED_FORCES_COMPENSATION_SCHEME = 16
    INCOME_SUPPORT = 17
    JOBSEEKERS_ALLOWANCE_INCOME_BASED = 18
    EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED = 19
    STATE_PENSION_CREDIT = 20
    UNIVERSAL_CREDIT_NO_EARNED_INCOME = 21


class BenefitRecipient(enum.IntEnum):
    PAYING_PARENT = 1
    PARTNER = 2


class NilRateCondition(enum.IntEnum):
    PAYING_PARENT_IS_CHILD = 1
    PRISONER = 2
    DETAINED_IN_HOSPITAL = 3
    AGED_16_OR_17_ON_BENEFIT = 4
    YOUNG_PEOPLE_TRAINING_ALLOWANCE = 5
    CARE_HOME_ON_FLAT_RATE_BENEFIT = 6
    CARE_HOME_FEES_MET_BY_LOCAL_AUTHORITY = 7


# reg 70: the nil-rate conditions whose income can be brought back in by an "income not taken into account"
# variation (a child, a prisoner, a young-people trainee, a care-home resident).
REG_70_NIL_CONDITIONS = frozenset(
    {
        NilRateCondition.PAYING_PARENT_IS_CHILD,
        NilRateCondition.PRISONER,
        NilRateCondition.DETAINED_IN_HOSPITAL,
        NilRateCondition.YOUNG_PEOPLE_TRAINING_ALLOWANCE,
        NilRateCondition.CARE_HOME_ON_FLAT_RATE_BENEFIT,
        NilRateCondition.CARE_HOME_FEES_MET_BY_LOCAL_AUTHORITY,
    }
)


class SpecialExpenseKind(enum.IntEnum):
    CONTACT_COSTS = 1
    RELEVANT_OTHER_CHILD_ILLNESS_OR_DISABILITY = 2
    PRIOR_DEBTS = 3
    BOARDING_SCHOOL_FEES = 4
    PAYMENTS_FOR_FORMER_FAMILY_HOME = 5


class AdditionalIncomeKind(enum.IntEnum):
    UNEARNED_INCOME = 1
    INCOME_NOT_TAKEN_INTO_ACCOUNT = 2
    DIVERTED_INCOME = 3


class ComplianceStatus(enum.StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"


@dataclass(frozen=True, slots=True)
class CurrentIncome:
    gross_weekly_income_pence: int
    pension_contributions_weekly_pence: int = 0
    estimated: bool = False
    # Current income already in place and changed by 25% or more: used without the reg 34 comparison with
    # historic income (reg 23(4)).
    in_place: bool = False


@dataclass(frozen=True, slots=True)
class PayingParentIncome:
    hmrc_gross_annual_income_pence: int = 0
    hmrc_tax_year: str = ""
    hmrc_income_unavailable: bool = False
    pension_contributions_annual_pence: int = 0
    current_income: CurrentIncome | None = None


@dataclass(frozen=True, slots=True)
class BenefitReceipt:
    benefit: Benefit
    recipient: BenefitRecipient


@dataclass(frozen=True, slots=True)
class QualifyingChild:
    child_reference: str
    receiving_parent_reference: str
    shared_care_nights: int = 0
    shared_care_period_nights: int = 0  # 0: the 12 months before the effective date
    equal_day_to_day_care: bool = False
    forename: str = ""


@dataclass(frozen=True, slots=True)
class SpecialExpense:
    kind: SpecialExpenseKind
    weekly_amount_pence: int
    variation_reference: str = ""


@dataclass(frozen=True, slots=True)
class AdditionalIncome:
    kind: AdditionalIncomeKind
    weekly_amount_pence: int | None = None
    annual_amount_pence: int | None = None
    variation_reference: str = ""


@dataclass(frozen=True, slots=True)
class CalculationFacts:
    effective_date: dt.date
    qualifying_children: tuple[QualifyingChild, ...]
    paying_parent_income: PayingParentIncome | None = None
    benefits: tuple[BenefitReceipt, ...] = ()
    nil_rate_conditions: tuple[NilRateCondition, ...] = ()
    relevant_other_child_count: int = 0
    other_arrangement_child_count: int = 0
    special_expenses: tuple[SpecialExpense, ...] = ()
    additional_incomes: tuple[AdditionalIncome, ...] = ()
    service_type: ServiceType = ServiceType.DIRECT_PAY
    compliance_status: ComplianceStatus = ComplianceStatus.COMPLIANT
    default_maintenance_decision: bool = False
    partner_is_paying_parent: bool = False


class StepKind(enum.StrEnum):
    SCOPE = "SCOPE"
    INCOME = "INCOME"
    VARIATION = "VARIATION"
    INCOME_CAP = "INCOME_CAP"
    CHILD_COUNT = "CHILD_COUNT"
    RATE = "RATE"
    APPORTIONMENT = "APPORTIONMENT"
    SHARED_CARE = "SHARED_CARE"
    FLOOR = "FLOOR"
    ROUNDING = "ROUNDING"
    COLLECTION_FEE = "COLLECTION_FEE"
    PAYMENT_FREQUENCY = "PAYMENT_FREQUENCY"


@dataclass(frozen=True, slots=True)
class Step:
    kind: StepKind
    citation: str
    explanation: str
    amount_pence: int | None = None
    receiving_parent_reference: str = ""
    rule_set_parameters: tuple[str, ...] = ()
    child_reference: str = ""


@dataclass(frozen=True, slots=True)
class IncomeDetermination:
    basis: IncomeBasis
    historic_weekly_income_pence: int = 0
    current_weekly_income_pence: int = 0
    income_difference_weekly_pence: int = 0
    current_income_test_met: bool = False
    special_expenses_weekly_pence: int = 0
    additional_income_weekly_pence: int = 0
    uncapped_weekly_income_pence: int = 0
    capped: bool = False
    gross_weekly_income_pence: int = 0
    roc_reduced_weekly_income_pence: int = 0


@dataclass(frozen=True, slots=True)
class ReceivingParentAmount:
    receiving_parent_reference: str
    qualifying_child_count: int
    apportioned_weekly_amount_pence: int
    shared_care_fraction: Fraction
    shared_care_extra_deduction_pence: int
    weekly_amount_pence: int
    paying_parent_fee_weekly_pence: int
    receiving_parent_fee_weekly_pence: int


@dataclass(frozen=True, slots=True)
class ChildAmount:
    child_reference: str
    receiving_parent_reference: str
    shared_care_nights: int
    shared_care_band: SharedCareBand
    weekly_amount_pence: int


@dataclass(frozen=True, slots=True)
class Fees:
    charged: bool
    paying_parent_fee_basis_points: int
    receiving_parent_fee_basis_points: int


@dataclass(frozen=True, slots=True)
class CalculationResult:
    rate: Rate
    income: IncomeDetermination
    weekly_amount_pence: int
    receiving_parent_amounts: tuple[ReceivingParentAmount, ...]
    child_amounts: tuple[ChildAmount, ...]
    fees: Fees
    rule_set_version: str
    steps: tuple[Step, ...] = ()

    @property
    def paying_parent_fee_weekly_pence(self) -> int:
        return sum(a.paying_parent_fee_weekly_pence for a in self.receiving_parent_amounts)

    @property
    def receiving_parent_fee_weekly_pence(self) -> int:
        return sum(a.receiving_parent_fee_weekly_pence for a in self.receiving_parent_amounts)
