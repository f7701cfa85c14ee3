"""The HMRC port: HMRC as the CMS needs it, in the gateway's own terms. The simulator (simulator/) implements it
over the shared synthetic population; a real HMRC client (the Individuals Matching, Employments and Income APIs,
the Child Benefit service, RTI) would implement the same two protocols and nothing above them would change.

- `HmrcPort` is the enquiries: each matches the person first by HMRC's rule and only a full match carries data.
  A restricted record or a deceased person raises FailedPrecondition (HMRC's 423 and 410) once matched, and HMRC's
  platform may refuse an enquiry (throttled, in maintenance, down) before it is answered.
- `HmrcFeeds` is what HMRC reports about a person the CMS has registered an interest in (docs/domain/external-systems.md
  §1.3–§1.7): keyed by NINO (the interest was matched when it was registered), and not enquiries of the calling
  application, so never throttled.

The types are plain frozen values: dates, integer pence and the enums below (whose members are named as in the
cms.hmrc.v1 contract, so convert.py maps them by name).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")

# -- who is asked about ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonToMatch:
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date


@dataclass(frozen=True)
class ChildToFind:
    """A child as the CMS knows them: by Child Reference Number when it holds one, else by name and date of birth
    (None only for a watched child whose date the CMS holds in part: then the CRN alone can find them)."""

    forenames: str
    surname: str
    date_of_birth: dt.date | None
    child_reference_number: str = ""


class MatchOutcome(enum.StrEnum):
    MATCHED = "MATCHED"
    PARTIAL = "PARTIAL"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class MatchResult:
    outcome: MatchOutcome
    failed_rules: tuple[str, ...] = ()  # HMRC's names, e.g. "FORENAME_INITIAL"

    @property
    def matched(self) -> bool:
        return self.outcome is MatchOutcome.MATCHED


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A match result and, only for a full match, the data (None for a full match with nothing held)."""

    match: MatchResult
    data: T | None = None


# -- addresses and employments -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    post_town: str
    postcode: str
    country: str


class PayFrequency(enum.StrEnum):
    """HMRC's RTI pay frequency codes (the values are stored in interests' feed state: keep them)."""

    WEEKLY = "W1"
    FORTNIGHTLY = "W2"
    FOUR_WEEKLY = "W4"
    MONTHLY = "M1"
    QUARTERLY = "M3"
    BI_ANNUALLY = "M6"
    ANNUALLY = "MA"
    ONE_OFF = "IO"
    IRREGULAR = "IR"


@dataclass(frozen=True)
class Employer:
    name: str
    address: Address
    telephone_number: str
    paye_reference: str
    armed_forces: bool = False  # Ministry of Defence pay: a DER, not a DEO


@dataclass(frozen=True)
class Employment:
    """An employment as HMRC reports it: `end_date` only once the employer has reported the leaving."""

    employment_id: str
    employer: Employer
    payroll_id: str
    start_date: dt.date
    end_date: dt.date | None
    pay_frequency: PayFrequency
    occupational_pension: bool = False


@dataclass(frozen=True)
class EmploymentView:
    """An employment on a date: live as far as HMRC knows (an unreported leaving date never reaches HMRC), its
    latest RTI payment, and whether HMRC flags it potentially ceased (no payment for long, no leaving date)."""

    employment: Employment
    live: bool
    last_payment_date: dt.date | None = None
    potentially_ceased: bool = False


class EmploymentStatus(enum.StrEnum):
    EMPLOYED = "EMPLOYED"
    SELF_EMPLOYED = "SELF_EMPLOYED"
    EMPLOYED_AND_SELF_EMPLOYED = "EMPLOYED_AND_SELF_EMPLOYED"
    NOT_EMPLOYED = "NOT_EMPLOYED"


@dataclass(frozen=True)
class EmploymentStatusView:
    status: EmploymentStatus
    live_employments: tuple[EmploymentView, ...]
    self_assessment_registered: bool
    latest_self_employment_tax_year: str = ""


@dataclass(frozen=True)
class EmployerRecords:
    employments: tuple[EmploymentView, ...]  # live first, then the most recently paid
    address: Address | None  # the address HMRC holds for the person


# -- income --------------------------------------------------------------------------------------------------------


class IncomeSource(enum.StrEnum):
    PAYE = "PAYE"
    SELF_ASSESSMENT = "SELF_ASSESSMENT"


@dataclass(frozen=True)
class PayeIncome:
    """End-of-year PAYE figures from one employment."""

    employment: EmploymentView
    taxable_pay_pence: int
    taxable_benefits_pence: int = 0
    employee_pension_contributions_pence: int = 0
    tax_deducted_pence: int = 0


@dataclass(frozen=True)
class SelfAssessment:
    """Earned income declared on a Self Assessment return."""

    return_received_date: dt.date
    employment_income_pence: int = 0
    self_employment_profit_pence: int = 0
    partnership_profit_pence: int = 0
    trade_loss_relief_pence: int = 0
    pension_income_pence: int = 0
    taxable_benefits_pence: int = 0


