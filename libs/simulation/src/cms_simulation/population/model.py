"""One synthetic person as every gateway simulator sees them: plain data, dates and integer pence, no protos.

Each gateway projects its own view (HMRC: employments, PAYE/RTI, Self Assessment, Child Benefit; DWP: benefits;
CRA: credit files), so cross-source facts agree because they come from the same person. Everything is a timeline
(start and end dates), never "as of today": a simulator asks at its own (injectable) clock's date.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Address:
    lines: tuple[str, ...]
    post_town: str
    postcode: str
    country: str = "GB"


class PayFrequency(enum.StrEnum):
    """HMRC's RTI pay frequencies (back-end codes)."""

    WEEKLY = "W1"
    FORTNIGHTLY = "W2"
    FOUR_WEEKLY = "W4"
    MONTHLY = "M1"
    QUARTERLY = "M3"
    BI_ANNUALLY = "M6"
    ANNUALLY = "MA"
    ONE_OFF = "IO"
    IRREGULAR = "IR"


@dataclass(frozen=True, slots=True)
class Employer:
    name: str
    address: Address
    telephone_number: str
    paye_reference: str  # "247/A1987CB": 3-digit office number / up to 10 characters
    armed_forces: bool = False  # Ministry of Defence pay: a DER, not a DEO


@dataclass(frozen=True, slots=True)
class Employment:
    employment_id: (
        str  # stable: derived from the person and the employment's position, never random
    )
    employer: Employer
    payroll_id: str
    start_date: dt.date
    end_date: dt.date | None  # None while live
    pay_frequency: PayFrequency
    # Current annual figures from which RTI payments are generated (taxable pay is after net-pay pension).
    annual_taxable_pay_pence: int
    annual_employee_pension_contributions_pence: int = 0
    annual_benefits_in_kind_pence: int = 0
    occupational_pension: bool = False
    # Payments stopped but the employer never reported a leaving date (HMRC "potentially ceased"); end_date is
    # then the last day worked, known to the simulation but not reported by HMRC.
    leaving_date_unreported: bool = False
    # Pay rises and cuts, oldest first: (date, annual taxable pay from that date). annual_taxable_pay_pence is the
    # pay from the start until the first change.
    pay_changes: tuple[tuple[dt.date, int], ...] = ()

    def annual_pay_on(self, day: dt.date) -> int:
        pay = self.annual_taxable_pay_pence
        for since, annual in self.pay_changes:
            if since <= day:
                pay = annual
        return pay


@dataclass(frozen=True, slots=True)
class PayeIncome:
    """PAYE income from one employment in one tax year (end-of-year figures)."""

    employment_id: str
    paye_reference: str
    payroll_id: str
    taxable_pay_pence: int
    taxable_benefits_pence: int = 0
    employee_pension_contributions_pence: int = 0
    tax_deducted_pence: int = 0


@dataclass(frozen=True, slots=True)
class SelfAssessment:
    """Earned income declared on a Self Assessment return for a tax year."""

    return_received_date: dt.date
    employment_income_pence: int = 0
    self_employment_profit_pence: int = 0
    partnership_profit_pence: int = 0
    trade_loss_relief_pence: int = 0
    pension_income_pence: int = 0
    taxable_benefits_pence: int = 0


@dataclass(frozen=True, slots=True)
class UnearnedIncome:
    """Unearned income on a Self Assessment return (ITTOIA Parts 3, 4, 5)."""

    uk_property_profit_pence: int = 0
    savings_interest_pence: int = 0
    uk_dividends_pence: int = 0
    foreign_dividends_pence: int = 0
    other_income_pence: int = 0

    @property
    def total_pence(self) -> int:
        return (
            self.uk_property_profit_pence
            + self.savings_interest_pence
            + self.uk_dividends_pence
            + self.foreign_dividends_pence
            + self.other_income_pence
        )


@dataclass(frozen=True, slots=True)
class TaxYearIncome:
    """What HMRC holds for one tax year. A year that is absent has no data (stale years are scripted by omission)."""

    tax_year: str  # "2024-25"
    paye: tuple[PayeIncome, ...] = ()
    self_assessment: SelfAssessment | None = None
    unearned: UnearnedIncome | None = None  # only with a Self Assessment return


@dataclass(frozen=True, slots=True)
class RtiPayment:
    payment_date: dt.date
    tax_year: str
    week_number: int  # 1-56 for weekly/fortnightly/four-weekly pay, else 0
    month_number: int  # 1-12 for monthly pay, else 0
    taxable_pay_pence: int
    taxable_pay_to_date_pence: int
    employee_pension_contributions_pence: int = 0
    benefits_taxed_via_payroll_pence: int = 0
    tax_deducted_pence: int = 0
    hours_worked_band: str = ""
    # When the Full Payment Submission reached HMRC (due on or before the payment date); later for a late FPS.
    # A caller asking "as of" a date sees only payments submitted by then. None: on the payment date.
    submission_date: dt.date | None = None


