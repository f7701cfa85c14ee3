"""The HMRC port: what the CMS needs from HMRC, in domain terms. The simulator implements it over the shared
synthetic population; a real HMRC client (Individuals Matching/Employments/Income APIs, the Child Benefit
service) would implement the same methods and nothing else would change.

Every method matches the person first by HMRC's rule; only a full match carries data. A restricted record or a
deceased person raises FailedPrecondition (HMRC's 423 and 410) once matched.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from cms_simulation.population.model import (
    Address,
    Child,
    ChildBenefitEndReason,
    Employment,
    PayeIncome,
    RtiPayment,
    SelfAssessment,
    UnearnedIncome,
)

T = TypeVar("T")


@dataclass(frozen=True)
class PersonToMatch:
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date


@dataclass(frozen=True)
class ChildToFind:
    forenames: str
    surname: str
    date_of_birth: dt.date
    child_reference_number: str = ""


class MatchOutcome(enum.StrEnum):
    MATCHED = "MATCHED"
    PARTIAL = "PARTIAL"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class MatchResult:
    outcome: MatchOutcome
    failed_rules: tuple[str, ...] = ()

    @property
    def matched(self) -> bool:
        return self.outcome is MatchOutcome.MATCHED


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


@dataclass(frozen=True)
class EmploymentView:
    """An employment as HMRC reports it on a date: an unreported leaving date stays unknown."""

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


class IncomeSource(enum.StrEnum):
    PAYE = "PAYE"
    SELF_ASSESSMENT = "SELF_ASSESSMENT"


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
    paye: tuple[tuple[EmploymentView, PayeIncome], ...] = ()
    self_assessment: SelfAssessment | None = None


@dataclass(frozen=True)
class EmployerRecords:
    employments: tuple[EmploymentView, ...]
    address: Address | None


@dataclass(frozen=True)
class UnearnedIncomeYear:
    tax_year: str  # empty when no Self Assessment return in the years HMRC keeps
    unearned: UnearnedIncome | None  # None: no return filed for the year


@dataclass(frozen=True)
class RtiIncome:
    employments: tuple[tuple[EmploymentView, tuple[RtiPayment, ...]], ...] = ()
    average_weekly_taxable_pay_pence: int = 0
    period_start: dt.date | None = None
    period_end: dt.date | None = None


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A match result and, only for a full match, the data (None for a full match with nothing held)."""

    match: MatchResult
    data: T | None = None
    extra: dict = field(default_factory=dict)


class HmrcPort(Protocol):
    def match(self, person: PersonToMatch) -> MatchResult: ...

    def child_benefit(
        self, claimant: PersonToMatch, children: list[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]: ...

    def other_children_benefit(
        self, claimant: PersonToMatch, children: list[ChildToFind], on: dt.date
    ) -> Answer[list[ChildBenefitStatus]]:
        """As child_benefit, but a child on the claimant's partner's claim counts too (relevant other children)."""
        ...

    def employment_status(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[EmploymentStatusView]: ...

    def earned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[EarnedIncome]: ...

    def employer_records(self, person: PersonToMatch, on: dt.date) -> Answer[EmployerRecords]: ...

    def live_employments(
        self, person: PersonToMatch, on: dt.date
    ) -> Answer[tuple[EmploymentView, ...]]: ...

    def unearned_income(
        self, person: PersonToMatch, on: dt.date, tax_year: str = ""
    ) -> Answer[UnearnedIncomeYear]: ...

    def rti_income(
        self, person: PersonToMatch, start: dt.date, end: dt.date
    ) -> Answer[RtiIncome]: ...