@dataclass(frozen=True)
class EarnedIncome:
    """The HMRC figure (2012 Regs reg 36) for one tax year, with its parts."""

    tax_year: str
    gross_income_pence: int
    source: IncomeSource
    employment_income_pence: int = 0
    pension_income_pence: int = 0
    taxable_benefits_pence: int = 0
    trading_profit_pence: int = 0
    paye: tuple[PayeIncome, ...] = ()
    self_assessment: SelfAssessment | None = None


@dataclass(frozen=True)
class UnearnedIncome:
    """Unearned income on a Self Assessment return (property, savings, dividends, other)."""

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


@dataclass(frozen=True)
class UnearnedIncomeYear:
    tax_year: str  # empty when no Self Assessment return in the years HMRC keeps
    unearned: UnearnedIncome | None  # None: no return filed for the year


@dataclass(frozen=True)
class RtiPayment:
    payment_date: dt.date
    tax_year: str
    week_number: int
    month_number: int
    taxable_pay_pence: int
    taxable_pay_to_date_pence: int
    employee_pension_contributions_pence: int = 0
    benefits_taxed_via_payroll_pence: int = 0
    tax_deducted_pence: int = 0
    hours_worked_band: str = ""


@dataclass(frozen=True)
class RtiEmploymentIncome:
    employment: EmploymentView
    payments: tuple[RtiPayment, ...]


@dataclass(frozen=True)
class RtiIncome:
    employments: tuple[RtiEmploymentIncome, ...] = ()
    average_weekly_taxable_pay_pence: int = 0
    period_start: dt.date | None = None
    period_end: dt.date | None = None


# -- Child Benefit ------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Child:
    """A child on a Child Benefit award, as HMRC holds them."""

    forenames: str
    surname: str
    date_of_birth: dt.date
    child_reference_number: str
    relationship_start_date: dt.date
    approved_education_or_training_reported: bool = False


@dataclass(frozen=True)
class ChildBenefitStatus:
    """One child's Child Benefit on the claimant's award, on the date asked about."""

    asked: ChildToFind
    found: Child | None
    entitled: bool = False
    in_payment: bool = False
    elected_not_to_be_paid: bool = False
    end_date: dt.date | None = None
    end_reason: ChildBenefitEndReason | None = None


# -- the protocols -------------------------------------------------------------------------------------------------


class HmrcPort(Protocol):
    """HMRC's enquiries. Each may raise cms_platform.errors Unavailable (maintenance, outage) or ResourceExhausted
    (throttled) before it is answered, and FailedPrecondition for a matched restricted or deceased person."""

    def match(self, person: PersonToMatch, on: dt.date) -> MatchResult: ...

    def for_people(self, ninos: Collection[str]) -> HmrcPort:
        """This port, ready for enquiries about these people (a message of the monthly Child Benefit check): an
        adapter may read what it holds for them together. Each enquiry is still made, admitted and answered alone."""
        ...

    def child_benefit(
        self, claimant: PersonToMatch, children: Sequence[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]: ...

    def other_children_benefit(
        self, claimant: PersonToMatch, children: Sequence[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        """As child_benefit, but a child on the claimant's partner's claim counts too (relevant other children)."""
        ...

    def employment_status(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[EmploymentStatusView]: ...

    def earned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[EarnedIncome]:
        """The named tax year, or the latest HMRC holds on `on` when none is named."""
        ...

    def employer_records(self, person: PersonToMatch, on: dt.date) -> Answer[EmployerRecords]: ...

    def live_employments(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[tuple[EmploymentView, ...]]:
        """Live and not potentially ceased: the employers a deduction from earnings can go to."""
        ...

    def unearned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[UnearnedIncomeYear]: ...

    def rti_income(
        self, person: PersonToMatch, start: dt.date, end: dt.date
    ) -> Answer[RtiIncome]: ...


class HmrcFeeds(Protocol):
    """What HMRC reports about a person the CMS has an interest in, by NINO, on a date."""

    def reporting(self, nino: str, on: dt.date) -> bool:
        """HMRC holds the person and has no death recorded by `on` (nothing more comes for a deceased person)."""
        ...

    def latest_income(self, nino: str, on: dt.date) -> EarnedIncome | None:
        """The latest tax year's HMRC figure, as the Summary of Earned Income gives it."""
        ...

    def latest_unearned_income(self, nino: str, on: dt.date) -> UnearnedIncomeYear | None: ...

    def current_income(self, nino: str, start: dt.date, end: dt.date) -> RtiIncome | None:
        """RTI payments made in [start, end] and their weekly average."""
        ...

    def employments(self, nino: str, on: dt.date) -> tuple[EmploymentView, ...]:
        """Every employment started by `on`, live or not, as HMRC reports it then."""
        ...

    def children_on_award(
        self, nino: str, children: Sequence[ChildToFind], on: dt.date
    ) -> tuple[ChildBenefitStatus, ...] | None:
        """The children's Child Benefit on the person's award (every child on it when `children` is empty); None
        when the person has no award."""
        ...
