"""What each benefit means for the CMS, from the CMS procedures and the law (docs/domain/calculation.md §2.3,
docs/domain/money.md §9): the DWP system that administers it, the CIS business whose interest broadcasts its changes,
its flat-rate prescription (reg 44) and the route a deduction from it takes. Pure: gateway domain knowledge over the
port's benefit types, whichever CIS answers."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .port import BenefitAward
from .port import BenefitType as B


class System(enum.StrEnum):
    ISCS = "ISCS"
    JSAPS = "JSAPS"
    PSCS = "PSCS"
    UC_FULL_SERVICE = "UC_FULL_SERVICE"
    CACS = "CACS"
    DLACS = "DLACS"
    DEFENCE_BUSINESS_SERVICES = "DEFENCE_BUSINESS_SERVICES"
    OTHER = "OTHER"


class Business(enum.StrEnum):
    """CIS businesses; benefits without one (UC, IIDB, DBS payments, PIP/DLA) are never broadcast."""

    INCOME_SUPPORT = "INCOME_SUPPORT"
    JOBSEEKERS_ALLOWANCE = "JOBSEEKERS_ALLOWANCE"
    EMPLOYMENT_AND_SUPPORT_ALLOWANCE = "EMPLOYMENT_AND_SUPPORT_ALLOWANCE"
    PENSION_CREDIT = "PENSION_CREDIT"
    STATE_PENSION = "STATE_PENSION"
    INCAPACITY_BENEFIT = "INCAPACITY_BENEFIT"
    CARERS_ALLOWANCE = "CARERS_ALLOWANCE"
    MATERNITY_ALLOWANCE = "MATERNITY_ALLOWANCE"
    SEVERE_DISABLEMENT_ALLOWANCE = "SEVERE_DISABLEMENT_ALLOWANCE"
    BEREAVEMENT_BENEFITS = "BEREAVEMENT_BENEFITS"


class Prescription(enum.StrEnum):
    NOT_PRESCRIBED = "NOT_PRESCRIBED"
    OWN_RECEIPT = "OWN_RECEIPT"  # reg 44(1)
    PARENT_OR_PARTNER = "PARENT_OR_PARTNER"  # reg 44(2)


class Route(enum.StrEnum):
    AUTOMATED = "AUTOMATED"
    INTERFACE = "INTERFACE"
    NON_AUTOMATED = "NON_AUTOMATED"


@dataclass(frozen=True)
class BenefitFacts:
    system: System
    business: Business | None
    prescription: Prescription
    route: Route | None  # None: cannot carry a deduction


_OWN, _COUPLE, _NOT = (
    Prescription.OWN_RECEIPT,
    Prescription.PARENT_OR_PARTNER,
    Prescription.NOT_PRESCRIBED,
)
FACTS: dict[B, BenefitFacts] = {
    B.INCOME_SUPPORT: BenefitFacts(System.ISCS, Business.INCOME_SUPPORT, _COUPLE, Route.AUTOMATED),
    B.JOBSEEKERS_ALLOWANCE_INCOME_BASED: BenefitFacts(
        System.JSAPS, Business.JOBSEEKERS_ALLOWANCE, _COUPLE, Route.AUTOMATED
    ),
    B.JOBSEEKERS_ALLOWANCE_CONTRIBUTION_BASED: BenefitFacts(
        System.JSAPS, Business.JOBSEEKERS_ALLOWANCE, _OWN, Route.INTERFACE
    ),
    B.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_INCOME_RELATED: BenefitFacts(
        System.JSAPS, Business.EMPLOYMENT_AND_SUPPORT_ALLOWANCE, _COUPLE, Route.AUTOMATED
    ),
    B.EMPLOYMENT_AND_SUPPORT_ALLOWANCE_CONTRIBUTORY: BenefitFacts(
        System.JSAPS, Business.EMPLOYMENT_AND_SUPPORT_ALLOWANCE, _OWN, Route.INTERFACE
    ),
    B.PENSION_CREDIT: BenefitFacts(System.PSCS, Business.PENSION_CREDIT, _COUPLE, Route.INTERFACE),
    B.UNIVERSAL_CREDIT: BenefitFacts(System.UC_FULL_SERVICE, None, _COUPLE, Route.INTERFACE),
    B.STATE_PENSION: BenefitFacts(System.PSCS, Business.STATE_PENSION, _OWN, Route.NON_AUTOMATED),
    B.INCAPACITY_BENEFIT: BenefitFacts(
        System.OTHER, Business.INCAPACITY_BENEFIT, _OWN, Route.NON_AUTOMATED
    ),
    B.CARERS_ALLOWANCE: BenefitFacts(
        System.CACS, Business.CARERS_ALLOWANCE, _OWN, Route.NON_AUTOMATED
    ),
    B.MATERNITY_ALLOWANCE: BenefitFacts(
        System.OTHER, Business.MATERNITY_ALLOWANCE, _OWN, Route.NON_AUTOMATED
    ),
    B.SEVERE_DISABLEMENT_ALLOWANCE: BenefitFacts(
        System.OTHER, Business.SEVERE_DISABLEMENT_ALLOWANCE, _OWN, Route.NON_AUTOMATED
    ),
    B.INDUSTRIAL_INJURIES_DISABLEMENT_BENEFIT: BenefitFacts(
        System.OTHER, None, _OWN, Route.NON_AUTOMATED
    ),
    B.WIDOWED_PARENTS_ALLOWANCE: BenefitFacts(
        System.OTHER, Business.BEREAVEMENT_BENEFITS, _OWN, Route.NON_AUTOMATED
    ),
    B.WIDOWS_PENSION: BenefitFacts(
        System.OTHER, Business.BEREAVEMENT_BENEFITS, _OWN, Route.NON_AUTOMATED
    ),
    B.BEREAVEMENT_ALLOWANCE: BenefitFacts(System.OTHER, Business.BEREAVEMENT_BENEFITS, _NOT, None),
    B.BEREAVEMENT_SUPPORT_PAYMENT: BenefitFacts(System.OTHER, None, _NOT, None),
    B.TRAINING_ALLOWANCE: BenefitFacts(System.OTHER, None, _OWN, Route.NON_AUTOMATED),
    B.WAR_DISABLEMENT_PENSION: BenefitFacts(
        System.DEFENCE_BUSINESS_SERVICES, None, _OWN, Route.NON_AUTOMATED
    ),
    B.WAR_WIDOWS_PENSION: BenefitFacts(
        System.DEFENCE_BUSINESS_SERVICES, None, _OWN, Route.NON_AUTOMATED
    ),
    B.ARMED_FORCES_COMPENSATION_SCHEME: BenefitFacts(
        System.DEFENCE_BUSINESS_SERVICES, None, _OWN, Route.NON_AUTOMATED
    ),
    B.DISABILITY_LIVING_ALLOWANCE: BenefitFacts(System.DLACS, None, _NOT, None),
    B.PERSONAL_INDEPENDENCE_PAYMENT: BenefitFacts(System.OTHER, None, _NOT, None),
}


def prescription_of(award: BenefitAward) -> Prescription:
    """The award's flat-rate prescription: UC prescribes the flat rate only in an assessment period without
    earnings."""
    if award.benefit_type is B.UNIVERSAL_CREDIT and award.uc_earned_income:
        return Prescription.NOT_PRESCRIBED
    return FACTS[award.benefit_type].prescription


def flat_rate_benefit_in_payment(nino: str, live: Iterable[BenefitAward], on: dt.date) -> bool:
    """A live award not suspended on `on` that prescribes the flat rate for the person `nino`: for their own receipt
    (reg 44(1)) only as claimant; for a couple benefit (reg 44(2)) either way; UC only without earnings."""
    for a in live:
        if a.suspended_on(on):
            continue
        prescription = prescription_of(a)
        if prescription is Prescription.PARENT_OR_PARTNER or (
            prescription is Prescription.OWN_RECEIPT and a.claimant_nino == nino
        ):
            return True
    return False