class ChildBenefitEndReason(enum.StrEnum):
    REACHED_16_NOT_IN_EDUCATION = "REACHED_16_NOT_IN_EDUCATION"
    LEFT_APPROVED_EDUCATION = "LEFT_APPROVED_EDUCATION"
    REACHED_20 = "REACHED_20"
    STARTED_WORK_OR_APPRENTICESHIP = "STARTED_WORK_OR_APPRENTICESHIP"
    STARTED_HIGHER_EDUCATION = "STARTED_HIGHER_EDUCATION"
    OWN_BENEFIT_CLAIM = "OWN_BENEFIT_CLAIM"
    NOT_RECONFIRMED = "NOT_RECONFIRMED"
    CLAIM_ENDED = "CLAIM_ENDED"
    CHILD_DIED = "CHILD_DIED"


@dataclass(frozen=True, slots=True)
class Child:
    """A child on a Child Benefit award. Children are not indexed people: they are found through their claimant."""

    forenames: str
    surname: str
    date_of_birth: dt.date
    child_reference_number: str  # CRN, NINO format
    relationship_start_date: dt.date
    # None: no end date recorded yet; the terminal-date rules (31 August after the 16th birthday unless approved
    # education is reported; the 20th birthday at the latest) apply as time passes (see child_benefit.py).
    end_date: dt.date | None = None
    end_reason: ChildBenefitEndReason | None = None
    approved_education_or_training_reported: bool = False
    # When HMRC was told of a future end_date (e.g. a leaving reported through a life event). None: HMRC learns of
    # it only when it happens, unless it follows from the terminal-date rules.
    end_date_reported_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ChildBenefitAward:
    reference: str  # "CHB" + 8 digits + 2 letters
    award_start_date: dt.date
    award_end_date: dt.date | None
    elected_not_to_be_paid: bool  # High Income Child Benefit Charge opt-out: entitled, not paid
    children: tuple[Child, ...]


class BenefitType(enum.StrEnum):
    """DWP benefits as CIS records their awards (names as cms.dwp.v1.BenefitType without the prefix)."""

    INCOME_SUPPORT = "INCOME_SUPPORT"
    JOBSEEKERS_ALLOWANCE_INCOME_BASED = "JOBSEEKERS_ALLOWANCE_INCOME_BASED"
    JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED = "JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED"
    EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED = (
        "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED"
    )
    EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY = "EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY"
    PENSION_CREDIT = "PENSION_CREDIT"
    UNIVERSAL_CREDIT = "UNIVERSAL_CREDIT"
    STATE_PENSION = "STATE_PENSION"
    INCAPACITY_BENEFIT = "INCAPACITY_BENEFIT"
    CARERS_ALLOWANCE = "CARERS_ALLOWANCE"
    MATERNITY_ALLOWANCE = "MATERNITY_ALLOWANCE"
    SEVERE_DISABLEMENT_ALLOWANCE = "SEVERE_DISABLEMENT_ALLOWANCE"
    INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT = "INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT"
    WIDOWED_PARENTS_ALLOWANCE = "WIDOWED_PARENTS_ALLOWANCE"
    WIDOWS_PENSION = "WIDOWS_PENSION"
    BEREAVEMENT_ALLOWANCE = "BEREAVEMENT_ALLOWANCE"
    BEREAVEMENT_SUPPORT_PAYMENT = "BEREAVEMENT_SUPPORT_PAYMENT"
    TRAINING_ALLOWANCE = "TRAINING_ALLOWANCE"
    WAR_DISABLEMENT_PENSION = "WAR_DISABLEMENT_PENSION"
    WAR_WIDOWS_PENSION = "WAR_WIDOWS_PENSION"
    ARMED_FORCES_COMPENSATION_SCHEME = "ARMED_FORCES_COMPENSATION_SCHEME"
    DISABILITY_LIVING_ALLOWANCE = "DISABILITY_LIVING_ALLOWANCE"
    PERSONAL_INDEPENDENCE_PAYMENT = "PERSONAL_INDEPENDENCE_PAYMENT"


class AwardEndReason(enum.StrEnum):
    ENTITLEMENT_ENDED = "ENTITLEMENT_ENDED"
    CLAIMANT_DECEASED = "CLAIMANT_DECEASED"
    MIGRATED_TO_UNIVERSAL_CREDIT = "MIGRATED_TO_UNIVERSAL_CREDIT"
    CLAIM_WITHDRAWN = "CLAIM_WITHDRAWN"
    REPLACED_BY_OTHER_BENEFIT = "REPLACED_BY_OTHER_BENEFIT"
    OTHER = "OTHER"


