"""The DWP port: CIS and Jobcentre Plus as the CMS needs them, and the domain types they speak. The simulator
implements it over the synthetic population (simulator/adapter.py); a client of the real CIS and JCP interfaces
would implement the same Protocols and nothing above them would change.

Every enquiry first reaches the system (`admit`): the real systems can refuse a call (maintenance window, outage,
throttling) with UNAVAILABLE or RESOURCE_EXHAUSTED and a retry delay, before anything is asked."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Protocol

# -- benefits as CIS records them -----------------------------------------------------------------------------------


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


class PaymentFrequency(enum.StrEnum):
    """How often an award is paid (Universal Credit monthly, per assessment period)."""

    WEEKLY = "WEEKLY"
    FORTNIGHTLY = "FORTNIGHTLY"
    FOUR_WEEKLY = "FOUR_WEEKLY"
    MONTHLY = "MONTHLY"


@dataclass(frozen=True)
class AwardComponent:
    type: str  # e.g. "PERSONAL_ALLOWANCE", "STANDARD_ALLOWANCE", "SUPPORT_COMPONENT"
    sub_type: str
    amount_pence: int  # per award payment
    payable: bool = True


@dataclass(frozen=True)
class PaymentSuspension:
    start_date: dt.date
    end_date: dt.date | None  # None: still suspended
    reason: str  # e.g. "FAILED_TO_ATTEND", "DOUBT_ON_ENTITLEMENT"

    def covers(self, on: dt.date) -> bool:
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)


@dataclass(frozen=True)
class BenefitAward:
    """One award as CIS holds it. A couple claim is listed under both people: `claimant_nino` leads,
    `partner_nino` is included (and may carry a deduction, Sch 9B)."""

    award_id: str
    benefit_type: BenefitType
    claimant_nino: str
    start_date: dt.date
    decision_date: dt.date
    amount_pence: int  # per payment
    payment_frequency: PaymentFrequency
    partner_nino: str = ""
    end_date: dt.date | None = None  # the last day of entitlement
    end_reason: AwardEndReason | None = None
    components: tuple[AwardComponent, ...] = ()
    suspensions: tuple[PaymentSuspension, ...] = ()
    # Universal Credit only: earnings in the current assessment period (Real Time Earnings), the day of the month
    # assessment periods start, the standard allowance and the deductions already taken from it.
    uc_earned_income: bool = False
    uc_assessment_day: int = 1
    uc_standard_allowance_monthly_pence: int = 0
    uc_third_party_deduction_count: int = 0
    uc_other_deductions_monthly_pence: int = 0
    # When CIS last heard from the benefit system: an old date on a live award is a stale CIS record.
    cis_updated_on: dt.date | None = None

    def live_on(self, on: dt.date) -> bool:
        """Started on or before `on` and not ended before it."""
        return self.start_date <= on and (self.end_date is None or self.end_date >= on)

    def suspended_on(self, on: dt.date) -> bool:
        """A payment suspension covers the day (an award can be live and suspended at once)."""
        return any(s.covers(on) for s in self.suspensions)


# -- people --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    lines: tuple[str, ...]
    post_town: str
    postcode: str
    country: str = "GB"


class Sex(enum.StrEnum):
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNSPECIFIED = "UNSPECIFIED"


@dataclass(frozen=True)
class Child:
    """A child as CIS links them to the parent who claims Child Benefit for them."""

    person_id: str  # CIS's opaque id: what the gateway audits instead of the Child Reference Number
    child_reference_number: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    relationship_start_date: dt.date


@dataclass(frozen=True)
class PersonRecord:
    """An adult's CIS record with the benefit awards listed under them (as claimant or partner), oldest first."""

    person_id: str  # CIS's opaque id: what the gateway audits and logs instead of the NINO
    nino: str
    title: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    address: Address
    sex: Sex = Sex.UNSPECIFIED
    previous_surnames: tuple[str, ...] = ()
    date_of_death: dt.date | None = None
    restricted: bool = False  # a special customer record: details withheld
    partner_nino: str = ""
    children: tuple[Child, ...] = ()  # relationship links, never closed (CIS keeps stale ones)
    benefit_awards: tuple[BenefitAward, ...] = ()

    @property
    def record_updated_on(self) -> dt.date | None:
        """When CIS last changed the record: its newest award update (None: never changed since it was made)."""
        dates = [a.cis_updated_on or a.decision_date for a in self.benefit_awards]
        return max(dates) if dates else None


# -- CIS enquiries -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NinoQuery:
    nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date
    postcode: str = ""


@dataclass(frozen=True)
class NinoVerification:
    found: bool
    failed_rules: tuple[str, ...] = ()
    nino: str = ""
    person_id: str = ""
    person: PersonRecord | None = None


@dataclass(frozen=True)
class ChildQuery:
    """By Child Reference Number, or (without one) among the children of `parent_nino`."""

    crn: str
    parent_nino: str
    forenames: str
    surname: str
    date_of_birth: dt.date


