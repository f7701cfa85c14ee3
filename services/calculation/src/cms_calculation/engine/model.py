"""Inputs and outputs of one calculation, as plain data."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


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


class StepKind(enum.StrEnum):
    SCOPE = "SCOPE"
    INCOME = "INCOME"
    INCOME_CAP = "INCOME_CAP"
    CHILD_COUNT = "CHILD_COUNT"
    RATE = "RATE"
    APPORTIONMENT = "APPORTIONMENT"
    ROUNDING = "ROUNDING"
    COLLECTION_FEE = "COLLECTION_FEE"
    PAYMENT_FREQUENCY = "PAYMENT_FREQUENCY"


class Frequency(enum.StrEnum):
    WEEKLY = "WEEKLY"
    FORTNIGHTLY = "FORTNIGHTLY"
    FOUR_WEEKLY = "FOUR_WEEKLY"
    MONTHLY = "MONTHLY"


@dataclass(frozen=True)
class QualifyingChild:
    child_reference: str
    receiving_parent_reference: str
    shared_care_nights: int = 0


@dataclass(frozen=True)
class CalculationFacts:
    effective_date: dt.date
    hmrc_gross_annual_income_pence: int
    qualifying_children: tuple[QualifyingChild, ...]
    relevant_other_child_count: int = 0
    service_type: ServiceType = ServiceType.DIRECT_PAY


@dataclass(frozen=True)
class Step:
    kind: StepKind
    citation: str
    explanation: str
    amount_pence: int | None = None
    receiving_parent_reference: str = ""
    rule_set_parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReceivingParentAmount:
    receiving_parent_reference: str
    qualifying_child_count: int
    weekly_amount_pence: int
    paying_parent_fee_weekly_pence: int
    receiving_parent_fee_weekly_pence: int


@dataclass(frozen=True)
class ChildAmount:
    child_reference: str
    receiving_parent_reference: str
    weekly_amount_pence: int


@dataclass(frozen=True)
class CalculationResult:
    rate: Rate
    historic_weekly_income_pence: int
    gross_weekly_income_pence: int
    capped: bool
    roc_reduced_weekly_income_pence: int
    weekly_amount_pence: int
    receiving_parent_amounts: tuple[ReceivingParentAmount, ...]
    child_amounts: tuple[ChildAmount, ...]
    periodic_amounts: dict[Frequency, int]
    paying_parent_fee_basis_points: int
    receiving_parent_fee_basis_points: int
    steps: tuple[Step, ...] = field(default_factory=tuple)
    rule_set_version: str = ""