@dataclass(frozen=True, slots=True)
class AwardComponent:
    type: str  # e.g. "PERSONAL_ALLOWANCE", "STANDARD_ALLOWANCE", "SUPPORT_COMPONENT"
    sub_type: str
    amount_pence: int  # per award payment
    payable: bool = True


@dataclass(frozen=True, slots=True)
class PaymentSuspension:
    start_date: dt.date
    end_date: dt.date | None  # None: still suspended
    reason: str  # e.g. "FAILED_TO_ATTEND", "DOUBT_ON_ENTITLEMENT", "CUSTOMER_ABROAD"


@dataclass(frozen=True, slots=True)
class BenefitAward:
    """One DWP benefit award as CIS holds it. A couple claim is listed under both people: `claimant_nino` leads,
    `partner_nino` is included (and may carry a deduction: SS C&P Regs 1987 Sch 9B; docs/domain/external-systems.md
    §2.3)."""

    award_id: str  # stable: derived from the household and the award's position
    benefit_type: BenefitType
    claimant_nino: str
    start_date: dt.date
    decision_date: dt.date
    amount_pence: int  # per payment
    payment_frequency: str  # "WEEKLY" | "FORTNIGHTLY" | "FOUR_WEEKLY" | "MONTHLY" (UC)
    partner_nino: str = ""
    end_date: dt.date | None = None
    end_reason: AwardEndReason | None = None
    components: tuple[AwardComponent, ...] = ()
    suspensions: tuple[PaymentSuspension, ...] = ()
    # Universal Credit only (docs/domain/money.md §9): earnings in the current assessment period (Real Time
    # Earnings), the day of the month assessment periods start, the standard allowance and deductions already taken.
    uc_earned_income: bool = False
    uc_assessment_day: int = 1
    uc_standard_allowance_monthly_pence: int = 0
    uc_third_party_deduction_count: int = 0
    uc_other_deductions_monthly_pence: int = 0
    # When CIS last heard from the benefit system: an old date on a live award is a stale CIS record.
    cis_updated_on: dt.date | None = None


class DataQuirk(enum.StrEnum):
    """Known dirt in HMRC data a person can carry (docs/domain/external-systems.md §4)."""

    PENSION_AS_EMPLOYMENT = "PENSION_AS_EMPLOYMENT"
    TWO_PAYS_ONE_MONTH = "TWO_PAYS_ONE_MONTH"
    CEASED_WITHOUT_END_DATE = "CEASED_WITHOUT_END_DATE"
    LATE_RTI_SUBMISSION = "LATE_RTI_SUBMISSION"
    CHILD_BENEFIT_END_BEFORE_START = "CHILD_BENEFIT_END_BEFORE_START"


@dataclass(frozen=True, slots=True)
class Person:
    nino: str
    title: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    address: Address
    # Household: the partner living with them now (may be another indexed person), and the other parent of the
    # children of a separated family (the paying parent for a receiving parent, and the reverse).
    partner_nino: str = ""
    other_parent_nino: str = ""
    self_assessment_utr: str = ""  # 10 digits; empty when not registered
    self_employed: bool = False
    employments: tuple[Employment, ...] = ()
    tax_years: tuple[TaxYearIncome, ...] = ()  # oldest first
    child_benefit: ChildBenefitAward | None = None
    date_of_death: dt.date | None = None
    restricted: bool = False  # HMRC manual-correspondence indicator (its 423)
    quirks: frozenset[DataQuirk] = field(default_factory=frozenset)
    generated: bool = True  # False for fixtures and scenario overrides
    # DWP / CIS: sex as recorded, earlier names (maiden names cause partial matches), benefit awards listed under
    # this person (as claimant or as the partner on a couple claim), oldest first.
    sex: str = ""  # "M" | "F"
    previous_surnames: tuple[str, ...] = ()
    benefit_awards: tuple[BenefitAward, ...] = ()


@dataclass(frozen=True, slots=True)
class Claimant:
    """What a Child Benefit enquiry needs of a person: who they are (for matching), whether they died or are
    restricted, and their award. Generated without the person's income, several times cheaper than a Person, so
    the monthly check over every 16+ child can afford one per child (Population.child_benefit_claimant)."""

    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    child_benefit: ChildBenefitAward | None = None
    date_of_death: dt.date | None = None
    restricted: bool = False

    @classmethod
    def of(cls, p: Person) -> Claimant:
        return cls(
            p.nino,
            p.forenames,
            p.surname,
            p.date_of_birth,
            p.child_benefit,
            p.date_of_death,
            p.restricted,
        )