@dataclass(frozen=True)
class ChildVerification:
    found: bool
    failed_rules: tuple[str, ...] = ()
    person_id: str = ""
    child: Child | None = None
    parent: PersonRecord | None = None


@dataclass(frozen=True)
class AwardQuery:
    nino: str
    types: frozenset[BenefitType] = frozenset()  # empty: every type
    live_from: dt.date | None = None
    live_to: dt.date | None = None


@dataclass(frozen=True)
class BenefitAwards:
    """CIS Get Benefit Award Information: the matching awards, newest start first."""

    person_id: str
    record_updated_on: dt.date | None
    awards: tuple[BenefitAward, ...] = ()


class UpdateOutcome(enum.StrEnum):
    APPLIED = "APPLIED"
    REFERRED = "REFERRED"  # a restricted record: DWP staff apply it by hand
    ADDRESS_MISMATCH = "ADDRESS_MISMATCH"  # the old address given is not the one CIS holds


@dataclass(frozen=True)
class AddressUpdate:
    """CIS Send Update: a change of address, identified by the first line and postcode of the old one."""

    nino: str
    old_address_line_1: str
    old_postcode: str
    new_address: Address
    effective: dt.date


@dataclass(frozen=True)
class AddressUpdateResult:
    outcome: UpdateOutcome
    reference: str = ""  # CIS's update reference (none for a mismatch)


class AwardChange(enum.StrEnum):
    """What a CIS benefit broadcast reports."""

    AWARD_STARTED = "AWARD_STARTED"
    AMOUNT_CHANGED = "AMOUNT_CHANGED"
    SUSPENDED = "SUSPENDED"
    RESUMED = "RESUMED"
    AWARD_ENDED = "AWARD_ENDED"


class CisPort(Protocol):
    def admit(self) -> None:
        """Reach CIS for one enquiry; raises Unavailable or ResourceExhausted (with a retry delay) when refused."""
        ...

    def verify_nino(self, query: NinoQuery) -> NinoVerification:
        """CIS Verify NINO."""
        ...

    def verify_child(self, query: ChildQuery) -> ChildVerification:
        """CIS Verify CRN."""
        ...

    def person(self, nino: str) -> PersonRecord | None:
        """CIS Retrieve Personal Data (None: no record)."""
        ...

    def child(self, crn: str) -> tuple[PersonRecord, Child] | None:
        """A child's record through its Child Benefit claimant (None: no record)."""
        ...

    def awards(self, query: AwardQuery) -> BenefitAwards | None:
        """CIS Get Benefit Award Information (None: no record)."""
        ...

    def send_update(self, update: AddressUpdate) -> AddressUpdateResult:
        """CIS Send Update."""
        ...


# -- Jobcentre Plus: deductions from benefit -----------------------------------------------------------------------


class DeductionType(enum.StrEnum):
    STANDARD_FLAT_RATE = "STANDARD_FLAT_RATE"
    NON_STANDARD_FLAT_RATE = "NON_STANDARD_FLAT_RATE"
    ARREARS = "ARREARS"


class Rejection(enum.StrEnum):
    """Why a benefit decision maker refuses a deduction (docs/domain/external-systems.md §2.3)."""

    NO_LIVE_AWARD = "NO_LIVE_AWARD"
    AWARD_SUSPENDED = "AWARD_SUSPENDED"
    INSUFFICIENT_BENEFIT = "INSUFFICIENT_BENEFIT"
    THIRD_PARTY_DEDUCTION_LIMIT = "THIRD_PARTY_DEDUCTION_LIMIT"
    UNIVERSAL_CREDIT_DEDUCTION_CAP = "UNIVERSAL_CREDIT_DEDUCTION_CAP"
    DEDUCTION_ON_OTHER_BENEFIT = "DEDUCTION_ON_OTHER_BENEFIT"
    CLAIM_CLOSED_OR_MIGRATED = "CLAIM_CLOSED_OR_MIGRATED"
    UNIVERSAL_CREDIT_EARNED_INCOME = "UNIVERSAL_CREDIT_EARNED_INCOME"
    ONGOING_LIABILITY = "ONGOING_LIABILITY"
    OTHER = "OTHER"


@dataclass(frozen=True)
class JcpInstruction:
    """An automated or interface instruction waiting for Jobcentre Plus: the deduction asked for from an award."""

    beneficiary_nino: str
    award_id: str
    deduction_type: DeductionType
    maintenance_pence: int  # per award payment (the rest of the amount is the collection fee)
    start_date: dt.date


@dataclass(frozen=True)
class JcpDecision:
    """A benefit decision maker's answer to one instruction."""

    accepted: bool
    decided_on: dt.date
    decided_by: str
    start_date: dt.date | None = None  # accepted: the first deduction date
    rejection: Rejection | None = None
    detail: str = ""


class JobcentrePlusPort(Protocol):
    def admit(self) -> None:
        """Reach JCP for one instruction; raises Unavailable or ResourceExhausted (with a retry delay) when refused."""
        ...

    def decision_due(self, submitted: dt.datetime) -> dt.datetime:
        """When JCP's batch will have decided an automated or interface instruction submitted at `submitted`."""
        ...
